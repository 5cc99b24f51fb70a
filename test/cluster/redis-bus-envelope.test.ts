import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Bus } from '../../src/bus/bus';
import { createRedisBus } from '../../src/bus/redis-bus';
import { createLogger } from '../../src/logger';
import { eventually, REDIS_URL, redisReachable, requireOrSkip } from './support';

const EVENTS = 30;
const CONTENT_BYTES = 100_000; // 30 of them: 3 MB published in one turn

describe('cluster: the Redis bus envelope (Redis)', () => {
  const prefix = `t_${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  const open = () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    clients.push(client);
    return client;
  };
  let bus: Bus;
  const envelopes: string[] = [];

  before(async function () {
    await requireOrSkip(this, async () => ((await redisReachable()) ? undefined : `Redis is not reachable at ${REDIS_URL}`));
    const [publisher, subscriber, listener] = [open(), open(), open()];
    await Promise.all(clients.map((client) => client.connect()));
    listener.on('message', (_channel: string, raw: string) => envelopes.push(raw));
    await listener.subscribe(`${prefix}bus`);
    bus = createRedisBus(publisher, subscriber, prefix, createLogger('silent'));
  });
  after(async () => {
    await bus?.close();
    for (const client of clients) client.disconnect();
  });

  it('sends the events of one turn in envelopes of about 1 MiB, all of them in order, not one envelope without bound', async () => {
    for (let i = 0; i < EVENTS; i += 1) bus.publish('push.sent', { tenantId: 'default', userId: `u${i}`, type: 'big', data: 'x'.repeat(CONTENT_BYTES) });
    await eventually('every event through Redis', 10_000, async () => {
      const received = envelopes.reduce((count, raw) => count + (JSON.parse(raw) as { events: unknown[] }).events.length, 0);
      return received === EVENTS ? true : undefined;
    });
    expect(envelopes.length).to.be.above(1);
    for (const raw of envelopes) expect(raw.length).to.be.below(1024 * 1024 + 2 * CONTENT_BYTES);
    const users = envelopes.flatMap((raw) => (JSON.parse(raw) as { events: Array<{ event: { userId: string } }> }).events.map(({ event }) => event.userId));
    expect(users).to.deep.equal(Array.from({ length: EVENTS }, (_, i) => `u${i}`));
  });
});

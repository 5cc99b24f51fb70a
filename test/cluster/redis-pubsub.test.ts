import { expect } from 'chai';
import type { TestSocket } from '../gateway/support';
import { postgresReachable, POSTGRES_URL } from '../support/server';
import type { Tokens } from '../support/users';
import { freeLoopbackPort, OwnRedis, readyz, RECOVERY_MS, REDIS_START_MS, redisServerBinary } from './own-redis';
import { bearer, Cluster, newUser, requireOrSkip, START_TIMEOUT_MS, startConversation, type Node } from './support';

const ALL_READY = { database: 'ok', redis: 'ok', redis_pubsub: 'ok' };

describe('cluster: the Redis pub/sub connection of each process (PostgreSQL + a redis-server of its own)', () => {
  let redis: OwnRedis;
  let cluster: Cluster;
  let node1: Node;
  let node2: Node;
  let alice: Tokens;
  let conversation: string;
  let bobSocket: TestSocket;

  /** Posts on node 1 as alice and resolves once bob's socket on node 2 got the message live (through Redis). */
  async function expectDeliveredAcross(content: string): Promise<void> {
    const since = bobSocket.frames.length;
    const posted = await node1.request.post(`/messages/${conversation}`).set(bearer(alice.access_token)).send({ content });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
    const frame = await bobSocket.waitFor((candidate) => candidate.type === 'message', { since });
    expect(frame.message).to.deep.equal(posted.body);
  }

  // The processes start while their Redis is not running yet.
  before(async function () {
    this.timeout(START_TIMEOUT_MS + 10_000);
    const binary = redisServerBinary();
    await requireOrSkip(this, async () => (binary ? undefined : 'redis-server is not on the PATH'));
    await requireOrSkip(this, async () => ((await postgresReachable()) ? undefined : `PostgreSQL is not reachable at ${POSTGRES_URL}`));
    redis = new OwnRedis(binary!, await freeLoopbackPort());
    cluster = new Cluster(redis.url);
    [node1, node2] = (await cluster.start(2)) as [Node, Node];
  });
  after(async () => {
    await cluster?.close();
    await redis?.kill();
  });

  it('is not ready while Redis has never answered, and becomes ready and delivers across processes once it does', async function () {
    this.timeout(REDIS_START_MS + 2 * RECOVERY_MS + 10_000);
    for (const node of [node1, node2]) {
      const { body } = await readyz(node, 503);
      expect(body.checks.database).to.equal('ok');
      expect(body.checks.redis).to.match(/^unavailable/);
      expect(body.checks.redis_pubsub).to.match(/^unavailable/);
    }

    await redis.start();
    for (const node of [node1, node2]) expect((await readyz(node, 200)).body).to.deep.equal({ status: 'ok', checks: ALL_READY });
    alice = await newUser(node1, 'alice');
    const bob = await newUser(node2, 'bob');
    conversation = await startConversation(node1, alice.access_token, ['bob']);
    bobSocket = await cluster.connect(node2, 'bob', { token: bob.access_token });
    await expectDeliveredAcross('the first message through redis');
  });

  it('answers /readyz 503 naming redis_pubsub while only the pub/sub connections are down, and 200 again once they are back', async function () {
    this.timeout(2 * RECOVERY_MS + 10_000);
    const { dropped, acceptConnections } = await redis.dropPubSubConnections();
    try {
      expect(dropped, 'pub/sub connections dropped: one per process').to.equal(2);
      for (const node of [node1, node2]) {
        const { body } = await readyz(node, 503);
        expect(body.status).to.equal('unavailable');
        expect(body.checks.database).to.equal('ok');
        expect(body.checks.redis, 'the command connection is still up').to.equal('ok');
        expect(body.checks.redis_pubsub).to.match(/^unavailable/);
      }
    } finally {
      await acceptConnections();
    }
    for (const node of [node1, node2]) expect((await readyz(node, 200)).body).to.deep.equal({ status: 'ok', checks: ALL_READY });
    await expectDeliveredAcross('delivered again after the pub/sub connection came back');
  });
});

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryProofReplayStore, RedisProofReplayStore } from '../../src/auth/dpop-replay';
import { createLogger } from '../../src/logger';
import { connectRedis, type RedisConnections } from '../../src/redis';
import { REDIS_URL, redisReachable, requireOrSkip } from '../cluster/support';
import { freeLoopbackPort } from '../cluster/own-redis';

const TTL_MS = 125_000;
const silent = () => createLogger('silent');

describe('DPoP proof replay stores (RFC 9449 §11.1)', () => {
  it('remembers a proof id in memory for its whole window, and forgets it after', async () => {
    const store = new MemoryProofReplayStore();
    const now = Date.now();
    expect(await store.firstUse('a', TTL_MS, now)).to.equal(true);
    expect(await store.firstUse('a', TTL_MS, now + TTL_MS - 1)).to.equal(false);
    expect(await store.firstUse('b', TTL_MS, now + 1)).to.equal(true);
    expect(await store.firstUse('a', TTL_MS, now + TTL_MS)).to.equal(true);
  });

  describe('in Redis', () => {
    const connections: RedisConnections[] = [];
    const prefix = `tessera-test-${randomBytes(6).toString('hex')}:`;
    before(async function () {
      await requireOrSkip(this, async () => ((await redisReachable()) ? undefined : `Redis is not reachable at ${REDIS_URL}`));
    });
    after(async () => {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await Promise.all(connections.map((connection) => connection.close()));
    });
    /** The store of one process, once its Redis connection is ready (commands fail fast before). */
    const storeOfAProcess = async () => {
      const connection = connectRedis(REDIS_URL, prefix, silent());
      connections.push(connection);
      if (connection.commands.status !== 'ready') await new Promise((resolve) => connection.commands.once('ready', resolve));
      return new RedisProofReplayStore(connection.commands, prefix, silent());
    };

    it('refuses in one process a proof id another process saw, and keeps it under REDIS_PREFIX with an expiry', async () => {
      const [first, second] = [await storeOfAProcess(), await storeOfAProcess()];
      expect(await first.firstUse('proof-1', TTL_MS)).to.equal(true);
      expect(await second.firstUse('proof-1', TTL_MS)).to.equal(false);
      const ttl = await connections[0]!.commands.pttl(`${prefix}dpop:jti:proof-1`);
      expect(ttl).to.be.within(1, TTL_MS);
    });
  });

  it('with Redis unreachable, still refuses a replay to the same process, answers at once and warns once', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const connection = connectRedis(`redis://127.0.0.1:${await freeLoopbackPort()}`, 'x:', silent());
    try {
      const store = new RedisProofReplayStore(connection.commands, 'x:', logger);
      expect(await store.firstUse('proof-2', TTL_MS)).to.equal(true);
      expect(await store.firstUse('proof-2', TTL_MS)).to.equal(false);
      expect(await store.firstUse('proof-3', TTL_MS)).to.equal(true);
      expect(lines.filter((line) => line.includes('DPoP replay check without redis'))).to.have.length(1);
    } finally {
      await connection.close();
    }
  });
});

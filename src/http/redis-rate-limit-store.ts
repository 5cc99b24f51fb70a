import { MemoryStore, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import type { Logger } from '../logger';
import type { RateLimitStoreFactory } from './rate-limits';

/**
 * Counts in Redis so limits hold for the whole cluster; while Redis is away
 * it counts in this process instead, so limits loosen to per-process but
 * never vanish, and requests never wait for Redis.
 */
class RedisWithFallbackStore implements Store {
  private readonly redis: RedisStore;
  private readonly memory = new MemoryStore();

  constructor(
    client: Redis,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.redis = new RedisStore({ prefix, sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as never });
    // The store loads its scripts at construction; with Redis away that fails, and it reloads on first use.
    for (const loading of [this.redis.incrementScriptSha, this.redis.getScriptSha]) loading.catch(() => undefined);
  }

  init(options: Options): void {
    this.redis.init(options);
    this.memory.init(options);
  }

  private async either<T>(redis: () => Promise<T>, memory: () => Promise<T> | T): Promise<T> {
    try {
      return await redis();
    } catch (error) {
      this.logger.debug({ err: String(error), prefix: this.prefix }, 'rate limit counted in memory: redis unavailable');
      return memory();
    }
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.either(() => this.redis.increment(key), () => this.memory.increment(key));
  }

  async decrement(key: string): Promise<void> {
    await this.either(() => this.redis.decrement(key), () => this.memory.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await this.either(() => this.redis.resetKey(key), () => this.memory.resetKey(key));
  }
}

export function redisRateLimitStores(client: Redis, prefix: string, logger: Logger): RateLimitStoreFactory {
  return (name) => new RedisWithFallbackStore(client, `${prefix}${name}`, logger);
}

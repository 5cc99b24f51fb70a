import { Redis } from 'ioredis';
import type { Logger } from './logger';

/** The Redis connections of one process: commands fail fast when Redis is away; the subscriber reconnects (the bus subscribes on each connection). */
export interface RedisConnections {
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly prefix: string;
  close(): Promise<void>;
}

const retryStrategy = (attempt: number) => Math.min(200 * 2 ** Math.min(attempt, 6), 5_000);

export function connectRedis(url: string, prefix: string, logger: Logger): RedisConnections {
  const options = { lazyConnect: false, retryStrategy, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  // Requests never wait for Redis to come back: a command fails at once and the caller degrades.
  const commands = new Redis(url, { ...options, enableOfflineQueue: false });
  const subscriber = new Redis(url, { ...options, autoResubscribe: false });
  let warned = false;
  for (const connection of [commands, subscriber]) {
    connection.on('error', (error: Error) => {
      if (!warned) logger.warn({ err: error.message }, 'redis unavailable; retrying with backoff');
      warned = true;
    });
    connection.on('ready', () => {
      if (warned) logger.info('redis connection restored');
      warned = false;
    });
  }
  return {
    commands,
    subscriber,
    prefix,
    async close() {
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

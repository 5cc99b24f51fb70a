import type { Logger } from '../logger';
import type { Services } from '../services';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: PromiseLike<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

// The probe is public: it names the failing check, never the error's text (host names, addresses, SQL), which goes to the log.
const outcome = (name: string, work: PromiseLike<unknown>, logger: Logger) =>
  withTimeout(work).then(
    () => 'ok',
    (error: unknown) => {
      logger.warn({ check: name, err: error instanceof Error ? error.message : String(error) }, 'readiness check failed');
      return 'unavailable';
    },
  );

/**
 * `/readyz`: the database answers and, when configured, both Redis connections
 * do: `redis` for commands (rate limits, tickets, publishing) and
 * `redis_pubsub`, which brings the events of other processes. The checks run
 * at once, each bounded so the probe never hangs.
 */
export async function readiness({ db, redis, bus, logger }: Services): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const work: Record<string, PromiseLike<unknown>> = {
    database: db.raw('select 1'),
    ...(redis ? { redis: redis.commands.ping(), redis_pubsub: bus.probe() } : {}),
  };
  const checks = Object.fromEntries(await Promise.all(Object.entries(work).map(async ([name, check]) => [name, await outcome(name, check, logger)] as const)));
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}

import type { Services } from '../services';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

const outcome = (work: Promise<unknown>) =>
  withTimeout(work).then(
    () => 'ok',
    (error: unknown) => `unavailable: ${error instanceof Error ? error.message : String(error)}`,
  );

/** `/readyz`: the database answers and, when configured, Redis does; each check bounded so the probe never hangs. */
export async function readiness({ db, redis }: Services): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = { database: await outcome(db.raw('select 1')) };
  if (redis) checks.redis = await outcome(redis.commands.ping());
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}

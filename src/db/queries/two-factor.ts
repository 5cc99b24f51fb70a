import type { Knex } from 'knex';
import { knexReads, type Reads } from '../reads';

export interface TwoFactorRow {
  user_id: string;
  tenant_id: string;
  secret: string;
  confirmed_at: number | null;
  last_step: number | null;
  failures: number;
  failures_since: number;
  created_at: number;
}

type Key = Pick<TwoFactorRow, 'tenant_id' | 'user_id'>;

const CONFIRMED_AT = 'SELECT confirmed_at FROM two_factor WHERE tenant_id = ? AND user_id = ?';

/** TOTP enrolments: pending until confirmed, one per user. */
export function createTwoFactorQueries(db: Knex, reads: Reads = knexReads(db)) {
  const rows = () => db<TwoFactorRow>('two_factor');
  return {
    /** True when the user has a confirmed enrolment: asked at every password sign-in, so plain SQL. */
    async isConfirmed({ tenant_id, user_id }: Key): Promise<boolean> {
      return (await reads.row<Pick<TwoFactorRow, 'confirmed_at'>>(CONFIRMED_AT, [tenant_id, user_id]))?.confirmed_at != null;
    },
    async find(key: Key): Promise<TwoFactorRow | undefined> {
      return rows().where(key).first();
    },
    /** Stores a pending enrolment in place of an earlier pending one; false when a confirmed one exists (never replaced). */
    async upsertPending(row: TwoFactorRow): Promise<boolean> {
      await rows().insert(row).onConflict('user_id').merge().whereNull('two_factor.confirmed_at');
      return (await rows().where({ tenant_id: row.tenant_id, user_id: row.user_id }).first())?.secret === row.secret;
    },
    /** Turns on the pending enrolment of this secret (the one its first code was checked against); false when it changed meanwhile. */
    async confirm(key: Key, secret: string, step: number, now: number): Promise<boolean> {
      return (await rows().where({ ...key, secret }).whereNull('confirmed_at').update({ confirmed_at: now, last_step: step })) > 0;
    },
    /** Records `step` as used; false when it or a later step was used already (a replay). */
    async useStep(key: Key, step: number): Promise<boolean> {
      const changed = await rows()
        .where(key)
        .whereNotNull('confirmed_at')
        .where((q) => q.whereNull('last_step').orWhere('last_step', '<', step))
        .update({ last_step: step });
      return changed > 0;
    },
    /**
     * Counts a try at a code of a confirmed enrolment before it is checked (a right code then clears
     * the count), in one statement, so concurrent tries cannot pass the limit together; false when
     * there is no confirmed enrolment or `limit` tries were made in the window (a window that
     * started at or before `windowStart` is over, and a new one begins).
     */
    async spendAttempt(key: Key, limit: number, now: number, windowStart: number): Promise<boolean> {
      const changed = await rows()
        .where(key)
        .whereNotNull('confirmed_at')
        .where((q) => q.where('failures', '<', limit).orWhere('failures_since', '<=', windowStart))
        .update({
          failures: db.raw('CASE WHEN failures_since <= ? THEN 1 ELSE failures + 1 END', [windowStart]),
          failures_since: db.raw('CASE WHEN failures_since <= ? THEN ? ELSE failures_since END', [windowStart, now]),
        });
      return changed > 0;
    },
    async clearFailures(key: Key): Promise<void> {
      await rows().where(key).update({ failures: 0, failures_since: 0 });
    },
    async remove(key: Key): Promise<boolean> {
      return (await rows().where(key).delete()) > 0;
    },
  };
}

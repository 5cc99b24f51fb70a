import type { Knex } from 'knex';

export type ChallengePurpose = 'registration' | 'authentication';

export interface WebAuthnChallengeRow {
  id: string;
  tenant_id: string;
  /** The user enrolling; null for a discoverable sign-in, where nobody is known yet. */
  user_id: string | null;
  purpose: ChallengePurpose;
  /** base64url, as sent in the options and echoed in clientDataJSON. */
  challenge: string;
  created_at: number;
  expires_at: number;
}

type Match = Pick<WebAuthnChallengeRow, 'tenant_id' | 'user_id' | 'purpose'> & Partial<Pick<WebAuthnChallengeRow, 'id' | 'challenge'>>;

/** The challenges of WebAuthn ceremonies, in the database so that every process sees them (issue 21). */
export function createWebAuthnChallengeQueries(db: Knex) {
  const rows = () => db<WebAuthnChallengeRow>('webauthn_challenges');
  return {
    async insert(row: WebAuthnChallengeRow): Promise<void> {
      await rows().insert(row);
    },
    /**
     * Takes a live challenge matching `match` out of the store and returns it; undefined when there is
     * none, or when a concurrent request took it first (the delete decides: single use).
     */
    async take(match: Match, now: number): Promise<WebAuthnChallengeRow | undefined> {
      const { user_id: userId, ...rest } = match;
      const row = await rows()
        .where(rest)
        .where((q) => (userId === null ? q.whereNull('user_id') : q.where('user_id', userId)))
        .where('expires_at', '>', now)
        .first();
      if (!row) return undefined;
      return (await rows().where({ id: row.id }).delete()) > 0 ? row : undefined;
    },
    async deleteExpired(now: number): Promise<number> {
      return rows().where('expires_at', '<=', now).delete();
    },
  };
}

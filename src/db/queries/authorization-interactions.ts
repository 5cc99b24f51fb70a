import type { Knex } from 'knex';

export interface InteractionRow {
  id: string;
  tenant_id: string;
  /** The validated authorization request, as JSON. */
  request: string;
  csrf_hash: string;
  browser_hash: string;
  /** Set once the password was right and a second factor is awaited. */
  user_id: string | null;
  /** The passkey challenge this login page was given; a new one replaces it. */
  passkey_challenge_id: string | null;
  expires_at: number;
}

/** Sign-ins and consents in progress at the authorization endpoint. */
export function createInteractionQueries(db: Knex) {
  const rows = () => db<InteractionRow>('authorization_interactions');
  return {
    async insert(row: InteractionRow): Promise<void> {
      await rows().insert(row);
    },
    async findLive(tenantId: string, id: string, now: number): Promise<InteractionRow | undefined> {
      return rows().where({ tenant_id: tenantId, id }).where('expires_at', '>', now).first();
    },
    async setUser(id: string, userId: string): Promise<void> {
      await rows().where({ id }).update({ user_id: userId });
    },
    async setPasskeyChallenge(id: string, challengeId: string): Promise<void> {
      await rows().where({ id }).update({ passkey_challenge_id: challengeId });
    },
    /** Ends an interaction; false when another request ended it first. */
    async remove(id: string): Promise<boolean> {
      return (await rows().where({ id }).delete()) > 0;
    },
    async deleteExpired(now: number): Promise<number> {
      return rows().where('expires_at', '<=', now).delete();
    },
  };
}

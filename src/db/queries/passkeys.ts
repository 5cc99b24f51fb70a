import type { Knex } from 'knex';

export interface PasskeyRow {
  id: string;
  tenant_id: string;
  user_id: string;
  /** base64url, as the browser reports it. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** Comma-separated AuthenticatorTransport values. */
  transports: string;
  device_type: string;
  backed_up: boolean;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

type StoredPasskey = Omit<PasskeyRow, 'backed_up'> & { backed_up: boolean | number };
type UserKey = Pick<PasskeyRow, 'tenant_id' | 'user_id'>;
type PasskeyKey = UserKey & Pick<PasskeyRow, 'id'>;

// SQLite answers booleans as 0/1.
const fromStored = (row: StoredPasskey): PasskeyRow => ({ ...row, backed_up: Boolean(row.backed_up) });

/** WebAuthn credentials, each of one user of one tenant (issue 21). */
export function createPasskeyQueries(db: Knex) {
  const rows = () => db<StoredPasskey>('passkeys');
  return {
    async insert(row: PasskeyRow): Promise<void> {
      await rows().insert(row);
    },
    /** The user's passkeys, oldest first. */
    async listForUser(key: UserKey): Promise<PasskeyRow[]> {
      return (await rows().where(key).orderBy([{ column: 'created_at' }, { column: 'id' }])).map(fromStored);
    },
    async find(key: PasskeyKey): Promise<PasskeyRow | undefined> {
      const row = await rows().where(key).first();
      return row && fromStored(row);
    },
    /** The credential a sign-in presents, looked up in its tenant only. */
    async findByCredential(tenantId: string, credentialId: string): Promise<PasskeyRow | undefined> {
      const row = await rows().where({ tenant_id: tenantId, credential_id: credentialId }).first();
      return row && fromStored(row);
    },
    async rename(key: PasskeyKey, name: string): Promise<boolean> {
      return (await rows().where(key).update({ name })) > 0;
    },
    async remove(key: PasskeyKey): Promise<boolean> {
      return (await rows().where(key).delete()) > 0;
    },
    /**
     * Records a verified use: the new counter and the time, only if the counter is still the one the
     * signature was checked against, so two concurrent uses of one assertion cannot both pass.
     */
    async recordUse(id: string, expectedCounter: number, counter: number, now: number): Promise<boolean> {
      return (await rows().where({ id, counter: expectedCounter }).update({ counter, last_used_at: now })) > 0;
    },
  };
}

import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Knex } from 'knex';
import { createServerSecretQueries } from '../db/queries/server-secrets';

const STORED_KEY_NAME = 'account_code_key';

/**
 * The keyed hash under which e-mailed codes are stored. A code has only 10^6 values, so any
 * unkeyed hash of it (salted or not) is reversed from a leaked row in a million tries; an HMAC
 * is not, without its key. The key is ACCOUNT_CODE_KEY, kept apart from the database; unset, a
 * random key made on first use and kept in the database (which still protects a leaked table or
 * backup of codes, though not a leaked database).
 */
export class AccountCodeKey {
  private key: Promise<KeyObject> | undefined;

  constructor(
    private readonly db: Knex,
    private readonly configured: string | undefined,
  ) {}

  /** HMAC-SHA-256 of the parts (joined with NUL), as hex. */
  async hash(...parts: string[]): Promise<string> {
    return createHmac('sha256', await this.load()).update(parts.join('\0')).digest('hex');
  }

  private load(): Promise<KeyObject> {
    this.key ??= this.read().catch((error: unknown) => {
      // The database away at first use must not stick: the next code tries again.
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async read(): Promise<KeyObject> {
    const secret =
      this.configured ?? (await createServerSecretQueries(this.db).findOrInsert(STORED_KEY_NAME, randomBytes(32).toString('base64url'), Date.now()));
    return createSecretKey(Buffer.from(secret, 'utf8'));
  }
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { createServerSecretQueries } from '../db/queries/server-secrets';

const STORED_KEY_NAME = 'dpop_nonce_key';
/** How long one nonce is handed out; a nonce is accepted in its window and the next (RFC 9449 §8, §9). */
export const NONCE_WINDOW_MS = 300_000; // 5 min

/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) without shared state: a
 * nonce is an HMAC of a five-minute window under a key every process reads
 * from the database, so any process accepts the nonce any other handed out,
 * for five to ten minutes.
 */
export class DpopNonces {
  private key: Promise<Buffer> | undefined;
  private cached: { window: number; nonce: string } | undefined;

  constructor(private readonly db: Knex) {}

  /** The nonce to hand out now. */
  async current(now = Date.now()): Promise<string> {
    return this.of(Math.floor(now / NONCE_WINDOW_MS));
  }

  /** True for the nonce of this window or the one before. */
  async accepts(nonce: unknown, now = Date.now()): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce.length > 64) return false;
    const window = Math.floor(now / NONCE_WINDOW_MS);
    for (const candidate of [await this.of(window), await this.of(window - 1)]) {
      if (candidate.length === nonce.length && timingSafeEqual(Buffer.from(candidate), Buffer.from(nonce))) return true;
    }
    return false;
  }

  private async of(window: number): Promise<string> {
    if (this.cached?.window === window) return this.cached.nonce;
    const nonce = createHmac('sha256', await this.load()).update(`tessera dpop nonce\0${window}`).digest('base64url').slice(0, 32);
    if (this.cached === undefined || window > this.cached.window) this.cached = { window, nonce };
    return nonce;
  }

  private load(): Promise<Buffer> {
    this.key ??= createServerSecretQueries(this.db)
      .findOrInsert(STORED_KEY_NAME, randomBytes(32).toString('base64url'), Date.now())
      .then((secret) => Buffer.from(secret, 'utf8'))
      .catch((error: unknown) => {
        // The database away at first use must not stick: the next proof tries again.
        this.key = undefined;
        throw error;
      });
    return this.key;
  }
}

import { createHash, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Knex } from 'knex';
import { createSigningKeyQueries, type SigningKeyRow } from '../db/queries/signing-keys';

export type JwtAlgorithm = 'ES256' | 'RS256' | 'HS256';

/** A key as the signer and verifier use it: parsed once into KeyObjects (PERF-NOTES). */
export interface SigningKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  readonly privateKey: KeyObject;
  readonly verifyKey: KeyObject;
  readonly publicJwk: JsonWebKey | undefined;
  readonly createdAt: number;
  readonly retiredAt: number | null;
}

export interface KeyRingOptions {
  readonly tenantId: string;
  readonly alg: JwtAlgorithm;
  readonly secret: string | undefined;
  /** How long a retired key stays published, in ms: the access-token lifetime and leeway, plus how long other processes may take to reload keys. */
  readonly retiredKeyLifetimeMs: number;
}

// RFC 7638 §3.2: the required members, in lexicographic order.
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function generateKeyRow(tenantId: string, alg: 'ES256' | 'RS256', now: number): SigningKeyRow {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return {
    kid,
    tenant_id: tenantId,
    alg,
    public_jwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }),
    private_key: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    created_at: now,
    retired_at: null,
  };
}

function toSigningKey(row: SigningKeyRow): SigningKey {
  const privateKey = createPrivateKey(row.private_key);
  return {
    kid: row.kid,
    alg: row.alg as JwtAlgorithm,
    privateKey,
    verifyKey: createPublicKey(privateKey),
    publicJwk: JSON.parse(row.public_jwk) as JsonWebKey,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

function secretKey(secret: string): SigningKey {
  const key = createSecretKey(Buffer.from(secret));
  const kid = `hs-${createHash('sha256').update(secret).digest('base64url').slice(0, 16)}`;
  return { kid, alg: 'HS256', privateKey: key, verifyKey: key, publicJwk: undefined, createdAt: 0, retiredAt: null };
}

/**
 * The signing keys of one tenant. Asymmetric keys live in the database, so
 * every process signs and verifies with the same ones; the newest unretired
 * key of the configured algorithm signs, and retired keys stay published
 * until the last token they signed has expired.
 */
export class KeyRing {
  private keys = new Map<string, SigningKey>();
  private active: SigningKey | undefined;
  private lastReload = 0;

  constructor(
    private readonly db: Knex,
    private readonly options: KeyRingOptions,
  ) {}

  /** Loads the keys, creating the first one when there is none. */
  async load(now = Date.now()): Promise<void> {
    if (this.options.alg === 'HS256') {
      const key = secretKey(this.options.secret ?? '');
      this.keys = new Map([[key.kid, key]]);
      this.active = key;
      return;
    }
    const queries = createSigningKeyQueries(this.db);
    let rows = await queries.listPublished(this.options.tenantId, now - this.options.retiredKeyLifetimeMs);
    if (!rows.some((row) => row.retired_at === null && row.alg === this.options.alg)) {
      await this.rotate(now);
      rows = await queries.listPublished(this.options.tenantId, now - this.options.retiredKeyLifetimeMs);
    }
    this.install(rows);
    this.lastReload = now;
  }

  /** Adds a new signing key and retires the others; returns the new key id. */
  async rotate(now = Date.now()): Promise<string> {
    if (this.options.alg === 'HS256') throw new Error('HS256 keys come from JWT_SECRET; change the secret to rotate');
    const row = generateKeyRow(this.options.tenantId, this.options.alg, now);
    await this.db.transaction(async (trx) => {
      const queries = createSigningKeyQueries(trx);
      await queries.insert(row);
      await queries.retireAllExcept(this.options.tenantId, row.kid, now);
    });
    const rows = await createSigningKeyQueries(this.db).listPublished(this.options.tenantId, now - this.options.retiredKeyLifetimeMs);
    this.install(rows);
    return row.kid;
  }

  private install(rows: SigningKeyRow[]): void {
    const keys = new Map<string, SigningKey>();
    for (const row of rows) {
      const known = this.keys.get(row.kid);
      keys.set(row.kid, known ? { ...known, retiredAt: row.retired_at } : toSigningKey(row));
    }
    this.keys = keys;
    this.active = [...keys.values()].find((key) => key.retiredAt === null && key.alg === this.options.alg);
  }

  /** The key that signs new tokens. */
  signingKey(): SigningKey {
    if (!this.active) throw new Error('key ring not loaded');
    return this.active;
  }

  /** A published key by id, or undefined. */
  verificationKey(kid: string): SigningKey | undefined {
    return this.keys.get(kid);
  }

  /**
   * Reloads from the database when a token names a key this process has not
   * seen (another process rotated), at most once a second.
   */
  async reloadForUnknownKid(kid: string, now = Date.now()): Promise<SigningKey | undefined> {
    if (this.options.alg !== 'HS256' && now - this.lastReload >= 1_000) await this.load(now);
    return this.keys.get(kid);
  }

  /** Every published key, newest first. */
  list(): SigningKey[] {
    return [...this.keys.values()];
  }

  /** RFC 7517 JSON Web Key Set of the published public keys (empty for HS256). */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.list().flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) };
  }
}

import { createHash, createPrivateKey, createPublicKey, createSecretKey, generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { createSigningKeyQueries, type SigningKeyRow } from '../db/queries/signing-keys';

export type JwtAlgorithm = 'ES256' | 'RS256' | 'HS256';
export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;
/**
 * Every tenant keeps a signing key of each: access tokens use JWT_ALG, id tokens the client's
 * `id_token_signed_response_alg` (OIDC Discovery §3 requires RS256 to be offered).
 */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['ES256', 'RS256'];

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

const generatePair = promisify(generateKeyPair);

// Off the event loop: an RSA key takes a quarter of a second, which every request would wait for.
async function generateKeyRow(tenantId: string, alg: AsymmetricAlgorithm, now: number): Promise<SigningKeyRow> {
  const pair = alg === 'ES256' ? await generatePair('ec', { namedCurve: 'P-256' }) : await generatePair('rsa', { modulusLength: 2048 });
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
 * The signing keys of one tenant. Asymmetric keys live in the database, so every process signs and
 * verifies with the same ones; the newest unretired key of each algorithm signs (JWT_ALG's access
 * tokens, id tokens of either), and retired keys stay published until the last token they signed
 * has expired. With HS256 access tokens are signed with JWT_SECRET and the asymmetric keys sign only
 * id tokens.
 */
export class KeyRing {
  private keys = new Map<string, SigningKey>();
  private active = new Map<JwtAlgorithm, SigningKey>();
  private lastReload = 0;
  /** True when the last load added a first key (another process starting at once may have too). */
  private createdAtLastLoad = false;
  /** The reload that tokens naming an unknown key wait for in the second after such a load. */
  private pendingReload: Promise<void> | undefined;

  constructor(
    private readonly db: Knex,
    private readonly options: KeyRingOptions,
  ) {}

  /** Loads the keys, creating a first one of each asymmetric algorithm that has none. */
  async load(now = Date.now()): Promise<void> {
    const queries = createSigningKeyQueries(this.db);
    const published = () => queries.listPublished(this.options.tenantId, now - this.options.retiredKeyLifetimeMs);
    let rows = await published();
    const missing = ASYMMETRIC_ALGORITHMS.filter((alg) => !rows.some((row) => row.retired_at === null && row.alg === alg));
    if (missing.length > 0) {
      // Several processes may start at once: each adds its own key, and the newest signs.
      for (const row of await Promise.all(missing.map((alg) => generateKeyRow(this.options.tenantId, alg, now)))) await queries.insert(row);
      rows = await published();
    }
    this.install(rows);
    this.lastReload = now;
    this.createdAtLastLoad = missing.length > 0;
  }

  /** Adds a new signing key of each asymmetric algorithm and retires the others; returns the id of the one that signs access tokens (RS256's with HS256). */
  async rotate(now = Date.now()): Promise<string> {
    const rows = await Promise.all(ASYMMETRIC_ALGORITHMS.map((alg) => generateKeyRow(this.options.tenantId, alg, now)));
    await this.db.transaction(async (trx) => {
      const queries = createSigningKeyQueries(trx);
      for (const row of rows) await queries.insert(row);
      await queries.retireAllExcept(this.options.tenantId, rows.map((row) => row.kid), now);
    });
    this.install(await createSigningKeyQueries(this.db).listPublished(this.options.tenantId, now - this.options.retiredKeyLifetimeMs));
    const accessAlg = this.options.alg === 'HS256' ? 'RS256' : this.options.alg;
    return rows.find((row) => row.alg === accessAlg)!.kid;
  }

  private install(rows: SigningKeyRow[]): void {
    const keys = new Map<string, SigningKey>();
    if (this.options.alg === 'HS256') {
      const secret = secretKey(this.options.secret ?? '');
      keys.set(secret.kid, secret);
    }
    for (const row of rows) {
      const known = this.keys.get(row.kid);
      keys.set(row.kid, known ? { ...known, retiredAt: row.retired_at } : toSigningKey(row));
    }
    const active = new Map<JwtAlgorithm, SigningKey>();
    // Rows come newest first: the first unretired key of an algorithm signs.
    for (const key of keys.values()) if (key.retiredAt === null && !active.has(key.alg)) active.set(key.alg, key);
    this.keys = keys;
    this.active = active;
  }

  /** The key that signs new access tokens (JWT_ALG). */
  signingKey(): SigningKey {
    return this.signingKeyFor(this.options.alg);
  }

  /** The key that signs new tokens with `alg` (id tokens: the client's algorithm). */
  signingKeyFor(alg: JwtAlgorithm): SigningKey {
    const key = this.active.get(alg);
    if (!key) throw new Error(`key ring not loaded (no ${alg} key)`);
    return key;
  }

  /** A published key by id, or undefined. */
  verificationKey(kid: string): SigningKey | undefined {
    return this.keys.get(kid);
  }

  /**
   * Reloads from the database when a token names a key this process has not
   * seen (another process rotated), at most once a second. Right after this
   * process added a first key, another one starting at the same moment may have
   * added its own: a token signed with it waits for the next reload (shared by
   * every such token) instead of being refused.
   */
  async reloadForUnknownKid(kid: string, now = Date.now()): Promise<SigningKey | undefined> {
    const wait = this.lastReload + 1_000 - now;
    if (wait <= 0) await this.load(now);
    else if (this.createdAtLastLoad) {
      this.pendingReload ??= delay(wait)
        .then(() => this.load(now + wait))
        .finally(() => {
          this.pendingReload = undefined;
        });
      await this.pendingReload;
    }
    return this.keys.get(kid);
  }

  /** Every published key, newest first. */
  list(): SigningKey[] {
    return [...this.keys.values()];
  }

  /** RFC 7517 JSON Web Key Set of the published public keys, each with `kid`, `alg` and `use: sig` (never the HS256 secret). */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.list().flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) };
  }
}

import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { invalidToken } from '../errors';
import { signJws } from './jws';
import type { KeyRing, SigningKey } from './key-ring';
import type { RevokedSessions } from './revoked-sessions';
import { formatScope, parseScope } from './scopes';

/** Who is calling: the result of checking an access token, shared by REST and the gateway. */
export interface Principal {
  readonly kind: 'user' | 'client';
  readonly tenantId: string;
  /** The user id, or the client id for client_credentials tokens. */
  readonly subject: string;
  readonly username: string | undefined;
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly roles: readonly string[];
  readonly sessionId: string;
  readonly tokenId: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  readonly issuedAt: number;
  /** RFC 9449 §6.1 `cnf.jkt`: the thumbprint of the DPoP key the token is bound to, if it is. */
  readonly jkt?: string;
}

export interface AccessTokenGrant {
  readonly subject: string;
  readonly username?: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly sessionId: string;
  /** Binds the token to this DPoP key (RFC 9449 §6.1). */
  readonly jkt?: string;
}

export interface IssuedAccessToken {
  readonly token: string;
  /** `DPoP` for a token bound to a key, else `Bearer` (RFC 9449 §5). */
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly expiresIn: number;
  readonly expiresAt: number;
}

interface AccessTokenOptions {
  readonly tenantId: string;
  readonly issuer: string;
  readonly audience: string;
  /** Seconds. */
  readonly ttl: number;
}

const TOKEN_LEEWAY_MS = 5_000; // SPEC §3.3: no leeway beyond 5 s
const MAX_TOKEN_LENGTH = 8_192;
// The last second a JavaScript Date can hold (ECMA-262 §21.4.1.22); later times cannot be formatted.
const MAX_EPOCH_SECONDS = 8_640_000_000_000;
const CACHE_LIMIT = 10_000;
// RFC 9068 §4: "at+jwt", or the full media type.
const ACCESS_TOKEN_TYPE = 'at+jwt';
const ACCESS_TOKEN_TYPES = new Set([ACCESS_TOKEN_TYPE, `application/${ACCESS_TOKEN_TYPE}`]);

function decodeHeader(token: string): { alg?: unknown; kid?: unknown; typ?: unknown } | undefined {
  const end = token.indexOf('.');
  if (end <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, end), 'base64url').toString('utf8'));
    return header !== null && typeof header === 'object' ? header : undefined;
  } catch {
    return undefined;
  }
}

/** How long a token can matter after it was issued, in ms (its lifetime plus leeway): revocations are kept that long. */
export const tokenRetentionMs = (ttlSeconds: number): number => ttlSeconds * 1000 + TOKEN_LEEWAY_MS;

/** How often every process reloads its signing keys, picking up `keys rotate` run elsewhere. */
export const KEY_RELOAD_MS = 60_000;

/**
 * How long a retired key stays published and verifies tokens: a process that
 * missed the rotation (no bus event, or Redis away) signs with the old key
 * until its next reload, and each token it signs then lives a whole lifetime.
 */
export const retiredKeyLifetimeMs = (ttlSeconds: number): number => KEY_RELOAD_MS + tokenRetentionMs(ttlSeconds);

const isString = (value: unknown): value is string => typeof value === 'string';
const isEpochSeconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_EPOCH_SECONDS;

/**
 * Issues RFC 9068 access tokens and turns presented tokens into principals.
 * Verified tokens are cached until they expire (signature checks dominate
 * the cost of a protected request); the revoked-session view is consulted
 * on every call, cached or not.
 */
export class AccessTokens {
  private readonly cache = new Map<string, Principal>();

  constructor(
    private readonly keys: KeyRing,
    private readonly revoked: RevokedSessions,
    private readonly options: AccessTokenOptions,
  ) {}

  issue(grant: AccessTokenGrant, now = Date.now()): IssuedAccessToken {
    const key = this.keys.signingKey();
    const iat = Math.floor(now / 1000);
    const exp = iat + this.options.ttl;
    const claims = {
      iss: this.options.issuer,
      sub: grant.subject,
      aud: this.options.audience,
      exp,
      iat,
      jti: randomUUID(),
      client_id: grant.clientId,
      scope: formatScope(grant.scopes),
      sid: grant.sessionId,
      ...(grant.username === undefined ? {} : { username: grant.username }),
      roles: grant.roles,
      ...(grant.jkt === undefined ? {} : { cnf: { jkt: grant.jkt } }),
    };
    const tokenType = grant.jkt === undefined ? 'Bearer' : 'DPoP';
    return { token: signJws(key, ACCESS_TOKEN_TYPE, claims), tokenType, expiresIn: this.options.ttl, expiresAt: exp };
  }

  /** Checks signature, type, issuer, audience, expiry and revocation; throws `invalid_token`. */
  async verify(token: string, now = Date.now()): Promise<Principal> {
    const cached = this.cache.get(token);
    const principal = cached ?? (await this.verifySignedToken(token, now));
    try {
      this.assertLive(principal, now);
    } catch (error) {
      this.cache.delete(token);
      throw error;
    }
    if (!cached) this.remember(token, principal);
    return principal;
  }

  /** Throws `invalid_token` when a principal's token has expired or its session was revoked. */
  assertLive(principal: Principal, now = Date.now()): void {
    if (principal.expiresAt * 1000 <= now) throw invalidToken('The access token has expired.');
    if (this.revoked.has(principal.sessionId)) throw invalidToken('The session of this access token has been revoked.');
  }

  /** True while the principal's session has not been revoked. */
  isRevoked(principal: Principal): boolean {
    return this.revoked.has(principal.sessionId);
  }

  /** Verifies only the signature and issuer (not expiry): for revocation of possibly expired tokens. */
  async sessionIdOf(token: string): Promise<string | undefined> {
    try {
      const principal = await this.verifySignedToken(token, Date.now(), true);
      return principal.sessionId;
    } catch {
      return undefined;
    }
  }

  private remember(token: string, principal: Principal): void {
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, principal);
  }

  private async key(kid: string): Promise<SigningKey | undefined> {
    return this.keys.verificationKey(kid) ?? (await this.keys.reloadForUnknownKid(kid));
  }

  private async verifySignedToken(token: string, now: number, ignoreExpiration = false): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('The access token is too long.');
    const header = decodeHeader(token);
    if (!header) throw invalidToken('The access token is malformed.');
    if (!isString(header.typ) || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
      throw invalidToken('The token is not an access token.');
    }
    if (!isString(header.kid)) throw invalidToken('The access token has no key id.');
    const key = await this.key(header.kid);
    if (!key || header.alg !== key.alg) throw invalidToken('The access token was not signed by this server.');
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key.verifyKey, {
        algorithms: [key.alg],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTimestamp: Math.floor(now / 1000),
        ignoreExpiration,
      }) as jwt.JwtPayload;
    } catch (error) {
      const expired = error instanceof jwt.TokenExpiredError;
      throw invalidToken(expired ? 'The access token has expired.' : 'The access token is invalid.');
    }
    const { sub, sid, client_id: clientId, scope, jti, exp, iat, username, roles, cnf } = payload;
    const jkt: unknown = cnf === undefined ? undefined : (cnf as { jkt?: unknown } | null)?.jkt;
    if (
      !isString(sub) || !isString(sid) || !isString(clientId) || !isString(scope) || !isString(jti) ||
      !isEpochSeconds(exp) || !isEpochSeconds(iat) ||
      (username !== undefined && !isString(username)) ||
      !Array.isArray(roles) || !roles.every(isString) ||
      (cnf !== undefined && !isString(jkt))
    ) {
      throw invalidToken('The access token lacks required claims.');
    }
    return {
      kind: username === undefined ? 'client' : 'user',
      tenantId: this.options.tenantId,
      subject: sub,
      username,
      clientId,
      scopes: new Set(parseScope(scope)),
      roles,
      sessionId: sid,
      tokenId: jti,
      expiresAt: exp,
      issuedAt: iat,
      ...(isString(jkt) ? { jkt } : {}),
    };
  }
}

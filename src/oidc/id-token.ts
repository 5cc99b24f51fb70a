import { createHash } from 'node:crypto';
import { signJws } from '../auth/jws';
import type { KeyRing } from '../auth/key-ring';
import type { ClientRow, IdTokenAlg } from '../db/queries/clients';
import type { Services } from '../services';
import { userClaims, type ClaimsUser } from './claims';

/** Everything an id token says, beside the keys and the clock. */
export interface IdTokenInput {
  /** The tenant's issuer. */
  readonly issuer: string;
  readonly clientId: string;
  /** The client's `id_token_signed_response_alg`. */
  readonly alg: IdTokenAlg;
  readonly user: ClaimsUser;
  /** The scopes granted: they decide the user claims (OIDC Core §5.4). */
  readonly scopes: readonly string[];
  /** The tessera session the tokens belong to. */
  readonly sessionId: string;
  /** When the user last authenticated, epoch milliseconds (OIDC Core §2 `auth_time`). */
  readonly authTime: number;
  /** RFC 8176 methods of that authentication, space-separated (OIDC Core §2 `amr`); omitted when unknown. */
  readonly amr?: string | null | undefined;
  /** Seconds the id token is valid: ACCESS_TOKEN_TTL, as README says. */
  readonly ttl: number;
  /** The `nonce` of the authentication request, echoed unchanged. */
  readonly nonce?: string | undefined;
  /** The access token issued beside it, for `at_hash`. */
  readonly accessToken?: string | undefined;
}

/**
 * OIDC Core §3.1.3.6 `at_hash`: the left half of the hash of the access token's ASCII octets, with
 * the hash of the id token's `alg` (SHA-256 for both RS256 and ES256), base64url-encoded.
 */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

/** Signs an id token (OIDC Core §2) with the tenant's current key of the client's algorithm. */
export function signIdToken(keys: KeyRing, input: IdTokenInput, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const claims = {
    iss: input.issuer,
    ...userClaims(input.user, input.scopes),
    aud: input.clientId,
    exp: iat + input.ttl,
    iat,
    auth_time: Math.floor(input.authTime / 1000),
    ...(input.amr ? { amr: input.amr.split(' ') } : {}),
    ...(input.nonce !== undefined && { nonce: input.nonce }),
    azp: input.clientId,
    sid: input.sessionId,
    ...(input.accessToken !== undefined && { at_hash: accessTokenHash(input.accessToken) }),
  };
  return signJws(keys.signingKeyFor(input.alg), 'JWT', claims);
}

/** What a grant knows when it answers with an id token (OIDC Core §3.1.3.3). */
export interface IdTokenGrant {
  readonly client: Pick<ClientRow, 'id' | 'id_token_signed_response_alg'>;
  readonly user: ClaimsUser;
  readonly scopes: readonly string[];
  readonly sessionId: string;
  /** When the user last authenticated, epoch milliseconds. */
  readonly authTime: number;
  readonly amr?: string | null | undefined;
  readonly nonce?: string | undefined;
  readonly accessToken: string;
}

/** The id token of a token response: the tenant's issuer and keys, the client's algorithm, ACCESS_TOKEN_TTL. */
export function idTokenFor({ keys, config }: Pick<Services, 'keys' | 'config'>, grant: IdTokenGrant, now = Date.now()): string {
  return signIdToken(
    keys,
    {
      issuer: config.issuer,
      clientId: grant.client.id,
      alg: grant.client.id_token_signed_response_alg,
      user: grant.user,
      scopes: grant.scopes,
      sessionId: grant.sessionId,
      authTime: grant.authTime,
      amr: grant.amr,
      ttl: config.accessTokenTtl,
      nonce: grant.nonce,
      accessToken: grant.accessToken,
    },
    now,
  );
}

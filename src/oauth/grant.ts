import type { z } from 'zod';
import type { IssuedAccessToken } from '../auth/access-tokens';
import type { Config } from '../config';
import type { ClientRow } from '../db/queries/clients';
import { GRANT_TYPES, type GrantType } from './clients';

/** RFC 6749 §4.5 extension grant that completes a password grant answered `mfa_required` (SPEC §8). */
export const MFA_GRANT_TYPE = 'urn:tessera:params:oauth:grant-type:mfa';
/** Every grant_type `/token` accepts: the ones a client registers for, and the mfa continuation. */
export const TOKEN_GRANT_TYPES = [...GRANT_TYPES, MFA_GRANT_TYPE] as const;
export type TokenGrantType = (typeof TOKEN_GRANT_TYPES)[number];

/** The grant types `/token` answers: with PASSWORD_GRANT=off neither the password grant nor the mfa grant that completes it (SPEC §10). */
export const supportedGrantTypes = ({ passwordGrant }: Pick<Config, 'passwordGrant'>): TokenGrantType[] =>
  TOKEN_GRANT_TYPES.filter((grantType) => passwordGrant || (grantType !== 'password' && grantType !== MFA_GRANT_TYPE));

/** The body of a successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  /** `DPoP` when the access token is bound to the proof's key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** OIDC Core §3.1.3.3, when `openid` was granted. */
  id_token?: string;
}

/** What a grant knows of the request beside its parameters. */
export interface GrantContext {
  readonly client: ClientRow;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * The thumbprint of the key of the request's DPoP proof, checked already (RFC 9449 §5): every access
   * token the grant issues carries it as `cnf.jkt` (pass it to `accessTokens.issue` as `jkt`).
   */
  readonly dpopJkt: string | undefined;
  /** The refresh cookie of a browser client, once its Origin is checked (SPEC §3.5). */
  readonly cookieRefreshToken: () => string | undefined;
  /** Seconds the refresh token of this response stays usable, for the cookie's Max-Age. */
  refreshLifetime?: number;
  /** Set when the password was right although the grant still failed (`mfa_required`): not a failed login. */
  credentialsAccepted?: boolean;
}

/** One grant module: its type, the parameters it accepts, and its handler (see STYLE §2). */
export interface Grant<Schema extends z.ZodType = z.ZodType> {
  readonly grantType: TokenGrantType;
  /** The registered grant type that lets a client use this one (itself when absent). */
  readonly clientGrant?: GrantType;
  readonly parameters: Schema;
  handle(parameters: z.output<Schema>, context: GrantContext): Promise<TokenResponse>;
}

export const defineGrant = <Schema extends z.ZodType>(grant: Grant<Schema>): Grant<Schema> => grant;

/** The token response for an issued access token, its scopes and, for user sessions, a refresh token. */
export function tokenResponse(access: IssuedAccessToken, scopes: readonly string[], refreshToken?: string): TokenResponse {
  return {
    access_token: access.token,
    token_type: access.tokenType,
    expires_in: access.expiresIn,
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    scope: scopes.join(' '),
  };
}

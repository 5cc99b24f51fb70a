/**
 * An error the authorization endpoint answers by redirecting to the client (RFC 6749 §4.1.2.1):
 * only once the client and its redirect URI are known good.
 */
export class AuthorizationError extends Error {
  override readonly name = 'AuthorizationError';
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`${code}: ${description}`);
  }
}

/**
 * An error shown to the person as a page and never redirected: an unknown client, a redirect URI
 * that is not registered (RFC 6749 §4.1.2.1), a form that fails its CSRF check, a sign-in that expired.
 */
export class PageError extends Error {
  override readonly name = 'PageError';
  /** The SPEC §2 code a client that did not ask for HTML gets. */
  readonly code: string;
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description: string,
  ) {
    super(description);
    this.code = status === 403 ? 'forbidden' : 'invalid_request';
  }
}

export const authorizationError = (code: string, description: string) => new AuthorizationError(code, description);
export const invalidAuthorizationRequest = (description: string) => new AuthorizationError('invalid_request', description);

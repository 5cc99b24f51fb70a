/** One entry of a validation error's `details`: which field, what is wrong. */
export interface ErrorDetail {
  readonly field: string;
  readonly message: string;
}

interface ApiErrorOptions {
  /** Extra fields of the error body beside error/error_description (e.g. `details`). */
  readonly body?: Record<string, unknown>;
  /** Response headers the error needs (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers?: Record<string, string>;
  /** For logs only; never sent to the client. */
  readonly internal?: string;
}

/**
 * The one error type of tessera. Handlers throw it; the error middleware
 * writes the SPEC §2 body `{error, error_description, ...}`. What made a
 * 5xx (`internal`) is logged, never sent.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly internal: string | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    options: ApiErrorOptions = {},
  ) {
    super(`${code}: ${description}`);
    this.body = options.body ?? {};
    this.headers = options.headers ?? {};
    this.internal = options.internal;
  }

  /** The SPEC §2 body; a 5xx's description is generic, and its detail (`internal`) goes only to logs. */
  get responseBody(): Record<string, unknown> {
    return { error: this.code, error_description: this.description, ...this.body };
  }
}

/** `assertThat(condition, () => error)`: throws the error when the condition is false. */
export function assertThat(condition: unknown, error: () => ApiError): asserts condition {
  if (!condition) throw error();
}

const REALM = 'Bearer realm="tessera"';

function quoted(value: string): string {
  return value.replace(/["\\]/g, '');
}

// RFC 6749 §5.2
export const invalidRequest = (description: string, details?: ErrorDetail[]) =>
  new ApiError(400, 'invalid_request', description, details ? { body: { details } } : {});
export const invalidClient = (description = 'Client authentication failed.', basic = false) =>
  new ApiError(401, 'invalid_client', description, basic ? { headers: { 'WWW-Authenticate': 'Basic realm="tessera"' } } : {});
export const invalidGrant = (description: string, internal?: string) =>
  new ApiError(400, 'invalid_grant', description, internal ? { internal } : {});
export const unauthorizedClient = (description: string) => new ApiError(400, 'unauthorized_client', description);
export const unsupportedGrantType = (grantType: string) =>
  new ApiError(400, 'unsupported_grant_type', `The grant type "${grantType}" is not supported.`);
export const invalidScope = (description: string) => new ApiError(400, 'invalid_scope', description);

// RFC 7591 §3.2.2
export const invalidRedirectUri = (description: string, details: ErrorDetail[]) => new ApiError(400, 'invalid_redirect_uri', description, { body: { details } });
export const invalidClientMetadata = (description: string, details: ErrorDetail[]) =>
  new ApiError(400, 'invalid_client_metadata', description, { body: { details } });

// RFC 6750 §3
export const missingToken = () =>
  new ApiError(401, 'unauthorized', 'An access token is required.', { headers: { 'WWW-Authenticate': REALM } });
export const invalidToken = (description: string) =>
  new ApiError(401, 'invalid_token', description, {
    headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token", error_description="${quoted(description)}"` },
  });
export const insufficientScope = (scope: string) =>
  new ApiError(403, 'insufficient_scope', `This request needs the scope "${scope}".`, {
    headers: {
      'WWW-Authenticate': `${REALM}, error="insufficient_scope", error_description="The token lacks a needed scope.", scope="${quoted(scope)}"`,
    },
  });

// SPEC §2
export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `No such ${what}.`);
export const forbidden = (description: string) => new ApiError(403, 'forbidden', description);
export const validationFailed = (description: string, details: ErrorDetail[], status = 400) =>
  new ApiError(status, 'validation_failed', description, { body: { details } });
export const conflict = (description: string) => new ApiError(409, 'conflict', description);
export const payloadTooLarge = () => new ApiError(413, 'payload_too_large', 'The request body is larger than 64 KiB.');
export const unsupportedMediaType = (description: string) => new ApiError(415, 'unsupported_media_type', description);
export const rateLimited = (retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limited', 'Too many requests; try again later.', {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
export const serverError = (internal: string) =>
  new ApiError(500, 'server_error', 'The server could not complete the request.', { internal });
export const unavailable = (internal: string) =>
  new ApiError(503, 'unavailable', 'The service is temporarily unavailable.', { internal });

// SPEC §8. One answer for a wrong, expired, used or locked code: which one it was would tell an attacker too much.
export const invalidCode = () =>
  new ApiError(400, 'invalid_code', 'The code is wrong, has expired or was tried too often; ask for a new one if needed.');
export const mfaRequired = (mfaToken: string) =>
  new ApiError(400, 'mfa_required', 'A one-time password is required: send it with this mfa_token to complete the sign-in.', {
    body: { mfa_token: mfaToken },
  });
export const verificationPending = () =>
  new ApiError(400, 'invalid_grant', 'The e-mail address of this account is not verified yet: verification is pending (POST /signup/verify).', {
    body: { verification_pending: true },
  });

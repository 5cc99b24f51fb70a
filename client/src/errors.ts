/** An error answer of tessera (SPEC §2), or a failure to reach it (`status` 0). */
export class TesseraError extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came (network down, logged out). */
    readonly status: number,
    /** The SPEC §2 code, e.g. `invalid_grant`, `not_found`, `validation_failed`. */
    readonly code: string,
    message: string,
    /** Which fields failed validation, when `code` is `validation_failed`. */
    readonly details?: unknown,
    /** The whole error body, e.g. `verification_pending` beside an `invalid_grant`. */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TesseraError';
  }
}

/** Turns a non-2xx response into a TesseraError, keeping the server's code and sentence. */
export async function errorFrom(res: Response): Promise<TesseraError> {
  let body: { error?: string; error_description?: string; details?: unknown; [field: string]: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  return new TesseraError(res.status, body.error ?? 'http_error', body.error_description ?? `HTTP ${res.status}`, body.details, body);
}

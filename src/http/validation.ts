import type { z } from 'zod';
import { invalidClientMetadata, invalidRedirectUri, invalidRequest, validationFailed, type ApiError, type ErrorDetail } from '../errors';

function details(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(body)'),
    message: issue.message,
  }));
}

/** How a failed parse is reported: OAuth endpoints speak RFC 6749, client registration RFC 7591, the rest SPEC §2. */
export type Dialect = 'oauth' | 'registration' | 'rest';

const REDIRECT_FIELDS = new Set<unknown>(['redirect_uris', 'post_logout_redirect_uris']);

function failure(dialect: Dialect, error: z.ZodError): ApiError {
  switch (dialect) {
    case 'oauth':
      return invalidRequest('The request is missing a parameter or has a malformed one.', details(error));
    case 'registration':
      // RFC 7591 §3.2.2: a bad redirect URI has its own code; any other bad field is invalid_client_metadata.
      return error.issues.some((issue) => REDIRECT_FIELDS.has(issue.path[0]))
        ? invalidRedirectUri('A redirect URI cannot be registered.', details(error))
        : invalidClientMetadata('The client metadata is not valid.', details(error));
    case 'rest':
      return validationFailed('The request is not valid.', details(error));
  }
}

/** The one validation path: parses input with a zod schema or throws a 400 with `details`. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, dialect: Dialect = 'rest'): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw failure(dialect, result.error);
  return result.data;
}

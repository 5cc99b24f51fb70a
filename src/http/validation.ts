import type { z } from 'zod';
import { invalidRequest, validationFailed, type ApiError, type ErrorDetail } from '../errors';

function details(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(body)'),
    message: issue.message,
  }));
}

/** How a failed parse is reported: OAuth endpoints speak RFC 6749, the rest SPEC §2. */
export type Dialect = 'oauth' | 'rest';

const failure = (dialect: Dialect, error: z.ZodError): ApiError =>
  dialect === 'oauth'
    ? invalidRequest('The request is missing a parameter or has a malformed one.', details(error))
    : validationFailed('The request is not valid.', details(error));

/** The one validation path: parses input with a zod schema or throws a 400 with `details`. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, dialect: Dialect = 'rest'): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw failure(dialect, result.error);
  return result.data;
}

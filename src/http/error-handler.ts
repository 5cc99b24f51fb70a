import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable } from '../db/errors';
import { ApiError, invalidRequest, notFound, payloadTooLarge, serverError, unavailable, unsupportedMediaType } from '../errors';
import type { Logger } from '../logger';

// body-parser's error types (https://github.com/expressjs/body-parser#errors).
function fromBodyParser(type: string): ApiError | undefined {
  switch (type) {
    case 'entity.too.large':
    case 'parameters.too.many':
      return payloadTooLarge();
    case 'entity.parse.failed':
      return invalidRequest('The request body is malformed.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('The request body has an unsupported encoding or charset.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return invalidRequest('The request body could not be read.');
    default:
      return undefined;
  }
}

// Other client errors Express and body-parser raise as http-errors with a 4xx
// status: a path parameter that is not valid percent-encoding, a body whose
// Content-Encoding does not decode. They are the client's fault, never a 500.
function fromClientError(error: unknown): ApiError | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const internal = error instanceof Error ? error.message : String(error);
  return new ApiError(status, 'invalid_request', 'The request could not be read.', { internal });
}

const detailOf = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/** The ApiError any thrown value answers as, for REST and the gateway's refused upgrades alike. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isDatabaseUnavailable(error)) return unavailable(detailOf(error));
  const type = (error as { type?: unknown } | null)?.type;
  const mapped = (typeof type === 'string' ? fromBodyParser(type) : undefined) ?? fromClientError(error);
  return mapped ?? serverError(detailOf(error));
}

/** Writes every error as the SPEC §2 body; 5xx are logged with their detail and never exposed. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) logger.error({ request_id: req.id, detail: apiError.internal }, 'request failed');
    else if (apiError.internal) logger.info({ request_id: req.id, code: apiError.code, detail: apiError.internal }, 'request refused');
    if (res.headersSent) return next(error);
    res
      .status(apiError.status)
      .set(apiError.headers)
      .json(apiError.responseBody);
  };
}

/** The 404 for any path no route claims. */
export const unknownRoute: RequestHandler = () => {
  throw notFound('route');
};

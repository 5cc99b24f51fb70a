import express, { type NextFunction, type RequestHandler } from 'express';
import { invalidRequest, unsupportedMediaType } from '../errors';
import { isStorableText } from './storable-text';

export const BODY_LIMIT = '64kb'; // SPEC §7

const json = express.json({ limit: BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] });
const form = express.urlencoded({ limit: BODY_LIMIT, extended: false, parameterLimit: 100 });

const hasBody = (req: Parameters<RequestHandler>[0]) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const unstorable = () => invalidRequest('The request contains a NUL character or malformed Unicode.');

/**
 * JSON and form bodies up to 64 KiB; any other media type with a body is a
 * 415. Parser failures become errors the error middleware maps to 400/413/415.
 * Text no database can store as sent (NUL, lone surrogates) is a 400 here,
 * in the URL (only `%00` decodes to NUL there) and in the body alike.
 */
export const parseBody: RequestHandler = (req, res, next) => {
  if (req.url.includes('%00')) return next(unstorable());
  if (!hasBody(req)) return next();
  const checked: NextFunction = (error?: unknown) => next(error ?? (isStorableText(req.body) ? undefined : unstorable()));
  if (req.is(['application/json', 'application/*+json'])) return json(req, res, checked);
  if (req.is('application/x-www-form-urlencoded')) return form(req, res, checked);
  next(unsupportedMediaType('Send application/json or application/x-www-form-urlencoded.'));
};

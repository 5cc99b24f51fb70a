import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

// A client's id is kept only when it is short and plain: it reaches headers and logs.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id, echoed in `X-Request-Id`. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  req.id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
};

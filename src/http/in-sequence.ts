import type { RequestHandler } from 'express';

/**
 * Several middlewares as one: the router spends more on each layer it
 * passes (matching, error wrapping) than these global middlewares spend on
 * their own work. Each runs when the one before calls `next()`; an error,
 * or the end of the list, goes on to the router.
 */
export function inSequence(...handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (error?: unknown) => {
      const handler = handlers[index++];
      if (error !== undefined || !handler) {
        next(error);
        return;
      }
      void handler(req, res, step);
    };
    step();
  };
}

import type { RequestHandler } from 'express';
import { redactUrl, type Logger } from '../logger';
import type { Metrics } from '../metrics';
import { basePathTemplate } from '../tenants/tenant';

/**
 * One JSON line per finished request. It names what happened, never what
 * was sent: no bodies, no headers, and secret query parameters redacted.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Label by route template, never the raw path: ids would explode the series.
      const route = req.route ? `${basePathTemplate(req.baseUrl)}${String(req.route.path)}` : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: res.statusCode });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
      if (!logger.isLevelEnabled(level)) return;
      logger[level]({
        request_id: req.id,
        method: req.method,
        url: redactUrl(req.originalUrl),
        route,
        status: res.statusCode,
        duration_ms: seconds * 1000,
        user_id: req.principal?.subject,
        ip: req.ip,
      }, 'request');
    });
    next();
  };
}

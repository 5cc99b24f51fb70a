import { createHash, timingSafeEqual } from 'node:crypto';
import type { Router } from 'express';
import { bearerToken } from '../auth/authenticate';
import { forbidden, invalidToken, missingToken } from '../errors';
import type { Metrics } from '../metrics';
import type { Api } from './api';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` in Prometheus text format; behind `Authorization: Bearer $METRICS_TOKEN` when that is
 * set. Unset in production it is refused (403): counts of logins, tokens and sockets are not for anyone
 * who can reach the public listener.
 */
export function metricsRoute(api: Api, router: Router, metrics: Metrics, metricsToken: string | undefined, production: boolean): void {
  api.route(
    router,
    {
      method: 'get', path: '/metrics', tag: 'Operations', summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured; required in production)',
      responses: {
        200: { description: 'Prometheus text exposition format' },
        401: { description: 'METRICS_TOKEN is set and was not given' },
        403: { description: 'forbidden: NODE_ENV=production and METRICS_TOKEN is unset' },
      },
    },
    async (_input, req, res) => {
      if (metricsToken === undefined && production) throw forbidden('Set METRICS_TOKEN to serve /metrics in production.');
      if (metricsToken !== undefined) {
        const token = bearerToken(req.get('authorization'));
        if (token === undefined) throw missingToken();
        if (!timingSafeEqual(digest(token), digest(metricsToken))) throw invalidToken('Wrong metrics token.');
      }
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}

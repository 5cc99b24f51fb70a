import { createHash, timingSafeEqual } from 'node:crypto';
import type { Router } from 'express';
import { bearerToken } from '../auth/authenticate';
import { invalidToken, missingToken } from '../errors';
import type { Metrics } from '../metrics';
import type { Api } from './api';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics` in Prometheus text format; behind `Authorization: Bearer $METRICS_TOKEN` when that is set. */
export function metricsRoute(api: Api, router: Router, metrics: Metrics, metricsToken: string | undefined): void {
  api.route(
    router,
    {
      method: 'get', path: '/metrics', tag: 'Operations', summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured)',
      responses: { 200: { description: 'Prometheus text exposition format' }, 401: { description: 'METRICS_TOKEN is set and was not given' } },
    },
    async (_input, req, res) => {
      if (metricsToken !== undefined) {
        const token = bearerToken(req.get('authorization'));
        if (token === undefined) throw missingToken();
        if (!timingSafeEqual(digest(token), digest(metricsToken))) throw invalidToken('Wrong metrics token.');
      }
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}

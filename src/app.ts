import express, { type Express, type Router } from 'express';
import { z } from 'zod';
import { accountRoutes } from './accounts/account-routes';
import { adminRoutes } from './accounts/admin-routes';
import { passkeyAdminRoutes } from './accounts/passkey-admin-routes';
import { authorizeRoutes } from './authorize/authorize-routes';
import { connectedAppRoutes } from './authorize/connected-apps';
import { Api } from './http/api';
import { bearer, type BearerChecks } from './http/bearer';
import { parseBody } from './http/body-parsing';
import { cors } from './http/cors';
import { securityHeaders } from './http/security-headers';
import { errorHandler, unknownRoute } from './http/error-handler';
import { inSequence } from './http/in-sequence';
import { metricsRoute } from './http/metrics-route';
import { openApiDocument } from './http/openapi';
import { readiness } from './http/readiness';
import { createRateLimits, type RateLimitStoreFactory } from './http/rate-limits';
import { requestId } from './http/request-id';
import { requestLog } from './http/request-log';
import { oauthRoutes } from './oauth/oauth-routes';
import { oidcRoutes } from './oidc/oidc-routes';
import { ownedResourceRoutes } from './resources/owned-resource';
import { calendarEvents } from './resources/calendar-events';
import { conversationRoutes } from './resources/conversations';
import { messageRoutes } from './resources/messages';
import { pushRoutes } from './resources/push';
import type { Gateway } from './gateway/gateway';
import { gatewayRoutes } from './gateway/gateway-routes';
import { tasks } from './resources/tasks';
import type { Services } from './services';
import type { TenantDirectory } from './tenants/tenant-directory';
import { tenantRoutes } from './tenants/tenant-routes';
import { tenantRouting } from './tenants/tenant-routing';
import { webRoutes } from './web/static-routes';

export interface AppOptions {
  readonly rateLimitStore?: RateLimitStoreFactory;
}

const readinessJson = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()) });

/** Every route of the REST API, registered once with the `Api` registry that also documents it. */
function routes(router: Router, services: Services, gateway: Gateway, api: Api, options: AppOptions): void {
  const { config, db, bus } = services;
  const limits = createRateLimits(config, services.metrics, options.rateLimitStore);

  api.route(
    router,
    { method: 'get', path: '/healthz', tag: 'Operations', summary: 'The process is up', responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } } },
    (_input, _req, res) => {
      res.json({ status: 'ok' });
    },
  );
  api.route(
    router,
    {
      method: 'get', path: '/readyz', tag: 'Operations', summary: 'The database and (when configured) Redis answer; 503 otherwise',
      responses: {
        200: { description: 'Ready', schema: readinessJson },
        503: { description: 'Not ready; which check failed', schema: readinessJson },
      },
    },
    async (_input, _req, res) => {
      const { ready, checks } = await readiness(services);
      res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ok' : 'unavailable', checks });
    },
  );
  metricsRoute(api, router, services.metrics, config.metricsToken, config.production);
  oauthRoutes(api, router, services, limits);
  oidcRoutes(api, router, services, limits);
  accountRoutes(api, router, services, limits);
  authorizeRoutes(api, router, services, limits);
  connectedAppRoutes(api, router, services);
  adminRoutes(api, router, services);
  passkeyAdminRoutes(api, router, services);
  tenantRoutes(api, router, services);
  ownedResourceRoutes(api, router, services, tasks);
  ownedResourceRoutes(api, router, services, calendarEvents);
  conversationRoutes(api, router, db, bus, limits.unknownMembers);
  messageRoutes(api, router, services.messages);
  pushRoutes(api, router, db, bus, (tenantId, userId) => gateway.registry.count(tenantId, userId));
  gatewayRoutes(api, router, db, gateway);

  let document: unknown;
  api.route(
    router,
    { method: 'get', path: '/openapi.json', tag: 'Operations', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } },
    (_input, _req, res) => {
      document ??= openApiDocument(api.routes, config);
      res.json(document);
    },
  );
}

const bearerChecks = ({ accessTokens, dpop, config }: Services): BearerChecks => ({ accessTokens, dpop, issuer: config.issuer });

/** Each tenant counts its own rate limits: in memory it has its own counters, in Redis its own keys. */
function tenantOptions(options: AppOptions, tenantId: string): AppOptions {
  const store = options.rateLimitStore;
  return store ? { ...options, rateLimitStore: (prefix) => store(`${prefix}${tenantId}:`) } : options;
}

function tenantRouter(tenant: Services, gateway: Gateway, options: AppOptions): Router {
  const router = express.Router();
  routes(router, tenant, gateway, new Api(bearer(bearerChecks(tenant))), options);
  return router;
}

/**
 * The Express app: global middleware kept few (each costs every request),
 * then the routes of the tenant the request is for (SPEC §8); the built-in
 * tenant's are mounted directly.
 */
export function createApp(tenants: TenantDirectory, gateway: Gateway, options: AppOptions = {}): Express {
  const services = tenants.root;
  const { config, logger } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.set('query parser', 'simple');

  // connect-src 'self' covers the same-origin ws:/wss: socket (CSP Level 3). upgrade-insecure-requests
  // only when served over https: on a plain-http host it would send the web client's assets to https.
  const upgradeInsecureRequests = config.issuer.startsWith('https:') ? [] : null;
  app.use(
    inSequence(
      requestId,
      requestLog(logger, services.metrics),
      securityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], connectSrc: ["'self'"], upgradeInsecureRequests } } }),
      cors(config.corsOrigins),
    ),
  );
  const api = new Api(bearer(bearerChecks(services)));
  // Routes go on the app's own router: a nested router costs every request that passes through it.
  webRoutes(api, app.router);
  app.use(parseBody);
  app.use(tenantRouting(tenants, (tenant) => tenantRouter(tenant, gateway, tenantOptions(options, tenant.tenantId))));
  routes(app.router, services, gateway, api, options);
  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return app;
}

import type { Router } from 'express';
import { z } from 'zod';
import { parseScope } from '../auth/scopes';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { Consents } from './consents';

/** SPEC §9: managing the account itself needs `account`. */
const ACCOUNT_SCOPE = 'account';
const TAG = 'Accounts';

const appJson = z.object({
  client_id: z.string(),
  name: z.string(),
  client_uri: z.string().nullable(),
  logo_uri: z.string().nullable(),
  scopes: z.array(z.string()).describe('what the user allowed, or else what its live sessions hold'),
  consented_at: z.iso.datetime().nullable(),
});
const appParams = z.object({ client_id: z.string().min(1).max(64) });

/** SPEC §10 `GET|DELETE /me/apps`: the apps a user allowed or is signed in to, and taking that back. */
export function connectedAppRoutes(api: Api, router: Router, services: Services): void {
  const { tenantId, sessions, clients } = services;
  const consents = new Consents(services);
  const auth = { scope: ACCOUNT_SCOPE, user: true } as const;

  api.route(
    router,
    {
      method: 'get', path: '/me/apps', tag: TAG, summary: 'The apps you allowed or hold live sessions of', auth,
      responses: { 200: { description: 'Most recently allowed first, then apps signed in without a consent', schema: z.array(appJson) }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      const allowed = await consents.queries.listForUser(tenantId, principal.subject);
      const live = await sessions.listLive(principal.subject);
      const ids = [...new Set([...allowed.map((row) => row.client_id), ...live.map((session) => session.client_id)])];
      const apps = [];
      for (const id of ids) {
        const client = await clients.queries.find(tenantId, id);
        if (!client) continue;
        const consent = allowed.find((row) => row.client_id === id);
        const held = live.filter((session) => session.client_id === id).flatMap((session) => parseScope(session.scope));
        apps.push({
          client_id: id,
          name: client.name,
          client_uri: client.client_uri,
          logo_uri: client.logo_uri,
          scopes: consent ? parseScope(consent.scope) : [...new Set(held)],
          consented_at: consent ? new Date(consent.consented_at).toISOString() : null,
        });
      }
      res.set('Cache-Control', 'no-store').json(apps);
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/me/apps/:client_id', tag: TAG, auth, params: appParams,
      summary: 'Remove an app: withdraws your consent and ends every session it holds of yours (their sockets close)',
      responses: { 204: { description: 'Removed' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, principal }, _req, res) => {
      const withdrawn = await consents.queries.remove(tenantId, principal.subject, params.client_id);
      const ended = await sessions.revoke({ userId: principal.subject, clientId: params.client_id }, 'app_removed');
      if (!withdrawn && ended.length === 0) throw notFound('app');
      res.status(204).end();
    },
  );
}

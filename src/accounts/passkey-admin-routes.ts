import type { Router } from 'express';
import { z } from 'zod';
import { ADMIN_SCOPE } from '../auth/scopes';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { passkeyJson } from './passkey-routes';
import { Passkeys, publicPasskey } from './passkeys';

const userParams = z.object({ id: z.string().min(1).max(64) });
const passkeyParams = userParams.extend({ pid: z.string().min(1).max(64) });

const TAG = 'Admin';
const admin = { scope: ADMIN_SCOPE, user: true } as const;

/** Issue 21: an admin lists and removes a user's passkeys. */
export function passkeyAdminRoutes(api: Api, router: Router, services: Services): void {
  const passkeys = new Passkeys(services);
  const userId = async (id: string) => {
    if (!(await services.users.queries.findById(services.tenantId, id))) throw notFound('user');
    return id;
  };

  api.route(
    router,
    {
      method: 'get', path: '/admin/users/:id/passkeys', tag: TAG, summary: "List a user's passkeys", auth: admin, params: userParams,
      responses: { 200: { description: 'Passkeys', schema: z.array(passkeyJson) }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params }, _req, res) => {
      res.json((await passkeys.list(await userId(params.id))).map(publicPasskey));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/admin/users/:id/passkeys/:pid', tag: TAG, auth: admin, params: passkeyParams,
      summary: "Remove a user's passkey: it signs in no more at once; the user's sessions go on",
      responses: { 204: { description: 'Removed' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params }, _req, res) => {
      await passkeys.remove(await userId(params.id), params.pid);
      res.status(204).end();
    },
  );
}

import type { Router } from 'express';
import { z } from 'zod';
import { ADMIN_SCOPE } from '../auth/scopes';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import { publicClient } from '../oauth/clients';
import { clientPatchBody, newClientBody, newClientOf, updateClient } from '../oauth/client-metadata';
import type { Services } from '../services';
import { emailSchema, passwordSchema, rolesSchema, usernameSchema } from './account-rules';
import type { UserRow } from '../db/queries/users';
import { TwoFactor } from './two-factor';
import { publicUser, userJson } from './users';

const idParams = z.object({ id: z.string().min(1).max(64) });
const newUserBody = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  email: emailSchema.optional(),
  roles: rolesSchema.optional(),
});
const userPatchBody = z
  .strictObject({ disabled: z.boolean().optional(), roles: rolesSchema.optional() })
  .refine((body) => body.disabled !== undefined || body.roles !== undefined, 'Give disabled or roles.');
const adminUserJson = userJson.extend({ disabled: z.boolean() });
const clientJson = z.object({
  client_id: z.string(),
  name: z.string(),
  scope: z.string(),
  grant_types: z.array(z.string()),
  confidential: z.boolean(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.string().nullable().describe('null: a confidential client registered without one, which may authenticate over HTTP Basic or in the body'),
  first_party: z.boolean(),
  id_token_signed_response_alg: z.string(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  dpop_bound_access_tokens: z.boolean(),
  created_at: z.iso.datetime(),
});
const adminUser = (user: UserRow) => ({ ...publicUser(user), disabled: user.disabled });

const TAG = 'Admin';
const admin = { scope: ADMIN_SCOPE, user: true } as const;

/** SPEC §4 admin API, behind the `admin` scope. */
export function adminRoutes(api: Api, router: Router, services: Services): void {
  const { tenantId, users, sessions, clients, keys, bus } = services;

  const twoFactor = new TwoFactor(services);

  async function findUser(id: string) {
    const user = await users.queries.findById(tenantId, id);
    if (!user) throw notFound('user');
    return user;
  }

  api.route(
    router,
    { method: 'get', path: '/admin/users', tag: TAG, summary: 'List users', auth: admin, responses: { 200: { description: 'Users', schema: z.array(adminUserJson) }, ...errorResponses('auth') } },
    async (_input, _req, res) => {
      res.json((await users.queries.list(tenantId)).map(adminUser));
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/admin/users', tag: TAG, summary: 'Create a user', auth: admin, body: newUserBody,
      responses: { 201: { description: 'Created', schema: adminUserJson, headers: ['Location'] }, ...errorResponses('auth', 'conflict') },
    },
    async ({ body }, req, res) => {
      const user = await users.create({ tenantId, ...body });
      res.status(201).location(`${req.baseUrl}/admin/users/${user.id}`).json(adminUser(user));
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: '/admin/users/:id', tag: TAG, summary: "Disable, enable or change roles (ends the user's sessions)", auth: admin,
      params: idParams, body: userPatchBody,
      responses: { 200: { description: 'The user', schema: adminUserJson }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, body }, _req, res) => {
      const user = await findUser(params.id);
      if (body.roles !== undefined && body.roles.join(' ') !== user.roles.join(' ')) await users.setRoles(user, body.roles);
      if (body.disabled !== undefined && body.disabled !== user.disabled) await users.setDisabled(user, body.disabled);
      res.json(adminUser(await findUser(params.id)));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/admin/users/:id/sessions', tag: TAG, summary: 'Force logout: end every session of a user', auth: admin, params: idParams,
      responses: { 204: { description: 'Ended' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params }, _req, res) => {
      await findUser(params.id);
      await sessions.revoke({ userId: params.id }, 'admin_force_logout');
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/admin/users/:id/2fa', tag: TAG, auth: admin, params: idParams,
      summary: "Turn a user's two-factor sign-in off (secret and recovery codes gone) and end every session of the user",
      responses: { 204: { description: 'Off, and signed out everywhere' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params }, _req, res) => {
      await twoFactor.switchOff((await findUser(params.id)).id);
      res.status(204).end();
    },
  );

  api.route(
    router,
    { method: 'get', path: '/admin/clients', tag: TAG, summary: 'List clients (never their secrets)', auth: admin, responses: { 200: { description: 'Clients', schema: z.array(clientJson) }, ...errorResponses('auth') } },
    async (_input, _req, res) => {
      res.json((await clients.queries.list(tenantId)).map(publicClient));
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/admin/clients', tag: TAG, summary: 'Register a client; the 201 carries client_secret this once only', auth: admin,
      body: newClientBody,
      responses: { 201: { description: 'Created', schema: clientJson.extend({ client_secret: z.string().optional() }), headers: ['Location'] }, ...errorResponses('auth') },
    },
    async ({ body }, req, res) => {
      const { client, secret } = await clients.create(newClientOf(tenantId, body));
      res
        .status(201)
        .location(`${req.baseUrl}/admin/clients/${client.id}`)
        .set('Cache-Control', 'no-store')
        .json({ ...publicClient(client), ...(secret === undefined ? {} : { client_secret: secret }) });
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: '/admin/clients/:id', tag: TAG, summary: 'Change a client: its name, scope, grant types, redirect URIs and OpenID Connect metadata', auth: admin,
      params: idParams, body: clientPatchBody,
      responses: { 200: { description: 'The client', schema: clientJson }, ...errorResponses('auth', 'notFound', 'conflict') },
    },
    async ({ params, body }, _req, res) => {
      res.json(publicClient(await updateClient(clients, tenantId, params.id, body)));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/admin/clients/:id', tag: TAG, summary: 'Remove a client and end its sessions', auth: admin, params: idParams,
      responses: { 204: { description: 'Removed' }, ...errorResponses('auth', 'notFound', 'conflict') },
    },
    async ({ params }, _req, res) => {
      await clients.remove(tenantId, params.id);
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/admin/keys/rotate', tag: TAG,
      summary: 'Add a new ES256 and RS256 signing key; old keys stay published until their tokens expire (with HS256, JWT_SECRET still signs access tokens)',
      auth: admin,
      responses: {
        201: {
          description: 'The id of the new key that signs access tokens (RS256 with HS256), and the published keys',
          schema: z.object({ kid: z.string(), keys: z.array(z.object({ kid: z.string(), alg: z.string(), active: z.boolean() })) }),
        },
        ...errorResponses('auth'),
      },
    },
    async (_input, _req, res) => {
      const kid = await keys.rotate();
      bus.publish('keys.rotated', { tenantId });
      res.status(201).json({ kid, keys: keys.list().map((key) => ({ kid: key.kid, alg: key.alg, active: key.retiredAt === null })) });
    },
  );
}

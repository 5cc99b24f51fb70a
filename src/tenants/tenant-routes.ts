import type { Router } from 'express';
import { z } from 'zod';
import { ADMIN_SCOPE } from '../auth/scopes';
import type { TenantRow } from '../db/queries/tenants';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { BUILT_IN_TENANT, issuerOf, signupSchema, tenantIdSchema, tenantJson } from './tenant';
import { Tenants } from './tenants';

const name = z.string().min(1).max(200);
/** A new tenant, shared by the admin API and `tessera tenant add`. */
export const newTenantBody = z.strictObject({ id: tenantIdSchema, name: name.optional(), signup: signupSchema.optional() });
const tenantChanges = z
  .strictObject({ name: name.optional(), signup: signupSchema.optional() })
  .refine((body) => body.name !== undefined || body.signup !== undefined, 'Give name or signup.');
const idParams = z.object({ id: z.string().min(1).max(64) });
const tenantResponse = z.object({ id: z.string(), name: z.string(), issuer: z.string(), signup: signupSchema, created_at: z.iso.datetime() });

const TAG = 'Tenants';
const admin = { scope: ADMIN_SCOPE, user: true } as const;

/**
 * SPEC §8 admin API. In every tenant its admins read and change its own
 * settings (`/admin/tenant`); admins of the built-in tenant, the
 * operators, also add, change and remove tenants (`/admin/tenants`).
 */
export function tenantRoutes(api: Api, router: Router, services: Services): void {
  const { config, db, bus, tenantId } = services;
  const tenants = new Tenants(db, bus, config.issuer);
  const ownJson = (row: TenantRow) => tenantJson(row, config.issuer, config.signup);
  // Used in the built-in tenant only, whose issuer is ISSUER, under which every other tenant's hangs.
  const anyJson = (row: TenantRow) => tenantJson(row, issuerOf(config.issuer, row.id), config.signup);
  const found = (row: TenantRow | undefined) => {
    if (!row) throw notFound('tenant');
    return row;
  };

  api.route(
    router,
    {
      method: 'get', path: '/admin/tenant', tag: TAG, summary: "This tenant's settings", auth: admin,
      responses: { 200: { description: 'The tenant', schema: tenantResponse }, ...errorResponses('auth') },
    },
    async (_input, _req, res) => {
      res.json(ownJson(found(await tenants.queries.find(tenantId))));
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: '/admin/tenant', tag: TAG, summary: "Rename this tenant or open or close its sign-up", auth: admin, body: tenantChanges,
      responses: { 200: { description: 'The tenant', schema: tenantResponse }, ...errorResponses('auth') },
    },
    async ({ body }, _req, res) => {
      res.json(ownJson(await tenants.update(tenantId, body)));
    },
  );

  if (tenantId !== BUILT_IN_TENANT) return;

  api.route(
    router,
    {
      method: 'get', path: '/admin/tenants', tag: TAG, summary: 'List tenants (built-in tenant only)', auth: admin,
      responses: { 200: { description: 'Tenants, oldest first', schema: z.array(tenantResponse) }, ...errorResponses('auth') },
    },
    async (_input, _req, res) => {
      res.json((await tenants.queries.list()).map(anyJson));
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/admin/tenants', tag: TAG, summary: 'Add a tenant, served under /t/{id} (built-in tenant only)', auth: admin,
      body: newTenantBody,
      responses: { 201: { description: 'Added', schema: tenantResponse, headers: ['Location'] }, ...errorResponses('auth', 'conflict') },
    },
    async ({ body }, req, res) => {
      const row = await tenants.create(body);
      res.status(201).location(`${req.baseUrl}/admin/tenants/${row.id}`).json(anyJson(row));
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/admin/tenants/:id', tag: TAG, summary: 'One tenant (built-in tenant only)', auth: admin, params: idParams,
      responses: { 200: { description: 'The tenant', schema: tenantResponse }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params }, _req, res) => {
      res.json(anyJson(found(await tenants.queries.find(params.id))));
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: '/admin/tenants/:id', tag: TAG, summary: 'Rename a tenant or open or close its sign-up (built-in tenant only)', auth: admin,
      params: idParams, body: tenantChanges,
      responses: { 200: { description: 'The tenant', schema: tenantResponse }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, body }, _req, res) => {
      res.json(anyJson(await tenants.update(params.id, body)));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/admin/tenants/:id', tag: TAG, auth: admin, params: idParams,
      summary: 'Remove a tenant with all its users, clients, sessions, keys and data; its sockets close (built-in tenant only)',
      responses: { 204: { description: 'Removed' }, ...errorResponses('auth', 'notFound', 'conflict') },
    },
    async ({ params }, _req, res) => {
      await tenants.remove(params.id);
      res.status(204).end();
    },
  );
}

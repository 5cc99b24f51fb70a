import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import { afterPosition, decodeCursor, pageOf, pageQuery } from './paging';
import type { Reads } from '../db/reads';

/** Columns every user-owned row has. */
export interface OwnedRow {
  id: string;
  tenant_id: string;
  user_id: string;
  created_at: number;
  updated_at: number;
}

type Columns = Record<string, unknown>;

/**
 * A REST resource whose rows belong to one user (tasks, calendar events):
 * list, create, read, update and delete, each scoped to the caller, with
 * another user's row answering 404 as if it did not exist.
 */
export interface OwnedResource<Row extends OwnedRow, Create, Patch, Filters extends Record<string, unknown>> {
  readonly name: string;
  readonly path: string;
  readonly table: string;
  readonly tag: string;
  readonly scopes: { readonly read: string; readonly write: string };
  readonly createBody: z.ZodType<Create>;
  readonly patchBody: z.ZodType<Patch>;
  /** Filters of the list endpoint, beside `limit` and `cursor`. */
  readonly filters: z.ZodType<Filters> & z.ZodObject;
  readonly response: z.ZodType;
  readonly order: { readonly column: keyof Row & string; readonly direction: 'asc' | 'desc' };
  /** The columns `toJson` reads (the order column among them): reads fetch only these, since each column read costs. */
  readonly shown: ReadonlyArray<keyof Row & string>;
  applyFilters(query: Knex.QueryBuilder, filters: Filters): void;
  createColumns(input: Create): Columns;
  /** Checks a row as it would be stored (e.g. end ≥ start); throws a validation error. */
  check?(row: Row): void;
  toJson(row: Row): unknown;
}

// A PATCH body names columns; undefined means "leave as is".
const definedColumns = (columns: Columns): Columns =>
  Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined));

const idParams = z.object({ id: z.string().min(1).max(64) });

/** Registers the five routes of an owned resource. */
export function ownedResourceRoutes<Row extends OwnedRow, Create, Patch, Filters extends Record<string, unknown>>(
  api: Api,
  router: Router,
  { db, reads }: { db: Knex; reads: Reads },
  resource: OwnedResource<Row, Create, Patch, Filters>,
): void {
  const { name, path, table, tag, scopes, order } = resource;
  const rows = () => db<Row>(table);
  const listQuery = resource.filters.extend(pageQuery);
  const one = { params: idParams, auth: { scope: scopes.read, user: true } } as const;

  async function find(tenantId: string, userId: string, id: string, columns: ReadonlyArray<string> = ['*']): Promise<Row> {
    const row = await reads.first<Row>(rows().select(columns).where({ tenant_id: tenantId, user_id: userId, id } as Partial<Row>));
    if (!row) throw notFound(name);
    return row;
  }

  api.route(
    router,
    {
      method: 'get', path, tag, summary: `List your ${name}s`, auth: { scope: scopes.read, user: true }, query: listQuery,
      responses: { 200: { description: `A page of ${name}s`, schema: z.array(resource.response), headers: ['Link'] }, ...errorResponses('auth') },
    },
    async ({ query, principal }, req, res) => {
      const { limit, cursor, ...filters } = query as z.output<typeof listQuery> & { limit: number; cursor?: string };
      const q = rows().select(resource.shown).where({ tenant_id: principal.tenantId, user_id: principal.subject } as Partial<Row>);
      resource.applyFilters(q, filters as Filters);
      afterPosition(q, order.column, order.direction, decodeCursor(cursor)).limit(limit + 1);
      const page = pageOf(req, res, await reads.all<Row>(q), limit, (row) => [row[order.column] as number, row.id]);
      res.json(page.map((row) => resource.toJson(row)));
    },
  );

  api.route(
    router,
    {
      method: 'post', path, tag, summary: `Create a ${name}`, auth: { scope: scopes.write, user: true }, body: resource.createBody,
      responses: { 201: { description: `The new ${name}`, schema: resource.response, headers: ['Location'] }, ...errorResponses('auth') },
    },
    async ({ body, principal }, req, res) => {
      const now = Date.now();
      const row = {
        id: randomUUID(),
        tenant_id: principal.tenantId,
        user_id: principal.subject,
        ...resource.createColumns(body),
        created_at: now,
        updated_at: now,
      } as unknown as Row;
      resource.check?.(row);
      await rows().insert(row as never);
      res.status(201).location(`${req.baseUrl}${path}/${row.id}`).json(resource.toJson(row));
    },
  );

  api.route(
    router,
    {
      method: 'get', path: `${path}/:id`, tag, summary: `Read a ${name}`, ...one,
      responses: { 200: { description: `The ${name}`, schema: resource.response }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, principal }, _req, res) => {
      res.json(resource.toJson(await find(principal.tenantId, principal.subject, params.id, resource.shown)));
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: `${path}/:id`, tag, summary: `Change a ${name}`, params: idParams, auth: { scope: scopes.write, user: true },
      body: resource.patchBody,
      responses: { 200: { description: `The changed ${name}`, schema: resource.response }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, body, principal }, _req, res) => {
      const current = await find(principal.tenantId, principal.subject, params.id);
      const changes = { ...definedColumns(body as Columns), updated_at: Date.now() };
      const next = { ...current, ...changes } as Row;
      resource.check?.(next);
      await rows().where({ id: current.id } as Partial<Row>).update(changes as never);
      res.json(resource.toJson(next));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: `${path}/:id`, tag, summary: `Delete a ${name}`, params: idParams, auth: { scope: scopes.write, user: true },
      responses: { 204: { description: 'Deleted' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, principal }, _req, res) => {
      const deleted = await rows().where({ tenant_id: principal.tenantId, user_id: principal.subject, id: params.id } as Partial<Row>).delete();
      if (deleted === 0) throw notFound(name);
      res.status(204).end();
    },
  );
}

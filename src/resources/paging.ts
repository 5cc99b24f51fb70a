import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { validationFailed } from '../errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `limit` and `cursor` of every list endpoint (SPEC §5). */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(512).optional(),
};

/** A keyset position: the ordering column's value and the row id that breaks ties. */
export type Position = readonly [number, string];

const positionSchema = z.tuple([z.number().int(), z.string().max(64)]);

export const encodeCursor = (position: Position) => Buffer.from(JSON.stringify(position)).toString('base64url');

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  try {
    return positionSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw validationFailed('The cursor is not valid.', [{ field: 'cursor', message: 'is not a cursor this server issued' }]);
  }
}

/**
 * Keyset paging: rows strictly after `position` in (column, id) order. Unlike
 * offsets, pages stay stable while rows are inserted concurrently.
 */
export function afterPosition(query: Knex.QueryBuilder, column: string, direction: 'asc' | 'desc', position: Position | undefined) {
  const id = column.includes('.') ? `${column.slice(0, column.lastIndexOf('.'))}.id` : 'id';
  if (position) {
    const op = direction === 'desc' ? '<' : '>';
    query.where((q) => q.where(column, op, position[0]).orWhere((tie) => tie.where(column, position[0]).andWhere(id, op, position[1])));
  }
  return query.orderBy(column, direction).orderBy(id, direction);
}

/** Sets `Link: <…>; rel="next"` (RFC 8288) to this request with the given query changes. */
export function setNextLink(req: Request, res: Response, changes: Record<string, string>): void {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) if (typeof value === 'string') query.set(name, value);
  for (const [name, value] of Object.entries(changes)) query.set(name, value);
  res.set('Link', `<${req.baseUrl}${req.path}?${query.toString()}>; rel="next"`);
}

/** Fetches one more row than asked to know whether a next page exists; sets `Link` when it does. */
export function pageOf<T>(req: Request, res: Response, rows: T[], limit: number, positionOf: (row: T) => Position): T[] {
  if (rows.length <= limit) return rows;
  const page = rows.slice(0, limit);
  setNextLink(req, res, { cursor: encodeCursor(positionOf(page[page.length - 1]!)) });
  return page;
}

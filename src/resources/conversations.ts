import { randomUUID } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { createConversationQueries, type ConversationRow } from '../db/queries/conversations';
import { usernameKey } from '../db/queries/users';
import { validationFailed } from '../errors';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import { afterPosition, decodeCursor, pageOf, pageQuery } from './paging';
import { iso, timeOut } from './time';

const newConversation = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  members: z.array(z.string().min(1).max(32)).max(100).default([]),
});

const conversationJson = z.object({
  id: z.string(),
  title: z.string().nullable(),
  members: z.array(z.string()),
  last_seq: z.number().int(),
  created_at: timeOut,
});

const toJson = (row: ConversationRow, members: string[]) => ({
  id: row.id,
  title: row.title,
  members,
  last_seq: Number(row.last_seq),
  created_at: iso(Number(row.created_at)),
});

/** SPEC §5.3: conversations the caller is a member of; `unknownMembersLimit` bounds the 422s that name unknown users (SPEC §9). */
export function conversationRoutes(api: Api, router: Router, db: Knex, unknownMembersLimit: RequestHandler): void {
  const conversations = createConversationQueries(db);

  api.route(
    router,
    {
      method: 'post', path: '/conversations', tag: 'Messages', summary: 'Start a conversation (you are a member); naming unknown users is 422 at most 20 times an hour, then 429',
      auth: { scope: 'messages:write', user: true }, afterAuth: [unknownMembersLimit], body: newConversation,
      responses: {
        201: { description: 'The new conversation', schema: conversationJson, headers: ['Location'] },
        ...errorResponses('auth', 'unprocessable'),
        429: { description: 'rate_limited: this user was answered 422 (unknown members) 20 times this hour; every new conversation waits Retry-After', schema: errorBody, headers: ['Retry-After'] },
      },
    },
    async ({ body, principal }, req, res) => {
      const wanted = [...new Set(body.members.map(usernameKey))];
      const found: Array<{ id: string; username: string; username_key: string }> = wanted.length
        ? await db('users').where({ tenant_id: principal.tenantId }).whereIn('username_key', wanted).select('id', 'username', 'username_key')
        : [];
      const missing = wanted.filter((name) => !found.some((user) => user.username_key === name));
      if (missing.length > 0) {
        throw validationFailed(
          `No such user: ${missing.join(', ')}.`,
          missing.map((name) => ({ field: 'members', message: `unknown username "${name}"` })),
          422,
        );
      }
      const memberIds = [...new Set([principal.subject, ...found.map((user) => user.id)])];
      const row: ConversationRow = {
        tenant_id: principal.tenantId,
        id: randomUUID(),
        title: body.title ?? null,
        created_by: principal.subject,
        last_seq: 0,
        created_at: Date.now(),
      };
      await db.transaction((trx) => createConversationQueries(trx).insert(row, memberIds));
      const names = await conversations.memberNames(principal.tenantId, [row.id]);
      res.status(201).location(`${req.baseUrl}/messages/${row.id}`).json(toJson(row, names.get(row.id) ?? []));
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/conversations', tag: 'Messages', summary: 'List your conversations, newest first',
      auth: { scope: 'messages:read', user: true }, query: z.object(pageQuery),
      responses: { 200: { description: 'A page of conversations', schema: z.array(conversationJson), headers: ['Link'] }, ...errorResponses('auth') },
    },
    async ({ query, principal }, req, res) => {
      const q = conversations.listForUser(principal.tenantId, principal.subject);
      afterPosition(q, 'conversations.created_at', 'desc', decodeCursor(query.cursor)).limit(query.limit + 1);
      const page = pageOf(req, res, (await q) as ConversationRow[], query.limit, (row) => [Number(row.created_at), row.id]);
      const names = await conversations.memberNames(principal.tenantId, page.map((row) => row.id));
      res.json(page.map((row) => toJson(row, names.get(row.id) ?? [])));
    },
  );
}

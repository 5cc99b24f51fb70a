import { randomUUID } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Bus } from '../bus/bus';
import { createConversationQueries, type ConversationRow } from '../db/queries/conversations';
import { usernameKey } from '../db/queries/users';
import { forbidden, notFound, validationFailed } from '../errors';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import { sessionIdSchema } from '../messages/message-input';
import { afterPosition, decodeCursor, pageOf, pageQuery } from './paging';
import { iso, timeOut } from './time';

const usernames = z.array(z.string().min(1).max(32)).max(100);
const newConversation = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  members: usernames.default([]),
});
const newMembers = z.strictObject({ members: usernames.min(1) });
const conversationParams = z.object({ session_id: sessionIdSchema });

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

/** The ids of users of a tenant by username (case-insensitive); 422 naming those that do not exist. */
async function userIdsNamed(db: Knex, tenantId: string, names: readonly string[]): Promise<string[]> {
  const wanted = [...new Set(names.map(usernameKey))];
  const found: Array<{ id: string; username_key: string }> = wanted.length
    ? await db('users').where({ tenant_id: tenantId }).whereIn('username_key', wanted).select('id', 'username_key')
    : [];
  const missing = wanted.filter((name) => !found.some((user) => user.username_key === name));
  if (missing.length > 0) {
    throw validationFailed(
      `No such user: ${missing.join(', ')}.`,
      missing.map((name) => ({ field: 'members', message: `unknown username "${name}"` })),
      422,
    );
  }
  return found.map((user) => user.id);
}

/** SPEC §5.3: conversations the caller is a member of, and their members; `unknownMembersLimit` bounds the 422s that name unknown users (SPEC §9). */
export function conversationRoutes(api: Api, router: Router, db: Knex, bus: Bus, unknownMembersLimit: RequestHandler): void {
  const conversations = createConversationQueries(db);
  /** The conversation as its members see it; 404 unless the caller is one. */
  const visible = async (tenantId: string, id: string, userId: string) => {
    const row = await conversations.find(tenantId, id);
    if (!row || !(await conversations.isMember(tenantId, id, userId))) throw notFound('conversation');
    return row;
  };
  const changed = (tenantId: string, conversationId: string) => bus.publish('conversations.changed', { tenantId, conversationId });

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
      const memberIds = [...new Set([principal.subject, ...(await userIdsNamed(db, principal.tenantId, body.members))])];
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

  api.route(
    router,
    {
      method: 'post', path: '/conversations/:session_id/members', tag: 'Messages', summary: 'Add members to a conversation you are a member of',
      auth: { scope: 'messages:write', user: true }, afterAuth: [unknownMembersLimit], params: conversationParams, body: newMembers,
      responses: {
        200: { description: 'The conversation with its members now', schema: conversationJson },
        ...errorResponses('auth', 'notFound', 'unprocessable'),
        429: { description: 'rate_limited: this user was answered 422 (unknown members) 20 times this hour, here or on POST /conversations', schema: errorBody, headers: ['Retry-After'] },
      },
    },
    async ({ params: { session_id: id }, body, principal }, _req, res) => {
      const { tenantId } = principal;
      await visible(tenantId, id, principal.subject);
      const userIds = await userIdsNamed(db, tenantId, body.members);
      if (!(await db.transaction((trx) => createConversationQueries(trx).addMembers(tenantId, id, userIds, Date.now())))) throw notFound('conversation');
      changed(tenantId, id);
      const row = (await conversations.find(tenantId, id))!;
      res.json(toJson(row, (await conversations.memberNames(tenantId, [id])).get(id) ?? []));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/conversations/:session_id/members/:username', tag: 'Messages',
      summary: 'Leave a conversation, or (its creator) remove a member; their next message is refused on every process',
      auth: { scope: 'messages:write', user: true }, params: conversationParams.extend({ username: z.string().min(1).max(32) }),
      responses: {
        204: { description: 'Removed' },
        ...errorResponses('auth', 'notFound'),
        403: { description: 'The token lacks the needed scope (insufficient_scope), or forbidden: only the creator removes other members', schema: errorBody, headers: ['WWW-Authenticate'] },
      },
    },
    async ({ params: { session_id: id, username }, principal }, _req, res) => {
      const { tenantId } = principal;
      const row = await visible(tenantId, id, principal.subject);
      // Among the members only: a user who exists but is not one gets the same 404 as a name nobody has.
      const userId = await createConversationQueries(db).memberIdByUsername(tenantId, id, usernameKey(username));
      if (userId === undefined) throw notFound('member');
      if (userId !== principal.subject && row.created_by !== principal.subject) throw forbidden('Only the conversation\'s creator removes other members.');
      await db.transaction(async (trx) => {
        if (!(await createConversationQueries(trx).removeMember(tenantId, id, userId))) throw notFound('member');
      });
      changed(tenantId, id);
      res.status(204).end();
    },
  );
}

import type { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { createUserQueries } from '../db/queries/users';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Gateway } from './gateway';
import { TICKET_TTL_SECONDS } from './tickets';

const TAG = 'WebSocket';

async function shareConversation(db: Knex, tenantId: string, userId: string, otherId: string): Promise<boolean> {
  if (userId === otherId) return true;
  const row = await db('conversation_members as mine')
    .join('conversation_members as theirs', (on) =>
      on.on('theirs.tenant_id', 'mine.tenant_id').andOn('theirs.conversation_id', 'mine.conversation_id'),
    )
    .where({ 'mine.tenant_id': tenantId, 'mine.user_id': userId, 'theirs.user_id': otherId })
    .first('mine.conversation_id');
  return row !== undefined;
}

/** SPEC §6 REST companions of the socket: one-time tickets and presence. */
export function gatewayRoutes(api: Api, router: Router, db: Knex, gateway: Gateway): void {
  const users = createUserQueries(db);

  api.route(
    router,
    {
      method: 'post', path: '/ws/ticket', tag: TAG, summary: 'A one-time ticket (30 s) to open /ws/:username?ticket=… without a token in the URL',
      auth: { scope: 'messages:read', user: true },
      responses: { 201: { description: 'The ticket', schema: z.object({ ticket: z.string(), expires_in: z.number().int() }) }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      res.status(201).set('Cache-Control', 'no-store').json({ ticket: await gateway.tickets.issue(principal), expires_in: TICKET_TTL_SECONDS });
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/presence/:username', tag: TAG, summary: 'Whether a user you share a conversation with is online',
      auth: { scope: 'messages:read', user: true }, params: z.object({ username: z.string().min(1).max(32) }),
      responses: {
        200: { description: 'Presence on this server', schema: z.object({ online: z.boolean(), connections: z.number().int() }) },
        ...errorResponses('auth', 'notFound'),
      },
    },
    async ({ params, principal }, _req, res) => {
      const user = await users.findByUsername(principal.tenantId, params.username);
      if (!user || !(await shareConversation(db, principal.tenantId, principal.subject, user.id))) throw notFound('user');
      const connections = gateway.registry.count(principal.tenantId, user.id);
      res.json({ online: connections > 0, connections });
    },
  );
}

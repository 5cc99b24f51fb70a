import type { Router } from 'express';
import { z } from 'zod';
import { PUSH_SCOPE } from '../auth/scopes';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { MessageStore } from '../messages/message-store';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, setNextLink } from './paging';
import { messageInput, messageJson, sessionIdSchema } from '../messages/message-input';
import { senderOf } from '../messages/sender';

const params = z.object({ session_id: sessionIdSchema });

/** SPEC §5.3: a conversation's messages in `seq` order, and posting into it. */
export function messageRoutes(api: Api, router: Router, store: MessageStore): void {
  api.route(
    router,
    {
      method: 'get', path: '/messages/:session_id', tag: 'Messages', summary: 'Read a conversation after a seq (members only)',
      auth: { scope: 'messages:read', user: true }, params,
      query: z.object({
        after_seq: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
      }),
      responses: { 200: { description: 'Messages ascending by seq', schema: z.array(messageJson), headers: ['Link'] }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params: { session_id: sessionId }, query, principal }, req, res) => {
      const rows = await store.history(principal.tenantId, sessionId, principal.subject, query.after_seq, query.limit + 1);
      const page = rows.slice(0, query.limit);
      if (rows.length > query.limit) setNextLink(req, res, { after_seq: String(page[page.length - 1]!.seq) });
      res.json(page);
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/messages/:session_id', tag: 'Messages',
      summary: 'Post a message; a new session_id starts a conversation with you as its member; a repeated nonce returns the first message',
      auth: { scope: { user: 'messages:write', client: PUSH_SCOPE } }, params, body: z.strictObject(messageInput),
      responses: {
        201: { description: 'The stored message', schema: messageJson, headers: ['Location'] },
        200: { description: 'The message first stored with this nonce', schema: messageJson },
        ...errorResponses('auth', 'notFound', 'rateLimited'),
      },
    },
    async ({ params: { session_id: sessionId }, body, principal }, req, res) => {
      const { message, created } = await store.post({ tenantId: principal.tenantId, sessionId, sender: senderOf(principal), ...body });
      if (created) res.status(201).location(`${req.baseUrl}/messages/${sessionId}?after_seq=${message.seq - 1}&limit=1`);
      res.json(message);
    },
  );
}

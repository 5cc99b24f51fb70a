import type { Router } from 'express';
import { z } from 'zod';
import { PUSH_SCOPE } from '../auth/scopes';
import type { Bus } from '../bus/bus';
import { createUserQueries } from '../db/queries/users';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Knex } from 'knex';

const params = z.object({ username: z.string().min(1).max(32) });
// JSON.stringify recurses: far deeper data (20,000 nested arrays fit in 64 KiB) would throw while the frame is built.
const MAX_DATA_DEPTH = 64;

/** How deeply a parsed JSON value nests (iteratively, so any depth can be measured). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const nested of Object.values(item)) pending.push([nested, depth + 1]);
  }
  return deepest;
}

const body = z.strictObject({
  type: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  data: z.unknown().refine((data) => depthOf(data) <= MAX_DATA_DEPTH, `must nest at most ${MAX_DATA_DEPTH} levels`),
});

/** How many of a user's sockets are open on this process; the gateway knows. */
export type SocketCount = (tenantId: string, userId: string) => number;

/**
 * SPEC §5.3 service push: a confidential client with `push` sends an event
 * to a user's open sockets. Nothing is stored. Replaces the AxIA backend's
 * unauthenticated push endpoint.
 */
export function pushRoutes(api: Api, router: Router, db: Knex, bus: Bus, socketCount: SocketCount): void {
  const users = createUserQueries(db);
  api.route(
    router,
    {
      method: 'post', path: '/push/:username', tag: 'Messages', summary: "Push an event to a user's open sockets (clients with push)",
      auth: { scope: PUSH_SCOPE, client: true }, params, body,
      responses: {
        202: { description: 'Accepted; how many sockets of this process it reached', schema: z.object({ delivered: z.number().int() }) },
        ...errorResponses('auth', 'notFound'),
      },
    },
    async ({ params: { username }, body: { type, data }, principal }, _req, res) => {
      const user = await users.findByUsername(principal.tenantId, username);
      if (!user) throw notFound('user');
      const delivered = socketCount(principal.tenantId, user.id);
      bus.publish('push.sent', { tenantId: principal.tenantId, userId: user.id, type, data });
      res.status(202).json({ delivered });
    },
  );
}

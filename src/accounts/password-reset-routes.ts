import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import type { Api } from '../http/api';
import { clientKey } from '../http/client-key';
import { errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { emailSchema, passwordSchema } from './account-rules';
import { PasswordReset } from './password-reset';
import { acceptThenDo, codeSchema } from './verification-routes';

const username = z.string().min(1).max(256);
const forgotBody = z
  .strictObject({ username: username.optional(), email: emailSchema.optional() })
  .refine((body) => (body.username === undefined) !== (body.email === undefined), 'Give either username or email.');

const TAG = 'Accounts';

/** SPEC §8: a forgotten password replaced through a mailed code. */
export function passwordResetRoutes(api: Api, router: Router, services: Services, codesLimit: RequestHandler): void {
  const reset = new PasswordReset(services);

  api.route(
    router,
    {
      method: 'post', path: '/password/forgot', tag: TAG, summary: 'Mail a reset code to the account (or every account with this address); the same answer whether or not one exists',
      before: [codesLimit], body: forgotBody,
      responses: { 202: { description: 'A code is on its way if such an account exists' }, ...errorResponses('rateLimited') },
    },
    ({ body }, _req, res) => acceptThenDo(res, services.logger, () => reset.request(body.username === undefined ? { email: body.email! } : { username: body.username })),
  );

  api.route(
    router,
    {
      method: 'post', path: '/password/reset', tag: TAG, summary: 'Set a new password with the mailed code; ends every session and closes their sockets (4003)',
      before: [codesLimit], body: z.strictObject({ username, code: codeSchema, new_password: passwordSchema }),
      responses: { 204: { description: 'Changed' }, ...errorResponses('invalidCode', 'rateLimited') },
    },
    async ({ body }, req, res) => {
      await reset.reset(body.username, body.code, body.new_password, clientKey(req.ip));
      res.status(204).end();
    },
  );
}

import type { RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Api } from '../http/api';
import { clientKey } from '../http/client-key';
import { errorResponses } from '../http/openapi-responses';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { EmailVerification } from './verification';

const username = z.string().min(1).max(256);
/** Six digits; spaces a person may paste around them are dropped. */
export const codeSchema = z.string().trim().regex(/^\d{6}$/, 'must be the 6-digit code from the mail');

const TAG = 'Accounts';

/**
 * Answers 202 at once and only then looks the account up and mails it: the time the answer
 * takes says nothing of whether the account exists (SPEC §8).
 */
export async function acceptThenDo(res: Response, logger: Logger, work: () => Promise<void>): Promise<void> {
  res.status(202).end();
  await work().catch((error: unknown) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'mailing an account code failed'));
}

/** SPEC §8: the code that releases an account signed up while REQUIRE_EMAIL_VERIFICATION is on. */
export function verificationRoutes(api: Api, router: Router, services: Services, codesLimit: RequestHandler): void {
  const verification = new EmailVerification(services);

  api.route(
    router,
    {
      method: 'post', path: '/signup/verify', tag: TAG, summary: 'Verify the e-mail address of a new account with the mailed code; the account can then sign in',
      before: [codesLimit], body: z.strictObject({ username, code: codeSchema }),
      responses: { 204: { description: 'Verified' }, ...errorResponses('invalidCode', 'rateLimited') },
    },
    async ({ body }, req, res) => {
      await verification.verify(body.username, body.code, clientKey(req.ip));
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/signup/resend', tag: TAG, summary: 'Mail a new verification code (at most one a minute); the same answer for any name',
      before: [codesLimit], body: z.strictObject({ username }),
      responses: { 202: { description: 'A code is on its way if the account waits for one' }, ...errorResponses('rateLimited') },
    },
    ({ body }, _req, res) => acceptThenDo(res, services.logger, () => verification.resend(body.username)),
  );
}

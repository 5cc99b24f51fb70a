import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ACCOUNT_SCOPE } from '../auth/scopes';
import { requireScope } from '../auth/authenticate';
import { forbidden, notFound, validationFailed } from '../errors';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import { clearRefreshCookie } from '../oauth/refresh-cookie';
import type { Services } from '../services';
import { emailSchema, passwordSchema, usernameSchema } from './account-rules';
import { currentPasswordSchema, requireCurrentPassword } from './current-password';
import { passkeyRoutes } from './passkey-routes';
import { passwordResetRoutes } from './password-reset-routes';
import { twoFactorRoutes } from './two-factor-routes';
import { Profiles } from './profiles';
import { publicUser, userJson } from './users';
import { EmailVerification } from './verification';
import { verificationRoutes } from './verification-routes';

const signupBody = z.strictObject({ username: usernameSchema, password: passwordSchema, email: emailSchema.optional() });
const passwordChangeBody = z.strictObject({ current_password: currentPasswordSchema, new_password: passwordSchema });
const logoutBody = z.strictObject({ all: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional() });
const sessionParams = z.object({ id: z.string().min(1).max(64) });
const sessionJson = z.object({
  id: z.string(),
  client_id: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  current: z.boolean(),
});

const iso = (ms: number) => new Date(ms).toISOString();
const TAG = 'Accounts';

export interface AccountLimits {
  readonly signup: RequestHandler;
  /** The endpoints that check or mail e-mailed codes (SPEC §8). */
  readonly accountCodes: RequestHandler;
  /** The endpoints that change two-factor sign-in (SPEC §8). */
  readonly twoFactor: RequestHandler;
  /** Failed logins per user and address, which wrong current passwords count as too (SPEC §9). */
  readonly failedLogins: RequestHandler;
}

/** SPEC §4: signup, `/me`, password change, sessions and logout; and SPEC §8: verification, reset and two-factor. */
export function accountRoutes(api: Api, router: Router, services: Services, limits: AccountLimits): void {
  const { config, tenantId, users, sessions } = services;
  const userToken = { user: true } as const;
  const accountToken = { user: true, scope: ACCOUNT_SCOPE } as const;
  const verification = new EmailVerification(services);
  const profiles = new Profiles(users);

  const found = <T>(user: T | undefined): T => {
    if (!user) throw notFound('user');
    return user;
  };
  const currentUser = async (subject: string) => found(await users.queries.findById(tenantId, subject));

  api.route(
    router,
    {
      method: 'post', path: '/signup', tag: TAG, before: [limits.signup], body: signupBody,
      summary: 'Create an account (403 when SIGNUP=closed); with REQUIRE_EMAIL_VERIFICATION=true an email is required and gets a code',
      responses: {
        201: {
          description: 'Created; verification_pending when the account waits for its e-mailed code (POST /signup/verify)',
          schema: z.object({ id: z.string(), username: z.string(), verification_pending: z.literal(true).optional() }),
          headers: ['Location'],
        },
        ...errorResponses('conflict', 'rateLimited'),
        403: { description: 'Sign-up is closed' },
      },
    },
    async ({ body }, req, res) => {
      if (services.tenant.signup === 'closed') throw forbidden('Sign-up is closed on this server.');
      if (config.requireEmailVerification && body.email === undefined) {
        throw validationFailed('This server verifies e-mail addresses: give one to sign up.', [{ field: 'email', message: 'is required' }]);
      }
      const user = await users.create({ tenantId, ...body });
      if (config.requireEmailVerification) await verification.begin(user);
      const pending = config.requireEmailVerification ? { verification_pending: true } : {};
      res.status(201).location(`${req.baseUrl}/me`).json({ id: user.id, username: user.username, ...pending });
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/me', tag: TAG, summary: 'The user of this token', auth: userToken,
      responses: { 200: { description: 'You', schema: userJson }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      res.json(publicUser(found(await profiles.of(principal))));
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/me/password', tag: TAG, auth: accountToken, afterAuth: [limits.failedLogins], body: passwordChangeBody,
      summary: 'Change your password (scope account); ends every other session. A wrong current_password is 403 and a failed login (429 past RATE_LIMIT_LOGIN_FAILURES)',
      responses: {
        204: { description: 'Changed' },
        ...errorResponses('auth', 'rateLimited'),
        403: { description: 'insufficient_scope (no account scope), or forbidden: the current password is wrong', schema: errorBody, headers: ['WWW-Authenticate'] },
      },
    },
    async ({ body, principal }, _req, res) => {
      const user = await currentUser(principal.subject);
      await requireCurrentPassword(services, user, body.current_password, res);
      await users.setPassword(user, body.new_password, principal.sessionId);
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/sessions', tag: TAG, summary: 'Your live sessions (devices); scope account', auth: accountToken,
      responses: { 200: { description: 'Newest first', schema: z.array(sessionJson) }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      const live = await sessions.listLive(principal.subject);
      res.json(
        live.map((session) => ({
          id: session.id,
          client_id: session.client_id,
          created_at: iso(session.created_at),
          last_used_at: iso(session.last_used_at),
          ip: session.ip,
          user_agent: session.user_agent,
          current: session.id === principal.sessionId,
        })),
      );
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/sessions/:id', tag: TAG, summary: 'End one of your sessions; scope account', auth: accountToken, params: sessionParams,
      responses: { 204: { description: 'Ended' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ params, principal }, _req, res) => {
      const session = await sessions.find(params.id);
      if (!session || session.user_id !== principal.subject || session.revoked_at !== null) throw notFound('session');
      await sessions.revoke({ id: params.id }, 'revoked_by_user');
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/logout', tag: TAG,
      summary: 'End this session (any token), or all of yours with {"all": true} (scope account); clears the refresh cookie',
      auth: {}, body: logoutBody,
      responses: { 204: { description: 'Logged out', headers: ['Set-Cookie'] }, ...errorResponses('auth') },
    },
    async ({ body, principal }, _req, res) => {
      if (body.all) {
        // Only user tokens can hold the scope (client_credentials never get it), so the subject is a user.
        requireScope(principal, ACCOUNT_SCOPE);
        await sessions.revoke({ userId: principal.subject }, 'logout_all');
      } else await sessions.revoke({ id: principal.sessionId }, 'logout');
      clearRefreshCookie(res, config);
      res.status(204).end();
    },
  );

  verificationRoutes(api, router, services, limits.accountCodes);
  passwordResetRoutes(api, router, services, limits.accountCodes);
  twoFactorRoutes(api, router, services, limits);
  passkeyRoutes(api, router, services, limits);
}

import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ACCOUNT_SCOPE } from '../auth/scopes';
import { notFound } from '../errors';
import type { Api, RouteSpec } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { currentPasswordSchema, requireCurrentPassword } from './current-password';
import { TwoFactor } from './two-factor';

const otpBody = z.strictObject({ otp: z.string().min(1).max(64).describe('a TOTP code, or (to turn it off) a recovery code') });
const enrolBody = z.strictObject({ password: currentPasswordSchema.describe('the current password (SPEC §9)') });
const statusJson = z.object({ enabled: z.boolean(), pending: z.boolean(), recovery_codes_left: z.number().int() });
const enrolmentJson = z.object({
  otpauth_uri: z.string().describe('otpauth://totp/… for an authenticator app (as a QR code)'),
  secret: z.string().describe('the same secret in Base32, for typing in'),
  recovery_codes: z.array(z.string()).describe('single-use codes for when the authenticator is lost; shown this once'),
});

const TAG = 'Two-factor';
// SPEC §9: turning a second factor on or off is managing the account.
const accountToken = { user: true, scope: ACCOUNT_SCOPE } as const;

export interface TwoFactorLimits {
  /** Enrol, confirm and disable together, per address (SPEC §8). */
  readonly twoFactor: RequestHandler;
  /** Failed logins per user and address, which a wrong password at enrolment counts as too (SPEC §9). */
  readonly failedLogins: RequestHandler;
}

/** SPEC §8 and §9: TOTP two-factor sign-in for the caller's account, behind the `account` scope. */
export function twoFactorRoutes(api: Api, router: Router, services: Services, limits: TwoFactorLimits): void {
  const twoFactor = new TwoFactor(services);

  api.route(
    router,
    {
      method: 'get', path: '/me/2fa', tag: TAG, summary: 'Whether two-factor sign-in is on, and how many recovery codes are left', auth: accountToken,
      responses: { 200: { description: 'Status', schema: statusJson }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      const status = await twoFactor.status(principal.subject);
      res.json({ enabled: status.enabled, pending: status.pending, recovery_codes_left: status.recoveryCodesLeft });
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/me/2fa', tag: TAG, auth: accountToken, body: enrolBody,
      summary: 'Start two-factor enrolment with the current password: a new TOTP secret and recovery codes, off until confirmed. ' +
        'A wrong password is 403 and a failed login (429 past RATE_LIMIT_LOGIN_FAILURES)',
      before: [limits.twoFactor], afterAuth: [limits.failedLogins],
      responses: {
        201: { description: 'The secret and recovery codes, this once (Cache-Control: no-store)', schema: enrolmentJson },
        ...errorResponses('auth', 'conflict', 'rateLimited'),
        403: { description: 'insufficient_scope (no account scope), or forbidden: the password is wrong', schema: errorBody, headers: ['WWW-Authenticate'] },
      },
    },
    async ({ principal, body }, _req, res) => {
      const user = await services.users.queries.findById(services.tenantId, principal.subject);
      if (!user) throw notFound('user');
      await requireCurrentPassword(services, user, body.password, res);
      const enrolment = await twoFactor.enrol(user.id, user.username);
      res.status(201).set('Cache-Control', 'no-store').json({ otpauth_uri: enrolment.otpauthUri, secret: enrolment.secret, recovery_codes: enrolment.recoveryCodes });
    },
  );

  /** A route whose body is a code, which `act` checks and acts on for the caller; it answers 204. */
  const otpRoute = (spec: Pick<RouteSpec, 'method' | 'path' | 'summary' | 'responses'>, act: (subject: string, otp: string) => Promise<void>) =>
    api.route(router, { ...spec, tag: TAG, auth: accountToken, body: otpBody, before: [limits.twoFactor] }, async ({ principal, body }, _req, res) => {
      await act(principal.subject, body.otp);
      res.status(204).end();
    });

  otpRoute(
    {
      method: 'post', path: '/me/2fa/confirm', summary: 'Turn two-factor sign-in on with a first code from the authenticator',
      responses: { 204: { description: 'On: the password grant now answers mfa_required' }, ...errorResponses('auth', 'conflict', 'invalidCode', 'rateLimited') },
    },
    (subject, otp) => twoFactor.confirm(subject, otp),
  );

  otpRoute(
    {
      method: 'delete', path: '/me/2fa', summary: 'Turn two-factor sign-in off; needs a current TOTP code or a recovery code',
      responses: { 204: { description: 'Off' }, ...errorResponses('auth', 'notFound', 'rateLimited', 'invalidCode') },
    },
    (subject, otp) => twoFactor.disable(subject, otp),
  );
}

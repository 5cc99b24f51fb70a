import type { Router } from 'express';
import { z } from 'zod';
import { ACCOUNT_SCOPE } from '../auth/scopes';
import { notFound } from '../errors';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import type { AccountLimits } from './account-routes';
import { currentPasswordSchema, requireCurrentPassword } from './current-password';
import { passkeyNameSchema, registrationResponseSchema } from './passkey-schemas';
import { Passkeys, publicPasskey } from './passkeys';

const optionsBody = z.strictObject({ password: currentPasswordSchema.describe('the current password (as for POST /me/2fa, SPEC §9)') });
const registerBody = z.strictObject({ name: passkeyNameSchema.optional(), response: registrationResponseSchema.describe('the RegistrationResponseJSON of navigator.credentials.create()') });
const renameBody = z.strictObject({ name: passkeyNameSchema });
const passkeyParams = z.object({ id: z.string().min(1).max(64) });
/** A passkey as GET /me/passkeys and the admin API show it. */
export const passkeyJson = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable(),
  device_type: z.string().describe('singleDevice or multiDevice (a synced passkey)'),
  backed_up: z.boolean(),
});
const creationOptions = z.object({ challenge: z.string(), rp: z.object({ id: z.string().optional(), name: z.string() }) }).loose().describe('PublicKeyCredentialCreationOptionsJSON for startRegistration()');

const TAG = 'Passkeys';
const accountToken = { user: true, scope: ACCOUNT_SCOPE } as const;

/** Issue 21: the caller's passkeys, behind the `account` scope; enrolling one needs the current password too. */
export function passkeyRoutes(api: Api, router: Router, services: Services, limits: Pick<AccountLimits, 'failedLogins'>): void {
  const passkeys = new Passkeys(services);
  const currentUser = async (subject: string) => {
    const user = await services.users.queries.findById(services.tenantId, subject);
    if (!user) throw notFound('user');
    return user;
  };

  api.route(
    router,
    {
      method: 'post', path: '/me/passkeys/options', tag: TAG, auth: accountToken, body: optionsBody, afterAuth: [limits.failedLogins],
      summary: 'Start enrolling a passkey with the current password: WebAuthn registration options, their challenge single-use for five minutes. ' +
        'A wrong password is 403 and a failed login (429 past RATE_LIMIT_LOGIN_FAILURES)',
      responses: {
        200: { description: 'Options for navigator.credentials.create() (Cache-Control: no-store)', schema: creationOptions },
        ...errorResponses('auth', 'conflict', 'rateLimited'),
        403: { description: 'insufficient_scope (no account scope), or forbidden: the password is wrong', schema: errorBody, headers: ['WWW-Authenticate'] },
      },
    },
    async ({ principal, body }, _req, res) => {
      const user = await currentUser(principal.subject);
      await requireCurrentPassword(services, user, body.password, res);
      res.set('Cache-Control', 'no-store').json(await passkeys.registrationOptions(user));
    },
  );

  api.route(
    router,
    {
      method: 'post', path: '/me/passkeys', tag: TAG, auth: accountToken, body: registerBody,
      summary: 'Finish enrolling: the browser\'s answer to the options, checked (challenge, origin, RP ID, user verification) and stored',
      responses: {
        201: { description: 'The passkey', schema: passkeyJson, headers: ['Location'] },
        ...errorResponses('auth', 'conflict'),
      },
    },
    async ({ principal, body }, req, res) => {
      const passkey = await passkeys.register(await currentUser(principal.subject), body.response, body.name);
      res.status(201).location(`${req.baseUrl}/me/passkeys/${passkey.id}`).json(publicPasskey(passkey));
    },
  );

  api.route(
    router,
    {
      method: 'get', path: '/me/passkeys', tag: TAG, auth: accountToken, summary: 'Your passkeys, oldest first',
      responses: { 200: { description: 'Passkeys', schema: z.array(passkeyJson) }, ...errorResponses('auth') },
    },
    async ({ principal }, _req, res) => {
      res.json((await passkeys.list(principal.subject)).map(publicPasskey));
    },
  );

  api.route(
    router,
    {
      method: 'patch', path: '/me/passkeys/:id', tag: TAG, auth: accountToken, params: passkeyParams, body: renameBody, summary: 'Rename one of your passkeys',
      responses: { 200: { description: 'The passkey', schema: passkeyJson }, ...errorResponses('auth', 'notFound') },
    },
    async ({ principal, params, body }, _req, res) => {
      res.json(publicPasskey(await passkeys.rename(principal.subject, params.id, body.name)));
    },
  );

  api.route(
    router,
    {
      method: 'delete', path: '/me/passkeys/:id', tag: TAG, auth: accountToken, params: passkeyParams,
      summary: 'Remove one of your passkeys: it signs in no more at once (sessions go on)',
      responses: { 204: { description: 'Removed' }, ...errorResponses('auth', 'notFound') },
    },
    async ({ principal, params }, _req, res) => {
      await passkeys.remove(principal.subject, params.id);
      res.status(204).end();
    },
  );
}

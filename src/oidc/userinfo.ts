import type { Router } from 'express';
import { z } from 'zod';
import { invalidToken } from '../errors';
import type { Api } from '../http/api';
import { errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { userClaims } from './claims';

const userInfoJson = z.object({
  sub: z.string(),
  preferred_username: z.string().optional().describe('with the profile scope'),
  email: z.string().optional().describe('with the email scope, when the account has an address'),
  email_verified: z.boolean().optional().describe('with email: a code mailed to the address came back'),
});

/**
 * OIDC Core §5.3 UserInfo, GET and POST: the bearer token (in the Authorization header, RFC 6750
 * §2.1) must hold `openid`; the answer is `sub` and the claims its scopes release (§5.4).
 */
export function userInfoRoutes(api: Api, router: Router, { tenantId, users }: Services): void {
  for (const method of ['get', 'post'] as const) {
    api.route(
      router,
      {
        method, path: '/userinfo', tag: 'OpenID Connect', summary: `UserInfo (${method.toUpperCase()}): the claims of the token's user its scopes allow`,
        auth: { scope: 'openid', user: true },
        responses: { 200: { description: 'Claims (Cache-Control: no-store)', schema: userInfoJson }, ...errorResponses('auth') },
      },
      async ({ principal }, _req, res) => {
        const user = await users.queries.findById(tenantId, principal.subject);
        if (!user || user.disabled) throw invalidToken('The user of this access token no longer exists.');
        res.set('Cache-Control', 'no-store').json(userClaims(user, principal.scopes));
      },
    );
  }
}

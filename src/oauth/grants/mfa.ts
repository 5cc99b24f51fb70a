import { z } from 'zod';
import { MfaChallenges } from '../../accounts/two-factor-challenges';
import { TwoFactor } from '../../accounts/two-factor';
import { invalidGrant } from '../../errors';
import type { Services } from '../../services';
import { defineGrant, MFA_GRANT_TYPE } from '../grant';
import { startUserSession, userScopes } from '../user-session';

const parameters = z.object({
  mfa_token: z.string().min(1).max(256),
  otp: z.string().min(1).max(64).describe('a TOTP code, or one of the recovery codes'),
});

/**
 * SPEC §8: completes a password grant answered `mfa_required`. Each mfa_token is tried at
 * most five times, by the client it was issued to; wrong codes also count against the account.
 * A client that may use the password grant may use this one.
 */
export const createMfaGrant = (services: Services) => {
  const { tenantId, users } = services;
  const twoFactor = new TwoFactor(services);
  const challenges = new MfaChallenges(services);
  return defineGrant({
    grantType: MFA_GRANT_TYPE,
    clientGrant: 'password',
    parameters,
    async handle({ mfa_token: token, otp }, context) {
      const challenge = await challenges.attempt(token, context.client.id);
      const user = await users.queries.findById(tenantId, challenge.user_id);
      if (!user || user.disabled) throw invalidGrant('The account is disabled.');
      if (!(await twoFactor.verify(user.id, otp))) throw invalidGrant('The one-time password is wrong or was used already.');
      await challenges.complete(token);
      return startUserSession(services, user, userScopes(user, context.client, challenge.scope ?? undefined), context);
    },
  });
};

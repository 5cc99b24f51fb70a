import { z } from 'zod';
import { MfaChallenges } from '../../accounts/two-factor-challenges';
import { TwoFactor } from '../../accounts/two-factor';
import { EmailVerification } from '../../accounts/verification';
import { invalidGrant, mfaRequired, verificationPending } from '../../errors';
import type { Services } from '../../services';
import { defineGrant } from '../grant';
import { startUserSession, userScopes } from '../user-session';

const parameters = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
  scope: z.string().max(1000).optional(),
});

/**
 * RFC 6749 §4.3: username and password for an access token, a refresh token and a new session.
 * SPEC §8: an account awaiting e-mail verification gets `invalid_grant`; one with two-factor
 * sign-in gets `mfa_required` and an mfa_token for the mfa grant instead of tokens.
 */
export const createPasswordGrant = (services: Services) => {
  const { tenantId, users, metrics } = services;
  const verification = new EmailVerification(services);
  const twoFactor = new TwoFactor(services);
  const challenges = new MfaChallenges(services);
  return defineGrant({
    grantType: 'password',
    parameters,
    async handle({ username, password, scope }, context) {
      const user = await users.authenticate(tenantId, username, password);
      if (!user) {
        metrics.failedLogins.inc();
        throw invalidGrant('The username or password is wrong.');
      }
      if (await verification.isPending(user)) throw verificationPending();
      const scopes = userScopes(user, context.client, scope);
      if (await twoFactor.isEnabled(user.id)) {
        context.credentialsAccepted = true;
        throw mfaRequired(await challenges.create(user.id, context.client.id, scope));
      }
      return startUserSession(services, user, scopes, context);
    },
  });
};

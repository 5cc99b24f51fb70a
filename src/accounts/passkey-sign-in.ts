import { generateAuthenticationOptions, verifyAuthenticationResponse, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createPasskeyQueries } from '../db/queries/passkeys';
import type { UserRow } from '../db/queries/users';
import { invalidGrant } from '../errors';
import type { Services } from '../services';
import { CHALLENGE_TTL_MS, challengeBytes, PasskeyChallenges } from './passkey-challenges';
import { relyingPartyOf } from './passkey-relying-party';
import { authenticationResponseSchema } from './passkey-schemas';
import { transportsOf, userHandleOf } from './passkeys';

/** What a login page keeps (the challenge id, server-side or in its form) and sends the browser (the options). */
export interface PasskeySignInStart {
  readonly challengeId: string;
  readonly options: PublicKeyCredentialRequestOptionsJSON;
}

/** What a verified passkey sign-in established: who, and that they were verified (a second factor on its own). */
export interface PasskeySignIn {
  readonly user: UserRow;
  readonly passkeyId: string;
  /** Always true: user verification is required (WebAuthn §6.1 flag UV); the `amr` is `hwk` and `user`. */
  readonly userVerified: true;
}

// One answer for every refusal: which check failed would help an attacker; the log gets the detail.
const refused = (internal: string) => invalidGrant('The passkey sign-in failed; start again.', internal);

/**
 * Signing in with a discoverable passkey (WebAuthn §7.2), for the login page: no username typed, the
 * authenticator picks the credential. Bound to one tenant through its services.
 */
export class PasskeySignInCeremony {
  private readonly passkeys: ReturnType<typeof createPasskeyQueries>;
  private readonly challenges: PasskeyChallenges;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId' | 'tenant' | 'config' | 'clock' | 'users'>) {
    this.passkeys = createPasskeyQueries(services.db);
    this.challenges = new PasskeyChallenges(services);
  }

  /** Options for `navigator.credentials.get()`: no allowCredentials (discoverable), user verification required. */
  async authenticationOptions(): Promise<PasskeySignInStart> {
    const rp = relyingPartyOf(this.services.config, this.services.tenant.name);
    const { id, challenge } = await this.challenges.issue('authentication', null);
    const options = await generateAuthenticationOptions({ rpID: rp.id, challenge: challengeBytes(challenge), timeout: CHALLENGE_TTL_MS, userVerification: 'required' });
    return { challengeId: id, options };
  }

  /**
   * Checks an assertion (the AuthenticationResponseJSON the browser sent, as parsed JSON of any shape)
   * against the challenge `challengeId` names (used up whatever the outcome) and a credential of this
   * tenant, and records its use. `invalid_grant` (400) when any check fails: the response malformed; the
   * challenge unknown, used, expired or of another tenant; the credential unknown here; its user
   * disabled; the user handle not its user; the origin, RP ID, signature or UV flag wrong; or the
   * signature counter not above the stored one (a cloned authenticator, WebAuthn §6.1.1) unless both are 0.
   */
  async verifyAuthentication(body: unknown, challengeId: string): Promise<PasskeySignIn> {
    const { tenantId, users, config, tenant, clock } = this.services;
    const challenge = await this.challenges.take('authentication', null, { id: challengeId });
    if (!challenge) throw refused('challenge unknown, used or expired');
    const parsed = authenticationResponseSchema.safeParse(body);
    if (!parsed.success) throw refused('malformed response');
    const response = parsed.data;
    const passkey = await this.passkeys.findByCredential(tenantId, response.id);
    if (!passkey) throw refused('credential unknown in this tenant');
    // WebAuthn §7.2 step 6: the user handle, when given, names the credential's owner.
    const handle = response.response.userHandle;
    if (handle !== undefined && handle !== Buffer.from(userHandleOf(passkey.user_id)).toString('base64url')) throw refused('user handle mismatch');
    const user = await users.queries.findById(tenantId, passkey.user_id);
    if (!user || user.disabled) throw refused('user disabled or gone');
    const rp = relyingPartyOf(config, tenant.name);
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.credential_id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: passkey.counter, transports: transportsOf(passkey) },
      requireUserVerification: true,
    }).catch((error: unknown) => {
      throw refused(error instanceof Error ? error.message : 'malformed');
    });
    if (!verification.verified) throw refused('signature not verified');
    const recorded = await this.passkeys.recordUse(passkey.id, passkey.counter, verification.authenticationInfo.newCounter, clock());
    if (!recorded) throw refused('counter changed by a concurrent sign-in');
    return { user, passkeyId: passkey.id, userVerified: true };
  }
}

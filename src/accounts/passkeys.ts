import { randomUUID } from 'node:crypto';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
} from '@simplewebauthn/server';
import { isUniqueViolation } from '../db/errors';
import { createPasskeyQueries, type PasskeyRow } from '../db/queries/passkeys';
import type { UserRow } from '../db/queries/users';
import { conflict, notFound, validationFailed } from '../errors';
import type { Services } from '../services';
import { CHALLENGE_TTL_MS, challengeBytes, PasskeyChallenges } from './passkey-challenges';
import { relyingPartyOf } from './passkey-relying-party';
import type { RegistrationResponse } from './passkey-schemas';

/** Passkeys one user may hold: enough for every device and a spare key or two. */
export const MAX_PASSKEYS_PER_USER = 20;

/** A passkey as its owner and admins see it: never the key or the credential id. */
export const publicPasskey = (row: PasskeyRow) => ({
  id: row.id,
  name: row.name,
  created_at: new Date(row.created_at).toISOString(),
  last_used_at: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  device_type: row.device_type,
  backed_up: row.backed_up,
});

export const transportsOf = (row: PasskeyRow) => (row.transports ? row.transports.split(',') : []) as AuthenticatorTransportFuture[];

// The user handle (WebAuthn §14.6.1): the user's opaque id, never the username.
export const userHandleOf = (userId: string) => new TextEncoder().encode(userId);

const refused = (message: string) => validationFailed('The passkey could not be registered.', [{ field: 'response', message }]);

/** Enrolling and managing the passkeys of a tenant's users (issue 21). */
export class Passkeys {
  readonly queries: ReturnType<typeof createPasskeyQueries>;
  private readonly challenges: PasskeyChallenges;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId' | 'tenant' | 'config' | 'clock'>) {
    this.queries = createPasskeyQueries(services.db);
    this.challenges = new PasskeyChallenges(services);
  }

  list(userId: string): Promise<PasskeyRow[]> {
    return this.queries.listForUser({ tenant_id: this.services.tenantId, user_id: userId });
  }

  async find(userId: string, id: string): Promise<PasskeyRow> {
    const row = await this.queries.find({ tenant_id: this.services.tenantId, user_id: userId, id });
    if (!row) throw notFound('passkey');
    return row;
  }

  /** Registration options for `user` (WebAuthn §5.4): a discoverable credential with user verification, none of theirs twice. */
  async registrationOptions(user: UserRow): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.list(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw conflict(`An account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first.`);
    const rp = relyingPartyOf(this.services.config, this.services.tenant.name);
    const { challenge } = await this.challenges.issue('registration', user.id);
    return generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: user.username,
      userID: userHandleOf(user.id),
      challenge: challengeBytes(challenge),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    });
  }

  /**
   * Verifies the browser's answer to the user's registration options and stores the passkey. The
   * challenge in its client data must be one issued to this user of this tenant, and is used up.
   */
  async register(user: UserRow, response: RegistrationResponse, name: string | undefined): Promise<PasskeyRow> {
    const rp = relyingPartyOf(this.services.config, this.services.tenant.name);
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: async (challenge) => (await this.challenges.take('registration', user.id, { challenge })) !== undefined,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    }).catch((error: unknown) => {
      throw refused(error instanceof Error ? error.message : 'malformed');
    });
    if (!verification.verified) throw refused('not verified');
    const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
    const row: PasskeyRow = {
      id: randomUUID(),
      tenant_id: this.services.tenantId,
      user_id: user.id,
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: (response.response.transports ?? []).join(','),
      device_type: credentialDeviceType,
      backed_up: credentialBackedUp,
      name: name ?? 'Passkey',
      created_at: this.services.clock(),
      last_used_at: null,
    };
    // The credential id is unique per tenant (also against a concurrent registration of the same one).
    await this.queries.insert(row).catch((error: unknown) => {
      throw isUniqueViolation(error) ? conflict('This passkey is registered already.') : error;
    });
    return row;
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeyRow> {
    if (!(await this.queries.rename({ tenant_id: this.services.tenantId, user_id: userId, id }, name))) throw notFound('passkey');
    return this.find(userId, id);
  }

  /** Removes a passkey: it signs in no more from this moment; sessions it started go on. */
  async remove(userId: string, id: string): Promise<void> {
    if (!(await this.queries.remove({ tenant_id: this.services.tenantId, user_id: userId, id }))) throw notFound('passkey');
  }
}

import { randomBytes } from 'node:crypto';
import { createWebAuthnChallengeQueries, type ChallengePurpose, type WebAuthnChallengeRow } from '../db/queries/webauthn-challenges';
import type { Services } from '../services';

// Long enough for a person to touch a key or find a phone; the options say the same (`timeout`).
export const CHALLENGE_TTL_MS = 5 * 60_000;

// The library base64url-encodes a string challenge once more: hand it the bytes.
export const challengeBytes = (challenge: string) => new Uint8Array(Buffer.from(challenge, 'base64url'));

const randomBase64url = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A challenge just issued: `id` names it to whoever completes the ceremony, `challenge` goes to the browser. */
export interface IssuedChallenge {
  readonly id: string;
  readonly challenge: string;
}

/** The challenges of WebAuthn ceremonies (W3C WebAuthn §13.4.3): random, single use, five minutes, of one tenant. */
export class PasskeyChallenges {
  private readonly queries: ReturnType<typeof createWebAuthnChallengeQueries>;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId' | 'clock'>) {
    this.queries = createWebAuthnChallengeQueries(services.db);
  }

  /** A new challenge for `purpose`, bound to the user enrolling, or to nobody for a discoverable sign-in. */
  async issue(purpose: ChallengePurpose, userId: string | null): Promise<IssuedChallenge> {
    const now = this.services.clock();
    await this.queries.deleteExpired(now);
    const issued = { id: randomBase64url(32), challenge: randomBase64url(32) };
    await this.queries.insert({ ...issued, tenant_id: this.services.tenantId, user_id: userId, purpose, created_at: now, expires_at: now + CHALLENGE_TTL_MS });
    return issued;
  }

  /** Uses up the live challenge of this tenant, purpose and user that also matches `by`; undefined when there is none. */
  take(purpose: ChallengePurpose, userId: string | null, by: { id: string } | { challenge: string }): Promise<WebAuthnChallengeRow | undefined> {
    return this.queries.take({ tenant_id: this.services.tenantId, user_id: userId, purpose, ...by }, this.services.clock());
  }
}

import { randomBytes } from 'node:crypto';
import { createMfaTokenQueries, type MfaTokenRow } from '../db/queries/mfa-tokens';
import { invalidGrant } from '../errors';
import type { Services } from '../services';
import { hashSecret } from './verification-codes';

const MFA_TOKEN_TTL_MS = 5 * 60_000;
// Wrong codes one mfa_token takes before it is dead and the password must be given again.
export const MFA_TOKEN_ATTEMPTS = 5;

const hashToken = (token: string) => hashSecret('mfa_token', token);
const expired = () => invalidGrant('The mfa_token is invalid, used or expired; sign in with the password again.');

/**
 * The `mfa_token` of a password grant answered `mfa_required` (SPEC §8): 256 random
 * bits stored hashed, bound to the user and the client, five minutes, single use.
 */
export class MfaChallenges {
  private readonly queries: ReturnType<typeof createMfaTokenQueries>;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId' | 'clock'>) {
    this.queries = createMfaTokenQueries(services.db);
  }

  /** A new challenge for a user who gave the right password; `scope` is what they asked for. */
  async create(userId: string, clientId: string, scope: string | undefined): Promise<string> {
    const now = this.services.clock();
    await this.queries.deleteExpired(now);
    const token = randomBytes(32).toString('base64url');
    await this.queries.insert({
      token_hash: hashToken(token),
      tenant_id: this.services.tenantId,
      user_id: userId,
      client_id: clientId,
      scope: scope ?? null,
      attempts: 0,
      created_at: now,
      expires_at: now + MFA_TOKEN_TTL_MS,
      used_at: null,
    });
    return token;
  }

  /** Counts one attempt at the challenge and returns it; `invalid_grant` when it cannot be tried (any client but its own included). */
  async attempt(token: string, clientId: string): Promise<MfaTokenRow> {
    const challenge = await this.queries.spendAttempt(this.services.tenantId, hashToken(token), clientId, MFA_TOKEN_ATTEMPTS, this.services.clock());
    if (!challenge) throw expired();
    return challenge;
  }

  /** Uses the challenge up; `invalid_grant` when a concurrent request did first. */
  async complete(token: string): Promise<void> {
    if (!(await this.queries.markUsed(hashToken(token), this.services.clock()))) throw expired();
  }
}

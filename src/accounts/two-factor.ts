import { randomBytes } from 'node:crypto';
import { createRecoveryCodeQueries } from '../db/queries/recovery-codes';
import { createTwoFactorQueries, type TwoFactorRow } from '../db/queries/two-factor';
import { conflict, invalidCode, notFound, rateLimited } from '../errors';
import type { Services } from '../services';
import { openSecret, sealSecret } from './two-factor-secret';
import { base32Decode, base32Encode, matchingStep, otpauthUri } from './two-factor-totp';
import { hashSecret } from './verification-codes';

const SECRET_BYTES = 20; // RFC 4226 §4: 160 bits, the HMAC-SHA-1 block it was made for
const RECOVERY_CODES = 10;
// Wrong codes one account may send in a window, over every mfa_token and DELETE /me/2fa together.
export const FAILURE_LIMIT = 10;
const FAILURE_WINDOW_MS = 15 * 60_000;

/** What `POST /me/2fa` hands out, once. */
export interface Enrolment {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly recoveryCodes: readonly string[];
}

export interface TwoFactorStatus {
  readonly enabled: boolean;
  readonly pending: boolean;
  readonly recoveryCodesLeft: number;
}

/** 60 random bits as `xxxx-xxxx-xxxx` in lower-case Base32, easy to copy from paper. */
const newRecoveryCode = () => base32Encode(randomBytes(8)).slice(0, 12).toLowerCase().replace(/(.{4})(?=.)/g, '$1-');
/** A typed code in the form it was hashed: no spaces or dashes, lower case. */
const normalise = (otp: string) => otp.replace(/[\s-]/g, '').toLowerCase();

/**
 * TOTP sign-in (RFC 6238) with single-use recovery codes: enrol, confirm with a first code,
 * verify at sign-in (replays of a used step refused, wrong codes limited per account), disable, switch off (admins).
 */
export class TwoFactor {
  private readonly enrolments: ReturnType<typeof createTwoFactorQueries>;
  private readonly recovery: ReturnType<typeof createRecoveryCodeQueries>;

  constructor(private readonly services: Pick<Services, 'db' | 'reads' | 'tenantId' | 'clock' | 'config' | 'sessions'>) {
    this.enrolments = createTwoFactorQueries(services.db, services.reads);
    this.recovery = createRecoveryCodeQueries(services.db);
  }

  async status(userId: string): Promise<TwoFactorStatus> {
    const row = await this.enrolments.find(this.key(userId));
    const enabled = row?.confirmed_at != null;
    return { enabled, pending: row !== undefined && !enabled, recoveryCodesLeft: enabled ? await this.recovery.countUnused(userId) : 0 };
  }

  /** True when sign-in needs a second factor. */
  async isEnabled(userId: string): Promise<boolean> {
    return this.enrolments.isConfirmed(this.key(userId));
  }

  /** Starts (or restarts) an enrolment: a new secret and new recovery codes, off until confirmed. */
  async enrol(userId: string, username: string): Promise<Enrolment> {
    const { clock, config, tenantId } = this.services;
    const secret = base32Encode(randomBytes(SECRET_BYTES));
    const stored = await this.enrolments.upsertPending({
      user_id: userId,
      tenant_id: tenantId,
      secret: sealSecret(secret, config.twoFactorKey),
      confirmed_at: null,
      last_step: null,
      failures: 0,
      failures_since: 0,
      created_at: clock(),
    });
    if (!stored) throw conflict('Two-factor sign-in is already on; turn it off first.');
    const recoveryCodes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.recovery.replace(userId, recoveryCodes.map((code) => hashSecret(userId, normalise(code))));
    // config.issuer is this tenant's own (`<ISSUER>/t/<id>` outside the built-in tenant).
    return { secret, otpauthUri: otpauthUri(config.issuer.replace(/^https?:\/\//, ''), username, secret), recoveryCodes };
  }

  /** Turns a pending enrolment on with a first code from the authenticator; `invalid_code` for a wrong one. */
  async confirm(userId: string, otp: string): Promise<void> {
    const row = await this.enrolments.find(this.key(userId));
    if (!row || row.confirmed_at !== null) throw conflict('No two-factor enrolment waits for confirmation; start one with POST /me/2fa.');
    const now = this.services.clock();
    const step = matchingStep(this.secretOf(row), normalise(otp), now);
    if (step === undefined) throw invalidCode();
    if (!(await this.enrolments.confirm(this.key(userId), row.secret, step, now))) throw conflict('The enrolment changed meanwhile; start again.');
  }

  /**
   * True when `otp` is a current TOTP code not used before, or an unused recovery code (then used up).
   * False for anything else, counted against the account: past the limit it is a 429 until the window ends.
   */
  async verify(userId: string, otp: string): Promise<boolean> {
    const key = this.key(userId);
    const now = this.services.clock();
    const counted = await this.enrolments.spendAttempt(key, FAILURE_LIMIT, now, now - FAILURE_WINDOW_MS);
    const row = await this.enrolments.find(key);
    if (row?.confirmed_at == null) return false;
    if (!counted) throw rateLimited((row.failures_since + FAILURE_WINDOW_MS - now) / 1000);
    const accepted = await this.accepts(row, normalise(otp), now);
    if (accepted) await this.enrolments.clearFailures(key);
    return accepted;
  }

  /** Turns two-factor sign-in off; once on, only with a current code or a recovery code. */
  async disable(userId: string, otp: string): Promise<void> {
    const row = await this.enrolments.find(this.key(userId));
    if (!row) throw notFound('two-factor enrolment');
    if (row.confirmed_at !== null && !(await this.verify(userId, otp))) throw invalidCode();
    await this.removeEnrolment(userId);
  }

  /**
   * SPEC §9: an admin or the CLI turns two-factor sign-in off without a code (the owner lost the app and
   * the codes, or someone else enrolled theirs): secret and recovery codes go, and every session of the
   * user ends (its sockets close with 4003). True when two-factor sign-in was on or pending.
   */
  async switchOff(userId: string): Promise<boolean> {
    const removed = await this.removeEnrolment(userId);
    await this.services.sessions.revoke({ userId }, 'two_factor_reset');
    return removed;
  }

  private async removeEnrolment(userId: string): Promise<boolean> {
    const removed = await this.enrolments.remove(this.key(userId));
    await this.recovery.removeAll(userId);
    return removed;
  }

  private async accepts(row: TwoFactorRow, otp: string, now: number): Promise<boolean> {
    const step = matchingStep(this.secretOf(row), otp, now);
    if (step !== undefined) return this.enrolments.useStep(this.key(row.user_id), step);
    return this.recovery.use(row.user_id, hashSecret(row.user_id, otp), now);
  }

  private secretOf(row: TwoFactorRow): Buffer {
    return base32Decode(openSecret(row.secret, this.services.config.twoFactorKey));
  }

  private key(userId: string) {
    return { tenant_id: this.services.tenantId, user_id: userId };
  }
}

import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { conflict } from '../errors';
import { isUniqueViolation } from '../db/errors';
import { createAccountCodeQueries } from '../db/queries/account-codes';
import { createMfaTokenQueries } from '../db/queries/mfa-tokens';
import { createUserQueries, type UserProfile, type UserRow } from '../db/queries/users';
import type { Reads } from '../db/reads';
import { RESET_PURPOSE } from './password-reset';
import { hashPassword, needsRehash, verifyPassword } from './passwords';
import type { Sessions } from './sessions';

export interface NewUser {
  readonly tenantId: string;
  readonly username: string;
  readonly password: string;
  readonly email?: string | undefined;
  readonly roles?: readonly string[] | undefined;
}

export const userJson = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  roles: z.array(z.string()),
  created_at: z.iso.datetime(),
});

/** Public view of a user, as the API shows it. */
export const publicUser = (user: UserProfile) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  roles: user.roles,
  created_at: new Date(user.created_at).toISOString(),
});

/** Accounts: creation, credential checks, password and status changes. */
export class Users {
  readonly queries: ReturnType<typeof createUserQueries>;
  private readonly mfaTokens: ReturnType<typeof createMfaTokenQueries>;
  private readonly codes: ReturnType<typeof createAccountCodeQueries>;
  private dummyHash: Promise<string> | undefined;

  constructor(
    db: Knex,
    private readonly sessions: Sessions,
    private readonly hashCost: number,
    reads?: Reads,
  ) {
    this.queries = createUserQueries(db, reads);
    this.mfaTokens = createMfaTokenQueries(db);
    this.codes = createAccountCodeQueries(db);
  }

  /** Creates a user; a taken name (in any letter case) is a 409. */
  async create(user: NewUser, now = Date.now()): Promise<UserRow> {
    const row: UserRow = {
      id: randomUUID(),
      tenant_id: user.tenantId,
      username: user.username,
      email: user.email ?? null,
      email_verified_at: null,
      password_hash: await hashPassword(user.password, this.hashCost),
      roles: [...(user.roles ?? [])],
      disabled: false,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.queries.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`The username "${user.username}" is taken.`);
      throw error;
    }
    return row;
  }

  /**
   * The user whose name and password these are, if enabled. An unknown name
   * costs the same hash as a known one, so timing tells nothing (SPEC §3.1).
   */
  async authenticate(tenantId: string, username: string, password: string): Promise<UserRow | undefined> {
    const user = await this.queries.findByUsername(tenantId, username);
    const matches = await verifyPassword(password, user?.password_hash ?? (await this.dummy()));
    if (!user || !matches || user.disabled) return undefined;
    if (needsRehash(user.password_hash, this.hashCost)) {
      await this.queries.update(tenantId, user.id, { password_hash: await hashPassword(password, this.hashCost) });
    }
    return user;
  }

  async checkPassword(user: UserRow, password: string): Promise<boolean> {
    return verifyPassword(password, user.password_hash);
  }

  /**
   * Sets a new password and ends what the old one let anyone start: every session but
   * `keepSessionId` (their sockets close), sign-ins waiting for a second factor (their
   * mfa_tokens), and a mailed reset code.
   */
  async setPassword(user: UserRow, password: string, keepSessionId?: string): Promise<void> {
    await this.queries.update(user.tenant_id, user.id, { password_hash: await hashPassword(password, this.hashCost) });
    await this.mfaTokens.removeForUser(user.id);
    await this.codes.discard({ tenant_id: user.tenant_id, user_id: user.id, purpose: RESET_PURPOSE });
    await this.sessions.revoke({ userId: user.id, exceptId: keepSessionId }, 'password_changed');
  }

  /** Enables or disables a user; disabling ends every session at once. */
  async setDisabled(user: UserRow, disabled: boolean): Promise<void> {
    await this.queries.update(user.tenant_id, user.id, { disabled });
    if (disabled) await this.sessions.revoke({ userId: user.id }, 'user_disabled');
  }

  /** Changes roles; the user's sessions end so no token keeps scopes the roles no longer allow. */
  async setRoles(user: UserRow, roles: readonly string[]): Promise<void> {
    await this.queries.update(user.tenant_id, user.id, { roles: [...roles] });
    await this.sessions.revoke({ userId: user.id }, 'roles_changed');
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomUUID(), this.hashCost);
    return this.dummyHash;
  }
}

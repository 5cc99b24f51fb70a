import type { Knex } from 'knex';
import { knexReads, type Reads } from '../reads';

export interface UserRow {
  id: string;
  tenant_id: string;
  username: string;
  email: string | null;
  /** When a code mailed to `email` last came back (epoch ms), or null. */
  email_verified_at: number | null;
  password_hash: string;
  roles: string[];
  disabled: boolean;
  created_at: number;
  updated_at: number;
}

/** What anyone may see of a user. */
export type UserProfile = Pick<UserRow, 'id' | 'username' | 'email' | 'roles' | 'created_at'>;

type StoredUser = Omit<UserRow, 'roles' | 'disabled'> & { roles: string; disabled: boolean | number; username_key: string };

/** Roles are stored space-separated. */
export const storedRoles = (roles: string) => roles.split(' ').filter(Boolean);

const toUser = ({ username_key: _key, ...row }: StoredUser): UserRow => ({
  ...row,
  roles: storedRoles(row.roles),
  disabled: Boolean(row.disabled),
});

// A password reset by address mails each account with it; a bound keeps one request from mailing thousands.
const MAX_USERS_PER_EMAIL = 10;

/** Usernames are unique case-insensitively (SPEC §4). */
export const usernameKey = (username: string) => username.toLowerCase();

const USER_COLUMNS = 'id, tenant_id, username, username_key, email, email_verified_at, password_hash, roles, disabled, created_at, updated_at';
const USER_BY_ID = `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? AND id = ?`;
const PROFILE_BY_ID = 'SELECT id, username, email, roles, created_at FROM users WHERE tenant_id = ? AND id = ?';
const USER_BY_USERNAME = `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? AND username_key = ?`;

export function createUserQueries(db: Knex, reads: Reads = knexReads(db)) {
  const users = () => db<StoredUser>('users');
  return {
    async insert(user: UserRow): Promise<void> {
      await users().insert({ ...user, username_key: usernameKey(user.username), roles: user.roles.join(' ') });
    },
    async findByUsername(tenantId: string, username: string): Promise<UserRow | undefined> {
      const row = await reads.row<StoredUser>(USER_BY_USERNAME, [tenantId, usernameKey(username)]);
      return row && toUser(row);
    },
    async findById(tenantId: string, id: string): Promise<UserRow | undefined> {
      const row = await reads.row<StoredUser>(USER_BY_ID, [tenantId, id]);
      return row && toUser(row);
    },
    /** The users with this e-mail address, in any letter case (addresses are not unique). */
    async listByEmail(tenantId: string, email: string): Promise<UserRow[]> {
      const rows = await users().where({ tenant_id: tenantId }).whereRaw('lower(email) = ?', [email.toLowerCase()]).limit(MAX_USERS_PER_EMAIL);
      return rows.map(toUser);
    },
    /** Only the public columns: every column read costs, and `GET /me` is hot. */
    async findProfile(tenantId: string, id: string): Promise<UserProfile | undefined> {
      const row = await reads.row<Omit<UserProfile, 'roles'> & { roles: string }>(PROFILE_BY_ID, [tenantId, id]);
      return row && { ...row, roles: storedRoles(row.roles) };
    },
    async list(tenantId: string): Promise<UserRow[]> {
      const rows = await users().where({ tenant_id: tenantId }).orderBy('created_at', 'asc').orderBy('id', 'asc');
      return rows.map(toUser);
    },
    async update(
      tenantId: string,
      id: string,
      patch: Partial<Pick<UserRow, 'password_hash' | 'roles' | 'disabled' | 'email' | 'email_verified_at'>>,
    ): Promise<boolean> {
      const { roles, ...rest } = patch;
      const changed = await users()
        .where({ tenant_id: tenantId, id })
        .update({ ...rest, ...(roles ? { roles: roles.join(' ') } : {}), updated_at: Date.now() });
      return changed > 0;
    },
    async countAdmins(tenantId: string): Promise<number> {
      const rows = await users().where({ tenant_id: tenantId }).select('roles');
      return rows.filter((row) => row.roles.split(' ').includes('admin')).length;
    },
  };
}

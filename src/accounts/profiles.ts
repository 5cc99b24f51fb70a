import type { Principal } from '../auth/access-tokens';
import type { UserProfile } from '../db/queries/users';
import type { Users } from './users';

const CACHE_LIMIT = 10_000;

const sameRoles = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((role, i) => role === b[i]);

/**
 * The profiles `GET /me` answers with, cached in this process. A profile is
 * used only while it agrees with the token: users are never deleted, their
 * id, email and creation time never change, and a change of roles ends the
 * user's sessions, so a token whose username or roles differ from the cached
 * ones is newer than the cache and reloads it.
 */
export class Profiles {
  private readonly cache = new Map<string, UserProfile>();

  constructor(private readonly users: Users) {}

  /** The profile of the token's user, or undefined for an unknown user. */
  async of(principal: Principal): Promise<UserProfile | undefined> {
    const key = `${principal.tenantId}\0${principal.subject}`;
    const cached = this.cache.get(key);
    if (cached && cached.username === principal.username && sameRoles(cached.roles, principal.roles)) return cached;
    const profile = await this.users.queries.findProfile(principal.tenantId, principal.subject);
    this.cache.delete(key);
    if (profile) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, profile);
    }
    return profile;
  }
}

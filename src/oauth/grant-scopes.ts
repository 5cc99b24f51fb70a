import { parseScope } from '../auth/scopes';
import { invalidScope } from '../errors';

/**
 * The scopes a grant yields: the requested ones, each of which must be
 * allowed, or the defaults when none are requested (RFC 6749 §3.3).
 */
export function grantScopes(requested: string | undefined, allowed: readonly string[], defaults: readonly string[]): string[] {
  const allowedSet = new Set(allowed);
  if (requested === undefined) return defaults.filter((scope) => allowedSet.has(scope));
  const scopes = parseScope(requested);
  const refused = scopes.filter((scope) => !allowedSet.has(scope));
  if (refused.length > 0) throw invalidScope(`The scope "${refused.join(' ')}" is not available to this grant.`);
  return scopes;
}


const NONE: ReadonlySet<never> = new Set();

/** The map of `key` in `outer`, created when missing. */
function inner<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let map = outer.get(key);
  if (!map) outer.set(key, (map = new Map()));
  return map;
}

/** Deletes `outer[key][innerKey]`, and `outer[key]` once empty. */
function removeEntry<V>(outer: Map<string, Map<string, V>>, key: string, innerKey: string): void {
  const map = outer.get(key);
  map?.delete(innerKey);
  if (map?.size === 0) outer.delete(key);
}

/** What the registry needs of a socket. */
export interface Registered {
  readonly tenantId: string;
  readonly userId: string;
}

/**
 * This process's open sockets, by tenant and user, for fan-out, limits,
 * presence and revocation. Two levels of maps rather than one keyed by a
 * joined string: the ids are strings that already exist (from the token), so
 * a lookup builds and hashes nothing.
 */
export class SocketRegistry<T extends Registered = Registered> {
  private readonly byTenant = new Map<string, Map<string, Set<T>>>();

  add(socket: T): void {
    const users = inner(this.byTenant, socket.tenantId);
    let sockets = users.get(socket.userId);
    if (!sockets) users.set(socket.userId, (sockets = new Set()));
    sockets.add(socket);
  }

  remove(socket: T): void {
    const sockets = this.byTenant.get(socket.tenantId)?.get(socket.userId);
    sockets?.delete(socket);
    if (sockets?.size === 0) removeEntry(this.byTenant, socket.tenantId, socket.userId);
  }

  count(tenantId: string, userId: string): number {
    return this.byTenant.get(tenantId)?.get(userId)?.size ?? 0;
  }

  ofUser(tenantId: string, userId: string): ReadonlySet<T> {
    return this.byTenant.get(tenantId)?.get(userId) ?? NONE;
  }

  all(): T[] {
    return [...this.byTenant.values()].flatMap((users) => [...users.values()].flatMap((sockets) => [...sockets]));
  }

  get size(): number {
    let size = 0;
    for (const users of this.byTenant.values()) for (const sockets of users.values()) size += sockets.size;
    return size;
  }
}

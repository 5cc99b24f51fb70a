const NONE: ReadonlySet<never> = new Set();

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
    let users = this.byTenant.get(socket.tenantId);
    if (!users) this.byTenant.set(socket.tenantId, (users = new Map()));
    let sockets = users.get(socket.userId);
    if (!sockets) users.set(socket.userId, (sockets = new Set()));
    sockets.add(socket);
  }

  /** Forgets a socket, and its user and tenant once they have no other. */
  remove(socket: T): void {
    const users = this.byTenant.get(socket.tenantId);
    const sockets = users?.get(socket.userId);
    if (!users || !sockets?.delete(socket) || sockets.size > 0) return;
    users.delete(socket.userId);
    if (users.size === 0) this.byTenant.delete(socket.tenantId);
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

/** What the registry needs of a socket. */
export interface Registered {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly sessionId: string;
  /** Sends an already serialised frame. */
  send(frame: string): void;
}

const userKey = (tenantId: string, userId: string) => `${tenantId}\0${userId}`;

/** This process's open sockets, by user, for fan-out, limits, presence and revocation. */
export class SocketRegistry<T extends Registered = Registered> {
  private readonly byUser = new Map<string, Set<T>>();
  private readonly reserved = new Map<string, number>();

  /** Holds a place for a socket still in its handshake; false when the user is at the limit. */
  reserve(tenantId: string, userId: string, limit: number): boolean {
    const key = userKey(tenantId, userId);
    const held = this.count(tenantId, userId) + (this.reserved.get(key) ?? 0);
    if (held >= limit) return false;
    this.reserved.set(key, (this.reserved.get(key) ?? 0) + 1);
    return true;
  }

  release(tenantId: string, userId: string): void {
    const key = userKey(tenantId, userId);
    const left = (this.reserved.get(key) ?? 1) - 1;
    if (left > 0) this.reserved.set(key, left);
    else this.reserved.delete(key);
  }

  add(socket: T): void {
    const key = userKey(socket.tenantId, socket.userId);
    const sockets = this.byUser.get(key) ?? new Set<T>();
    sockets.add(socket);
    this.byUser.set(key, sockets);
  }

  remove(socket: T): void {
    const key = userKey(socket.tenantId, socket.userId);
    const sockets = this.byUser.get(key);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.byUser.delete(key);
  }

  count(tenantId: string, userId: string): number {
    return this.byUser.get(userKey(tenantId, userId))?.size ?? 0;
  }

  ofUser(tenantId: string, userId: string): ReadonlySet<T> {
    return this.byUser.get(userKey(tenantId, userId)) ?? new Set();
  }

  /** Sends one serialised frame to every socket of these users but `except`; returns how many. */
  deliver(tenantId: string, userIds: readonly string[], frame: string, except?: string): number {
    let delivered = 0;
    for (const userId of userIds) {
      for (const socket of this.ofUser(tenantId, userId)) {
        if (socket.id === except) continue;
        socket.send(frame);
        delivered += 1;
      }
    }
    return delivered;
  }

  all(): T[] {
    return [...this.byUser.values()].flatMap((sockets) => [...sockets]);
  }

  get size(): number {
    let size = 0;
    for (const sockets of this.byUser.values()) size += sockets.size;
    return size;
  }
}

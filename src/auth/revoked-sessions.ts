/**
 * This process's view of revoked sessions, so a revoked session's access
 * tokens are refused at once without a database query per request. An entry
 * is needed only while a token issued before the revocation can still be
 * unexpired: the access-token lifetime plus leeway.
 */
export class RevokedSessions {
  private readonly revokedAt = new Map<string, number>();
  private readonly listeners = new Set<(ids: string[]) => void>();

  constructor(private readonly retentionMs: number) {}

  /** Records revocations, from the bus or from the database poll, and tells the listeners which ids are new. */
  add(ids: Iterable<string>, at: number): void {
    const added: string[] = [];
    for (const id of ids) {
      if (this.revokedAt.has(id)) continue;
      this.revokedAt.set(id, at);
      added.push(id);
    }
    if (added.length > 0) for (const listener of this.listeners) listener(added);
  }

  /**
   * Calls `listener` with the ids of sessions newly known to be revoked, however this process
   * learned of them: open sockets must close even while the bus between processes is down.
   */
  onAdded(listener: (ids: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(sessionId: string): boolean {
    return this.revokedAt.has(sessionId);
  }

  /** Forgets revocations older than the retention; returns how many remain. */
  prune(now = Date.now()): number {
    for (const [id, at] of this.revokedAt) if (now - at > this.retentionMs) this.revokedAt.delete(id);
    return this.revokedAt.size;
  }
}

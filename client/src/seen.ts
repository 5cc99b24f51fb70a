/**
 * The seqs seen per conversation: all up to `last`, plus some beyond it.
 * A resume replays from `last`; a message seen twice (a replay overlapping
 * live delivery, an ack before an earlier message) is dropped.
 */
export class SeenSeqs {
  private readonly byConversation = new Map<string, { last: number; beyond: Set<number> }>();

  /** Conversations with something seen, for `resume` after a reconnect. */
  conversations(): IterableIterator<string> {
    return this.byConversation.keys();
  }

  /** The highest seq below which nothing is missing. */
  last(sessionId: string): number {
    return this.byConversation.get(sessionId)?.last ?? 0;
  }

  /** Everything up to `lastSeq` counts as seen; false when it already did. */
  upTo(sessionId: string, lastSeq: number): boolean {
    const seen = this.byConversation.get(sessionId);
    if (seen && seen.last >= lastSeq) return false;
    this.byConversation.set(sessionId, { last: lastSeq, beyond: new Set([...(seen?.beyond ?? [])].filter((seq) => seq > lastSeq)) });
    return true;
  }

  /**
   * Records one seq; false when it was seen before. The first seq seen of a
   * conversation nobody tracked is where its history starts for this client.
   */
  see(sessionId: string, seq: number): boolean {
    let seen = this.byConversation.get(sessionId);
    if (!seen) this.byConversation.set(sessionId, (seen = { last: seq - 1, beyond: new Set() }));
    if (seq <= seen.last || seen.beyond.has(seq)) return false;
    seen.beyond.add(seq);
    while (seen.beyond.delete(seen.last + 1)) seen.last += 1;
    return true;
  }
}

/** Reconnect delays: `baseMs` doubling per attempt up to `maxMs`, or a function of the attempt. */
export type Backoff = { baseMs?: number; maxMs?: number } | ((attempt: number) => number);

/**
 * The delay before reconnect attempt `attempt` (0-based): "equal jitter", half
 * the exponential ceiling plus a random part of the other half, so clients
 * spread out after an outage and still back off.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random = Math.random): number {
  if (typeof backoff === 'function') return backoff(attempt);
  const ceiling = Math.min(backoff.maxMs ?? 30_000, (backoff.baseMs ?? 500) * 2 ** attempt);
  return ceiling / 2 + (random() * ceiling) / 2;
}

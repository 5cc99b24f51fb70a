import type { BusEvents } from '../bus/bus';
import type { Message } from '../messages/message';

type Created = BusEvents['messages.created'];

interface ConversationState {
  /** The lowest seq seen; anything below it was never delivered here. */
  base: number;
  /** The seq expected next. */
  next: number;
  /** Events that came before the one they follow. */
  readonly held: Map<number, Created>;
  timer: NodeJS.Timeout | undefined;
}

export type FetchMissing = (tenantId: string, sessionId: string, afterSeq: number, limit: number) => Promise<Message[]>;

export interface SequencerOptions {
  /** How long a gap may wait for its announcement before it is read from the database. */
  readonly gapWaitMs: number;
  readonly onError: (error: unknown) => void;
}

const MAX_CONVERSATIONS = 50_000;
const MAX_HELD = 1_000;

/**
 * Puts message events back into `seq` order before they reach sockets.
 * Announcements can overtake each other (concurrent posts, other processes
 * over Redis). A later seq waits a moment for the one before it; if that
 * announcement was lost, the gap is read from the database (a seq is
 * committed only after the one before it). Duplicates are dropped.
 */
export class Sequencer {
  private readonly states = new Map<string, ConversationState>();

  constructor(
    private readonly fetchMissing: FetchMissing,
    private readonly deliver: (event: Created) => void,
    private readonly options: SequencerOptions,
  ) {}

  accept(event: Created): void {
    const state = this.stateOf(event);
    const { seq } = event.message;
    if (seq < state.base) {
      // Older than anything this process has seen: late, but never delivered here.
      state.base = seq;
      this.deliver(event);
    } else if (seq === state.next) {
      this.deliver(event);
      state.next += 1;
      this.drain(state);
    } else if (seq > state.next) {
      state.held.set(seq, event);
      if (state.held.size > MAX_HELD) void this.fillGap(state, event);
      else state.timer ??= setTimeout(() => void this.fillGap(state, event), this.options.gapWaitMs);
    }
  }

  close(): void {
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.states.clear();
  }

  private stateOf(event: Created): ConversationState {
    const key = `${event.tenantId}\0${event.message.session_id}`;
    let state = this.states.get(key);
    if (state) this.states.delete(key); // re-inserted: the map's order is least recently used first
    else {
      state = { base: event.message.seq, next: event.message.seq, held: new Map(), timer: undefined };
      if (this.states.size >= MAX_CONVERSATIONS) {
        const [oldestKey, oldest] = this.states.entries().next().value!;
        clearTimeout(oldest.timer);
        this.states.delete(oldestKey);
      }
    }
    this.states.set(key, state);
    return state;
  }

  private drain(state: ConversationState): void {
    for (let event = state.held.get(state.next); event; event = state.held.get(state.next)) {
      state.held.delete(state.next);
      this.deliver(event);
      state.next += 1;
    }
    if (state.held.size === 0) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
  }

  private async fillGap(state: ConversationState, sample: Created): Promise<void> {
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.held.size === 0) return;
    const lowest = Math.min(...state.held.keys());
    try {
      const missing = await this.fetchMissing(sample.tenantId, sample.message.session_id, state.next - 1, lowest - state.next);
      for (const message of missing) {
        if (message.seq !== state.next) continue;
        this.deliver({ tenantId: sample.tenantId, memberIds: sample.memberIds, message });
        state.next += 1;
      }
    } catch (error) {
      this.options.onError(error);
    }
    // Whatever is still missing cannot be had: move on rather than hold the conversation forever.
    if (state.next < lowest) state.next = lowest;
    this.drain(state);
  }
}

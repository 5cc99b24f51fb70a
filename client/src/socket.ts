import type { TesseraClient } from './client.js';
import { Emitter } from './emitter.js';
import { PresenceWatch, type Presence } from './presence.js';
import { TesseraError } from './errors.js';
import { backoffDelay, SeenSeqs, type Backoff } from './seen.js';
import type { Message } from './types.js';

/** The part of the WebSocket API the socket uses: the browser's, Node 22's global, or `ws`. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SocketOptions {
  /** Reconnect delays: exponential from `baseMs` (500) up to `maxMs` (30 s) with jitter, or your own function of the attempt. */
  backoff?: Backoff;
  /** How often watched users' presence is polled while open; default 15 s. */
  presenceIntervalMs?: number;
  WebSocket?: WebSocketConstructor;
}

export interface SocketEvents {
  /** A message of one of your conversations, each once, in `seq` order per conversation. */
  message: Message;
  presence: Presence;
  /** `POST /push/:username` from a service. */
  push: { event?: string; data: unknown };
  state: SocketState;
  /** An `error` frame (SPEC §6); the socket stays open. */
  error: { code: string; message: string; nonce?: string };
}

/** The server → client frames of SPEC §6 that the socket acts on. */
type ServerFrame =
  | { type: 'welcome' | 'resumed' | 'auth_ok' | 'pong' }
  | { type: 'message'; message: Message }
  | { type: 'ack'; nonce: string | null; message: Message }
  | { type: 'token_expiring'; expires_in: number }
  | { type: 'push'; event?: string; data: unknown }
  | { type: 'error'; code: string; message: string; nonce?: string };

interface Pending {
  readonly frame: string;
  resolve(message: Message): void;
  reject(error: Error): void;
}

const REVOKED = 4003; // SPEC §6: session revoked or user disabled
const RATE_RETRY_MS = 1_000;

/** A nonce without crypto.randomUUID, which plain-http pages lack. */
const nonce = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The gateway socket of docs/websocket.md: a one-time ticket per connect,
 * reconnects with exponential backoff and jitter, `resume` from the last seq
 * seen per conversation, in-band renewal on `token_expiring`, logout on 4003,
 * and messages queued with nonces while offline, sent once per connection
 * until acknowledged.
 */
export class TesseraSocket extends Emitter<SocketEvents> {
  state: SocketState = 'closed';
  private ws: WebSocketLike | undefined;
  private token: string | undefined;
  private attempt = 0;
  private stopped = true;
  /** Bumped by every open and close: a slow ticket request of an older attempt must not open a socket. */
  private generation = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pending = new Map<string, Pending>();
  private readonly seen = new SeenSeqs();
  private readonly presence: PresenceWatch;
  private readonly online = () => this.connect();
  private readonly Impl: WebSocketConstructor | undefined;

  constructor(
    private readonly client: TesseraClient,
    private readonly options: SocketOptions = {},
  ) {
    super();
    this.Impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.presence = new PresenceWatch(client, (presence) => this.emit('presence', presence));
  }

  /** Connects, or reconnects at once instead of waiting out the backoff (also done on the browser's `online` event). */
  connect(): void {
    if (this.state === 'open' || this.state === 'connecting') return;
    if (!this.Impl) throw new TesseraError(0, 'no_websocket', 'No WebSocket here: pass the WebSocket option (e.g. the ws package).');
    this.stopped = false;
    this.clear('retry');
    this.unsubscribe ??= this.client.on('logout', () => this.end());
    (globalThis as { addEventListener?: (type: string, fn: () => void) => void }).addEventListener?.('online', this.online);
    void this.open();
  }

  /** Closes for good (1000) until `connect()`; queued messages wait for that. */
  close(): void {
    this.stopped = true;
    this.generation += 1;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const name of [...this.timers.keys()]) this.clear(name);
    (globalThis as { removeEventListener?: (type: string, fn: () => void) => void }).removeEventListener?.('online', this.online);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000);
    this.setState('closed');
  }

  /** Sends a message (queued while offline); resolves with the stored message when the server acknowledges it. */
  send(sessionId: string, content: string, options: { type?: string } = {}): Promise<Message> {
    const id = nonce();
    const frame = JSON.stringify({ type: 'message', session_id: sessionId, content, message_type: options.type, nonce: id });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject });
      if (this.state === 'open') this.ws?.send(frame);
    });
  }

  /** Messages sent but not yet acknowledged. */
  get queued(): number {
    return this.pending.size;
  }

  /** Marks `lastSeq` of a conversation as seen (e.g. loaded over REST) and asks for anything newer. */
  track(sessionId: string, lastSeq: number): void {
    if (this.seen.upTo(sessionId, lastSeq) && this.state === 'open') this.resume(sessionId);
  }

  /** Polls these users' presence while open and emits `presence` when it changes. */
  watchPresence(...usernames: string[]): void {
    this.presence.add(usernames);
    if (this.state === 'open') void this.presence.poll();
  }

  /** The session is gone: close, and fail what can no longer be sent. */
  private end(): void {
    this.close();
    for (const pending of this.pending.values()) pending.reject(new TesseraError(0, 'logged_out', 'Logged out before the message was sent.'));
    this.pending.clear();
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.setState('connecting');
    let url: string;
    try {
      const { ticket } = await this.client.request<{ ticket: string }>('POST', '/ws/ticket');
      this.token = await this.client.accessToken();
      const username = (await this.client.claims())?.username ?? '';
      url = this.client.url(`/ws/${encodeURIComponent(username)}?ticket=${encodeURIComponent(ticket)}`).replace(/^http/, 'ws');
    } catch (error) {
      // A refusal (no session, no scope) is final; a network failure or a busy server is retried.
      const status = error instanceof TesseraError ? error.status : 0;
      if (generation !== this.generation) return;
      if (status >= 400 && status < 500 && status !== 429 && status !== 408) this.close();
      else this.retry();
      return;
    }
    if (generation !== this.generation) return;
    const ws = new this.Impl!(url);
    this.ws = ws;
    ws.onmessage = (event: { data: unknown }) => this.onFrame(String(event.data));
    ws.onclose = (event: { code: number }) => this.onClose(ws, event.code);
    ws.onerror = () => undefined; // a close event follows
  }

  private onFrame(data: string): void {
    const frame = JSON.parse(data) as ServerFrame;
    switch (frame.type) {
      case 'welcome':
        this.attempt = 0;
        this.setState('open');
        for (const sessionId of this.seen.conversations()) this.resume(sessionId);
        for (const pending of this.pending.values()) this.ws?.send(pending.frame);
        this.every('presence', this.options.presenceIntervalMs ?? 15_000, () => void this.presence.poll());
        void this.presence.poll();
        return;
      case 'message':
        if (this.seen.see(frame.message.session_id, frame.message.seq)) this.emit('message', frame.message);
        return;
      case 'ack':
        this.seen.see(frame.message.session_id, frame.message.seq);
        this.pending.get(frame.nonce ?? '')?.resolve(frame.message);
        this.pending.delete(frame.nonce ?? '');
        return;
      case 'token_expiring':
        // Renew halfway through what is left (less the rounding of expires_in): early, and no storm with short tokens.
        this.later('renew', Math.max(0, frame.expires_in * 1000 - 500) / 2, () => void this.renew());
        return;
      case 'push':
        this.emit('push', { event: frame.event, data: frame.data });
        return;
      case 'error': {
        const nonce = frame.nonce ?? '';
        const pending = this.pending.get(nonce);
        if (pending && frame.code === 'rate_limited') {
          this.later(`rate:${nonce}`, RATE_RETRY_MS, () => this.pending.has(nonce) && this.ws?.send(pending.frame));
          return;
        }
        pending?.reject(new TesseraError(0, frame.code, frame.message));
        this.pending.delete(nonce);
        this.emit('error', { code: frame.code, message: frame.message, nonce: frame.nonce });
      }
    }
  }

  private onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    for (const name of [...this.timers.keys()]) this.clear(name);
    if (this.stopped) return;
    if (code === REVOKED) {
      this.end();
      void this.client.loggedOut('revoked');
      return;
    }
    this.retry(); // 4001 included: the next ticket request refreshes the expired token
  }

  private retry(): void {
    if (this.stopped) return;
    this.setState('reconnecting');
    this.later('retry', backoffDelay(this.options.backoff ?? {}, this.attempt++), () => void this.open());
  }

  private async renew(): Promise<void> {
    try {
      const token = (this.token = await this.client.refresh(this.token));
      // SPEC §11: a bound socket's renewal carries a proof for its URL and the new token.
      const username = (await this.client.claims())?.username ?? '';
      const dpop = await this.client.dpopProof('GET', `/ws/${encodeURIComponent(username)}`, token);
      this.ws?.send(JSON.stringify({ type: 'auth', token, ...(dpop === undefined ? {} : { dpop }) }));
    } catch {
      // invalid_grant logged out (and closed us); otherwise the server closes with 4001 and we reconnect.
    }
  }

  private resume(sessionId: string): void {
    this.ws?.send(JSON.stringify({ type: 'resume', session_id: sessionId, after_seq: this.seen.last(sessionId) }));
  }

  private setState(state: SocketState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private later(name: string, ms: number, run: () => void): void {
    this.clear(name);
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      run();
    }, ms));
  }

  private every(name: string, ms: number, run: () => void): void {
    this.later(name, ms, () => {
      run();
      this.every(name, ms, run);
    });
  }

  private clear(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }
}

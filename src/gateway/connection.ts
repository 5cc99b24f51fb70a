import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { Principal } from '../auth/access-tokens';
import { requireScope } from '../auth/authenticate';
import { toApiError } from '../http/error-handler';
import { isStorableText } from '../http/storable-text';
import type { Logger } from '../logger';
import type { Message } from '../messages/message';
import type { MessageStore } from '../messages/message-store';
import { senderOf } from '../messages/sender';
import { ackFrame, clientFrame, CLOSE, type ClientFrame } from './frames';
import type { Registered } from './registry';
import { renewalPrincipal, type SocketAuth } from './socket-auth';
import { beforeWrite, sendPrepared, type PreparedFrame } from './socket-writes';

export interface ConnectionLimits {
  readonly framesPerSecond: number;
  readonly sendBufferLimit: number;
}

/** What every socket of the gateway shares. */
export interface ConnectionContext {
  readonly messages: MessageStore;
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  readonly onClose: (connection: Connection) => void;
  readonly onMessageFrame: () => void;
}

const EXPIRY_WARNING_MS = 60_000; // SPEC §6: token_expiring 60 s before expiry
const BAD_FRAMES_BEFORE_CLOSE = 10;
const RESUME_PAGE = 200;
const RESUME_MAX_PAGES = 50; // 10,000 messages; a client resumes again from last_seq for more
const MAX_TIMER_MS = 2_147_483_647;
// Messages of one socket waiting for their commit at most; past it a message is refused with
// `rate_limited`, so a flooding socket neither queues without bound nor crowds out the others.
export const MAX_UNACKED_MESSAGES = 256;
/** Where every socket's chain of frames starts: settled, and never changed by `then`. */
const SETTLED: Promise<void> = Promise.resolve();
/** For a socket's 'error' events: each is followed by the socket's close, which is what gets handled. */
export const ignoreSocketError = (): void => undefined;

/** One authenticated socket speaking the SPEC §6 frame protocol. */
export class Connection implements Registered {
  readonly id = randomUUID();
  alive = true;
  private principal: Principal;
  /** One timer at a time: until the token_expiring warning, then until the close at expiry. */
  private expiryTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private lastRefill = Date.now();
  private rejected = 0;
  private badFrames = 0;
  /** The frames in hand, handled one at a time: a socket is an ordered stream, so its messages are stored in the order sent. */
  private handling = SETTLED;
  /** Messages handed to the store whose ack (or error) has not been sent yet. */
  private unacked = 0;
  /** Live messages held back while a resume of their conversation replays history; made at the first resume. */
  private resuming: Map<string, Message[]> | undefined;
  /** The last seq a resume replayed, per conversation: its announcement can come after the replay read it. */
  private replayed: Map<string, number> | undefined;

  constructor(
    private readonly ws: WebSocket,
    principal: Principal,
    private readonly auth: SocketAuth,
    private readonly context: ConnectionContext,
  ) {
    this.principal = principal;
    this.tokens = context.limits.framesPerSecond * 2;
  }

  get tenantId(): string {
    return this.principal.tenantId;
  }
  get userId(): string {
    return this.principal.subject;
  }
  get sessionId(): string {
    return this.principal.sessionId;
  }

  start(): void {
    this.ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    this.ws.on('pong', () => {
      this.alive = true;
    });
    this.ws.on('error', ignoreSocketError);
    this.ws.on('close', () => {
      this.clearExpiry();
      this.context.onClose(this);
    });
    this.sendJson({
      type: 'welcome',
      username: this.principal.username,
      connection_id: this.id,
      expires_at: new Date(this.principal.expiresAt * 1000).toISOString(),
    });
    this.scheduleExpiry();
  }

  /** Sends a serialised frame, or closes a reader too slow to keep up (1013) rather than buffer without bound. */
  send(frame: string): void {
    if (this.writable(frame.length)) this.ws.send(frame, { binary: false });
  }

  /** Delivers a stored message once (not one a resume already replayed); while a resume of its conversation replays, it waits its turn. */
  receive(message: Message, frame: PreparedFrame): void {
    const held = this.resuming?.get(message.session_id);
    if (held) held.push(message);
    else if (message.seq > (this.replayed?.get(message.session_id) ?? 0) && this.writable(frame.data.length)) sendPrepared(this.ws, frame);
  }

  /** True when `bytes` more may be written now; closes a slow consumer (1013). */
  private writable(bytes: number): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount + bytes > this.context.limits.sendBufferLimit) {
      this.close(CLOSE.tryAgainLater, 'slow consumer');
      return false;
    }
    beforeWrite(this.ws);
    return true;
  }

  close(code: number, reason: string): void {
    this.clearExpiry();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  terminate(): void {
    this.clearExpiry();
    this.ws.terminate();
  }

  /** Heartbeat: terminate a peer that did not answer the last ping. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private sendJson(frame: Record<string, unknown>): void {
    this.send(JSON.stringify(frame));
  }

  private sendError(code: string, message: string, nonce?: string): void {
    this.sendJson({ type: 'error', code, message, ...(nonce === undefined ? {} : { nonce }) });
  }

  private scheduleExpiry(): void {
    this.clearExpiry();
    // A renewal can finish after the socket closed: a timer then would only hold the connection until the token expires.
    if (this.ws.readyState !== this.ws.OPEN) return;
    const expiresAt = this.principal.expiresAt * 1000;
    this.expireIn(expiresAt - EXPIRY_WARNING_MS - Date.now(), () => {
      this.sendJson({ type: 'token_expiring', expires_in: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)) });
      this.expireIn(expiresAt - Date.now(), () => this.close(CLOSE.tokenExpired, 'token expired'));
    });
  }

  private expireIn(ms: number, run: () => void): void {
    const delay = Math.max(0, ms);
    this.expiryTimer = delay <= MAX_TIMER_MS ? setTimeout(run, delay) : undefined;
  }

  private clearExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  /** Token bucket per socket: false when the frame is over the rate. */
  private withinRate(): boolean {
    const now = Date.now();
    const { framesPerSecond } = this.context.limits;
    this.tokens = Math.min(framesPerSecond * 2, this.tokens + ((now - this.lastRefill) / 1000) * framesPerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (!this.withinRate()) {
      this.rejected += 1;
      if (this.rejected > this.context.limits.framesPerSecond) this.close(CLOSE.policyViolation, 'flooding');
      else this.sendError('rate_limited', 'Too many frames; slow down.');
      return;
    }
    this.rejected = 0;
    const frame = isBinary ? undefined : parseFrame(data);
    if (!frame) {
      this.badFrames += 1;
      if (this.badFrames >= BAD_FRAMES_BEFORE_CLOSE) this.close(CLOSE.policyViolation, 'repeated bad frames');
      else this.sendError('bad_frame', isBinary ? 'Frames are JSON text.' : 'The frame is not valid JSON of a known type.');
      return;
    }
    this.badFrames = 0;
    const nonce = 'nonce' in frame ? frame.nonce : undefined;
    this.handling = this.handling.then(() => this.handle(frame)).catch((error: unknown) => this.fail(error, nonce));
  }

  private fail(error: unknown, nonce?: string): void {
    const apiError = toApiError(error);
    if (apiError.status >= 500) this.context.logger.error({ detail: apiError.internal, connection_id: this.id }, 'socket frame failed');
    this.sendError(apiError.code, apiError.description, nonce);
  }

  private async handle(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        this.sendJson({ type: 'pong' });
        return;
      case 'message':
        this.context.onMessageFrame();
        requireScope(this.principal, 'messages:write');
        this.post(frame);
        return;
      case 'resume':
        await this.resume(frame.session_id, frame.after_seq);
        return;
      case 'auth':
        await this.renew(frame.token, frame.dpop);
        return;
    }
  }

  /**
   * Hands a message to the store without waiting for its commit, so the next frames go into the same
   * batch; the ack follows the commit. The store settles posts in the order given, so acks keep it.
   */
  private post(frame: Extract<ClientFrame, { type: 'message' }>): void {
    const { nonce } = frame;
    if (this.unacked >= MAX_UNACKED_MESSAGES) {
      this.sendError('rate_limited', 'Too many messages waiting to be stored; wait for their acks.', nonce);
      return;
    }
    this.unacked += 1;
    this.context.messages
      .post({ tenantId: this.tenantId, sessionId: frame.session_id, sender: senderOf(this.principal), content: frame.content, type: frame.message_type, nonce, origin: this.id })
      .then(
        ({ message }) => this.send(ackFrame(nonce, message)),
        (error: unknown) => this.fail(error, nonce),
      )
      // An exception while answering would otherwise be an unhandled rejection, which ends the process on Node 20.
      .catch((error: unknown) => this.context.logger.error({ err: error instanceof Error ? error.message : String(error), connection_id: this.id }, 'answering a message failed'))
      .finally(() => {
        this.unacked -= 1;
      });
  }

  private async resume(sessionId: string, afterSeq: number): Promise<void> {
    const held: Message[] = [];
    (this.resuming ??= new Map()).set(sessionId, held);
    try {
      let last = afterSeq;
      for (let page = 0; page < RESUME_MAX_PAGES; page += 1) {
        const batch = await this.context.messages.history(this.tenantId, sessionId, this.userId, last, RESUME_PAGE);
        for (const message of batch) this.sendJson({ type: 'message', message });
        last = batch.at(-1)?.seq ?? last;
        if (batch.length < RESUME_PAGE) break;
      }
      // Live messages can arrive out of seq order (each post commits, then announces); a held one
      // below an already sent seq would otherwise be skipped as a duplicate and lost.
      for (const message of held.sort((a, b) => a.seq - b.seq)) {
        if (message.seq <= last) continue;
        this.sendJson({ type: 'message', message });
        last = message.seq;
      }
      (this.replayed ??= new Map()).set(sessionId, last);
      this.sendJson({ type: 'resumed', session_id: sessionId, last_seq: last });
    } finally {
      this.resuming?.delete(sessionId);
    }
  }

  private async renew(token: string, proof: string | undefined): Promise<void> {
    const principal = await renewalPrincipal(this.auth, this.principal, token, proof);
    if (principal.kind !== 'user' || principal.subject !== this.userId) {
      this.close(CLOSE.revoked, 'token of another user');
      return;
    }
    this.principal = principal;
    this.scheduleExpiry();
    this.sendJson({ type: 'auth_ok', expires_at: new Date(principal.expiresAt * 1000).toISOString() });
  }
}

function parseFrame(data: RawData): ClientFrame | undefined {
  try {
    const json: unknown = JSON.parse(data.toString());
    // As over REST: text that cannot be stored as sent (NUL, lone surrogates) is a bad frame.
    if (!isStorableText(json)) return undefined;
    const parsed = clientFrame.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

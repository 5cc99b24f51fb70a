import WebSocket from 'ws';

const OPEN_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

/** A user's seat in a conversation, with an access token for the socket. */
export interface Member {
  readonly username: string;
  readonly accessToken: string;
  readonly conversation: string;
}

interface StoredMessage {
  readonly id: string;
  readonly session_id: string;
  readonly seq: number;
}

interface Frame {
  readonly type: string;
  readonly nonce?: string;
  readonly code?: string;
  readonly message?: StoredMessage;
}

/**
 * One chatting WebSocket client: sends nonce'd `message` frames at a pace,
 * and records every ack, every delivered message and whether deliveries of
 * its conversation arrived in `seq` order.
 */
export class ChatSocket {
  /** Delivered message id → how many times it arrived. */
  readonly received = new Map<string, number>();
  /** Own messages the server acknowledged. */
  readonly acked: StoredMessage[] = [];
  /** Nonces sent and not yet acknowledged → when they were sent. */
  readonly pending = new Map<string, number>();
  /** Milliseconds from sending a message to its ack. */
  readonly ackLatencies: number[] = [];
  readonly errorFrames: string[] = [];
  sent = 0;
  outOfOrder = 0;
  /** A close the client did not ask for (code), if any. */
  unexpectedClose: number | undefined;
  private lastSeq = 0;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly member: Member,
    private readonly ws: WebSocket,
    private readonly tag: string,
  ) {
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as Frame));
    ws.on('close', (code) => {
      if (!this.closing) this.unexpectedClose = code;
      this.stopSending();
    });
  }

  /** Opens `/ws/:username` with the token in the Authorization header; resolves on `welcome`. */
  static open(base: string, member: Member, tag: string): Promise<ChatSocket> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/${member.username}`, { headers: { authorization: `Bearer ${member.accessToken}` } });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`socket of ${member.username} not welcomed within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`socket of ${member.username} refused: ${res.statusCode}`)));
      ws.once('error', fail);
      ws.once('message', (data) => {
        clearTimeout(timer);
        ws.off('error', fail);
        ws.on('error', () => undefined);
        const welcome = JSON.parse(data.toString()) as Frame;
        if (welcome.type !== 'welcome') return fail(new Error(`first frame was ${welcome.type}`));
        resolve(new ChatSocket(member, ws, tag));
      });
    });
  }

  /** Sends a message every `intervalMs` on average (jittered, so 500 clients do not beat in step). */
  startSending(intervalMs: number): void {
    const next = () => {
      this.timer = setTimeout(() => {
        this.send();
        next();
      }, intervalMs * (0.5 + Math.random()));
    };
    next();
  }

  stopSending(): void {
    clearTimeout(this.timer);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopSending();
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.ws.once('close', resolve));
    this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS);
    await closed;
    clearTimeout(timer);
  }

  private send(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const nonce = `${this.tag}-${this.member.username}-${this.sent}`;
    this.sent += 1;
    this.pending.set(nonce, performance.now());
    this.ws.send(JSON.stringify({ type: 'message', session_id: this.member.conversation, content: `soak ${nonce}`, nonce }));
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'ack' && frame.nonce !== undefined && frame.message) {
      const sentAt = this.pending.get(frame.nonce);
      if (sentAt === undefined) return;
      this.pending.delete(frame.nonce);
      this.acked.push(frame.message);
      this.ackLatencies.push(performance.now() - sentAt);
    } else if (frame.type === 'message' && frame.message) {
      const { id, seq } = frame.message;
      this.received.set(id, (this.received.get(id) ?? 0) + 1);
      if (seq <= this.lastSeq) this.outOfOrder += 1;
      this.lastSeq = Math.max(this.lastSeq, seq);
    } else if (frame.type === 'error') {
      this.errorFrames.push(frame.code ?? 'unknown');
    }
  }
}

/** What a round of chat came to, from the clients' side. */
export interface ChatTally {
  sent: number;
  acked: number;
  unacked: number;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  seqGaps: number;
  errorFrames: number;
  unexpectedCloses: number;
}

/** Deliveries still missing: every acked message must reach every other member's socket. */
export function deliveriesOutstanding(sockets: readonly ChatSocket[]): number {
  let expected = 0;
  let delivered = 0;
  const members = countBy(sockets, (socket) => socket.member.conversation);
  for (const socket of sockets) {
    expected += socket.acked.length * ((members.get(socket.member.conversation) ?? 1) - 1);
    for (const times of socket.received.values()) delivered += times;
  }
  return expected - delivered + sockets.reduce((sum, socket) => sum + socket.pending.size, 0);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Checks every acked message against every other member's socket: lost, duplicated, out of order, gaps in seq. */
export function tally(sockets: readonly ChatSocket[]): ChatTally {
  const byConversation = new Map<string, ChatSocket[]>();
  for (const socket of sockets) byConversation.set(socket.member.conversation, [...(byConversation.get(socket.member.conversation) ?? []), socket]);
  const result: ChatTally = { sent: 0, acked: 0, unacked: 0, expectedDeliveries: 0, deliveries: 0, lost: 0, duplicated: 0, outOfOrder: 0, seqGaps: 0, errorFrames: 0, unexpectedCloses: 0 };
  for (const members of byConversation.values()) {
    const seqs: number[] = [];
    for (const sender of members) {
      result.sent += sender.sent;
      result.acked += sender.acked.length;
      result.unacked += sender.pending.size;
      result.outOfOrder += sender.outOfOrder;
      result.errorFrames += sender.errorFrames.length;
      if (sender.unexpectedClose !== undefined) result.unexpectedCloses += 1;
      for (const times of sender.received.values()) result.deliveries += times;
      for (const message of sender.acked) {
        seqs.push(message.seq);
        for (const receiver of members) {
          if (receiver === sender) continue;
          result.expectedDeliveries += 1;
          const times = receiver.received.get(message.id) ?? 0;
          if (times === 0) result.lost += 1;
          if (times > 1) result.duplicated += times - 1;
        }
      }
    }
    seqs.sort((a, b) => a - b);
    for (let i = 1; i < seqs.length; i += 1) if (seqs[i] !== seqs[i - 1]! + 1) result.seqGaps += 1;
  }
  return result;
}

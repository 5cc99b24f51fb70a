// A lean WebSocket client over a raw TCP socket: the upgrade request, masked
// text frames out, unmasked frames in (RFC 6455 §5). A `ws` client spends
// more CPU per socket than a bare `ws` server (PERF-NOTES), so with it the
// load generator, not the server, would be measured. This one does only what
// the bench needs: no extensions, no fragmentation, pings answered.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const OPCODE = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;
const HEADER_END = '\r\n\r\n';
const MAX_HEAD_BYTES = 16_384;

export interface RawWsHandlers {
  /** A text frame from the server, as a string. */
  onText(text: string): void;
  /** The TCP connection ended, whatever the reason. */
  onClosed?(): void;
}

/** The upgrade was answered with a status other than 101 (the socket is closed). */
export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with ${status}`);
  }
}

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + 4);
  head[0] = 0x80 | opcode; // FIN, no fragmentation
  if (lengthBytes === 0) head[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  // RFC 6455 §5.3: every client frame is masked. The key only has to be
  // unpredictable to intermediaries; there are none on loopback.
  const mask = randomBytes(4);
  mask.copy(head, 2 + lengthBytes);
  const masked = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, masked]);
}

/** One client socket: connects at once; `upgraded` resolves when the server answered 101. */
export class RawWs {
  readonly upgraded: Promise<void>;
  private readonly handlers: RawWsHandlers;
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private closed = false;
  private closeSent = false;
  /** How far the handshake got, for a failure message. */
  stage: 'connecting' | 'upgrading' | 'open' = 'connecting';

  /** Connects to 127.0.0.1:`port` and sends the upgrade for `path` (with `headers`, CRLF-terminated lines); frames go to `handlers` from the first one on. */
  constructor(port: number, path: string, handlers: RawWsHandlers, timeoutMs: number, headers = '') {
    this.handlers = handlers;
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket = socket;
    this.upgraded = new Promise((resolve, reject) => {
      let head = '';
      let upgraded = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`no upgrade within ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (error) => {
        if (!upgraded) fail(error);
      });
      socket.on('close', () => {
        this.closed = true;
        if (!upgraded) fail(new Error('closed before the upgrade'));
        else handlers.onClosed?.();
      });
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) {
          this.receive(chunk);
          return;
        }
        head += chunk.toString('latin1');
        const end = head.indexOf(HEADER_END);
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) fail(new Error('upgrade response head too long'));
          return;
        }
        const status = Number(head.slice(9, 12)); // "HTTP/1.1 101 …"
        if (status !== 101) {
          fail(new UpgradeRefused(status));
          return;
        }
        upgraded = true;
        this.stage = 'open';
        clearTimeout(timer);
        resolve();
        const rest = Buffer.from(head.slice(end + HEADER_END.length), 'latin1');
        if (rest.length > 0) this.receive(rest);
      });
      socket.once('connect', () => {
        this.stage = 'upgrading';
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`,
        );
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  sendText(text: string): void {
    if (!this.closed) this.socket.write(frame(OPCODE.text, Buffer.from(text)));
  }

  /**
   * Sends a close frame (1000). The server answers with its own and ends the
   * TCP connection first, and ours ends when it sees that: the server, not
   * the client, keeps the TIME_WAIT, so tens of thousands of handshakes do
   * not use up the client's ephemeral ports.
   */
  close(): void {
    if (this.closed || this.closeSent) return;
    this.closeSent = true;
    this.socket.write(frame(OPCODE.close, Buffer.from([0x03, 0xe8])));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Parses whole frames out of what arrived; keeps a partial one for later. */
  private receive(chunk: Buffer): void {
    let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      if (data.length < 2) break;
      const opcode = data[0]! & 0x0f;
      let length = data[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (data.length < 4) break;
        length = data.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (data.length < 10) break;
        length = Number(data.readBigUInt64BE(2));
        offset = 10;
      }
      if (data.length < offset + length) break;
      const payload = data.subarray(offset, offset + length);
      data = data.subarray(offset + length);
      if (opcode === OPCODE.text) this.handlers.onText(payload.toString('utf8'));
      else if (opcode === OPCODE.ping && !this.closed) this.socket.write(frame(OPCODE.pong, Buffer.from(payload)));
      else if (opcode === OPCODE.close) this.close(); // a close the server started: answer it, and it ends the connection
    }
    this.buffered = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
  }
}

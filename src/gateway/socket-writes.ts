import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import * as wsModule from 'ws';

/**
 * What ws does not type but documents in its own issues (websockets/ws#617)
 * and Socket.IO's broadcast relies on: `Sender.frame` frames data once, and a
 * socket's sender writes such a frame as is.
 */
interface SenderInternals {
  /** 0 while nothing is queued (frames are queued only while compressing, or reading a Blob: neither here). */
  readonly _state: number;
  sendFrame(list: readonly Buffer[]): void;
}
interface WebSocketInternals {
  readonly _socket: Socket;
  readonly _sender: SenderInternals;
}
// The module's named export, not `WebSocket.Sender`: bundled for the single executable, ws is its
// ES module wrapper, whose WebSocket class carries no Sender property.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/** A text frame framed once, for every socket it goes to. */
export interface PreparedFrame {
  readonly data: Buffer;
  readonly framed: readonly Buffer[];
}

const TEXT = 1;

export const prepareText = (text: string): PreparedFrame => {
  const data = Buffer.from(text);
  return { data, framed: Sender.frame(data, { fin: true, opcode: TEXT, mask: false, readOnly: false, rsv1: false }) };
};

/** Writes a prepared frame to an open socket, in order with what ws itself sends. */
export function sendPrepared(ws: WebSocket, frame: PreparedFrame): void {
  const sender = (ws as unknown as WebSocketInternals)._sender;
  if (sender._state === 0) sender.sendFrame(frame.framed);
  else ws.send(frame.data, { binary: false });
}

/** Sockets written to in this turn of the event loop, and which of them are corked. */
const written = new Set<Socket>();
const corked = new Set<Socket>();

/**
 * Corked bytes count in `bufferedAmount`, which the slow-consumer rule (1013) compares with its
 * limit: past this many pending bytes a socket's writes go out as they come, so a turn writing
 * megabytes to a reader that keeps up is not mistaken for a backlog.
 */
const CORKED_BYTES_LIMIT = 64 * 1024;

function endTurn(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
  written.clear();
}

/**
 * Call before each write. A socket's first write in a turn of the event loop
 * goes out at once (a fan-out reaches the first sockets while it still
 * writes to the last); later ones are held until the turn is done (its
 * promise callbacks included) and go out in one system call: the acks of a
 * batch and the messages delivered with it travel together, up to
 * CORKED_BYTES_LIMIT pending.
 */
export function beforeWrite(ws: WebSocket): void {
  const socket = (ws as unknown as WebSocketInternals)._socket;
  if (!written.has(socket)) {
    if (written.size === 0) process.nextTick(endTurn);
    written.add(socket);
  } else if (socket.writableLength >= CORKED_BYTES_LIMIT) {
    if (corked.delete(socket)) socket.uncork();
  } else if (socket.writableCorked === 0) {
    socket.cork();
    corked.add(socket);
  }
}

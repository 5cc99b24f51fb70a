import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

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
const { Sender } = WebSocket as unknown as {
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

const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/**
 * Holds a socket's writes until the current turn of the event loop is done
 * (its promise callbacks included), then sends them in one system call: the
 * acks of a batch and the messages delivered with it go out together.
 */
export function corkForTurn(ws: WebSocket): void {
  const socket = (ws as unknown as WebSocketInternals)._socket;
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (corked.size === 1) process.nextTick(uncorkAll);
}

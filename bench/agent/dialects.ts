// What the socket workloads say to each server: where to upgrade, which frame
// completes an authenticated handshake, how a chat message is sent, and how a
// delivery and an acknowledgement look. Frames are classified by prefix only,
// so the load generator does not parse JSON per frame.
import type { RawWs } from './raw-ws';
import type { DialectName, SocketTarget } from '../lib/agent-protocol';
import { proofMaker } from '../lib/dpop-proof';

export interface Dialect {
  /** The request path of the upgrade. */
  path(target: SocketTarget): string;
  /** Header lines the upgrade adds (each ending in CRLF), made per upgrade. */
  headers?(target: SocketTarget, port: number): string;
  /**
   * Called for every text frame before the handshake is complete; returns
   * true when this frame completes it. May answer (Socket.IO's CONNECT).
   */
  handshakeFrame(ws: RawWs, target: SocketTarget, text: string): boolean;
  /** Called for every frame after the handshake: protocol chores (Engine.IO pings); true when consumed. */
  chore(ws: RawWs, text: string): boolean;
  /** A chat message into the target's room; `ackId` asks for an acknowledgement where the protocol needs asking. */
  message(target: SocketTarget, content: string, ackId: number): string;
  isDelivery(text: string): boolean;
  isAck(text: string): boolean;
}

const tessera: Dialect = {
  path: (target) => `/ws/${encodeURIComponent(target.username ?? '')}?token=${encodeURIComponent(target.token ?? '')}`,
  handshakeFrame: (_ws, _target, text) => text.startsWith('{"type":"welcome"'),
  chore: () => false,
  message: (target, content, ackId) => JSON.stringify({ type: 'message', session_id: target.room, content, nonce: `n${ackId}` }),
  isDelivery: (text) => text.startsWith('{"type":"message"'),
  isAck: (text) => text.startsWith('{"type":"ack"'),
};

const proofMakers = new WeakMap<object, ReturnType<typeof proofMaker>>();

// A DPoP-bound token (RFC 9449, SPEC §11): in `Authorization: DPoP`, with a fresh proof for the socket's http URL.
const tesseraDpop: Dialect = {
  ...tessera,
  path: (target) => `/ws/${encodeURIComponent(target.username ?? '')}`,
  headers(target, port) {
    const key = target.dpop;
    if (!key) throw new Error('tessera-dpop needs a target with a DPoP key');
    let proof = proofMakers.get(key);
    if (!proof) proofMakers.set(key, (proof = proofMaker(key)));
    const htu = `http://127.0.0.1:${port}${this.path(target)}`;
    return `Authorization: DPoP ${target.token ?? ''}\r\nDPoP: ${proof('GET', htu, target.token)}\r\n`;
  },
};

// The bare `ws` peer sends one frame on connection (tessera's welcome, byte
// for byte) and relays nothing: it is the floor of a handshake.
const bareWs: Dialect = {
  path: () => '/',
  handshakeFrame: () => true,
  chore: () => false,
  message: () => {
    throw new Error('the bare ws peer has no messages');
  },
  isDelivery: () => false,
  isAck: () => false,
};

// The storeless relay (peers/ws-relay.ts) speaks tessera's message frames,
// joins the room named in its URL and needs no token.
const wsRelay: Dialect = {
  ...tessera,
  path: (target) => `/?room=${encodeURIComponent(target.room ?? '')}`,
};

// Socket.IO v4 over Engine.IO v4, WebSocket transport from the start:
// the server opens with "0{…}" (Engine.IO OPEN), the client sends the
// Socket.IO CONNECT "40{auth}" and the server's io.use() middleware answers
// "40{sid}" or "44{error}". "2"/"3" are Engine.IO ping/pong; "42[…]" an event,
// "42<id>[…]" one that wants an ack, "43<id>[…]" the ack.
const socketIo: Dialect = {
  path: () => '/socket.io/?EIO=4&transport=websocket',
  handshakeFrame(ws, target, text) {
    if (text.startsWith('0{')) {
      ws.sendText(`40${JSON.stringify({ token: target.token, room: target.room })}`);
      return false;
    }
    if (text.startsWith('44')) throw new Error(`Socket.IO refused the connection: ${text.slice(2, 200)}`);
    return text.startsWith('40');
  },
  chore(ws, text) {
    if (text !== '2') return false;
    ws.sendText('3');
    return true;
  },
  message: (target, content, ackId) => `42${ackId}${JSON.stringify(['message', { room: target.room, content }])}`,
  isDelivery: (text) => text.startsWith('42["message"'),
  isAck: (text) => text.startsWith('43'),
};

export const dialects: Readonly<Record<DialectName, Dialect>> = { tessera, 'tessera-dpop': tesseraDpop, 'bare-ws': bareWs, 'ws-relay': wsRelay, 'socket.io': socketIo };

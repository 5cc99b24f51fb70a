import { expect } from 'chai';
import fc from 'fast-check';
import type WebSocket from 'ws';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { newUser } from '../support/users';
import { ANSWER_TIMEOUT_MS, expectAlive, fuzzRuns, nastyJson, nastyString, openSocket, reportSeedOnFailure } from './support';

// SPEC §6 server → client frame types.
const SERVER_FRAMES = ['welcome', 'message', 'ack', 'resumed', 'auth_ok', 'token_expiring', 'push', 'pong', 'error'];
const MAX_PAYLOAD = 65_536;

/** One thing a client can put on the wire after the upgrade. */
type Send =
  | { kind: 'text'; data: string }
  | { kind: 'binary'; data: Uint8Array }
  | { kind: 'fragments'; data: string[] }
  | { kind: 'invalid-utf8'; data: Uint8Array }
  | { kind: 'oversized'; data: number };

// Frames of a known type with valid ids, so odd values reach the handlers and the database.
const plausibleFrame = fc.oneof(
  fc.record({ type: fc.constant('message'), session_id: fc.constantFrom('general', 'room-1'), content: nastyString, nonce: nastyString, message_type: fc.constantFrom('text', 'note') }, { requiredKeys: ['type', 'session_id', 'content'] }),
  fc.record({ type: fc.constant('resume'), session_id: fc.constantFrom('general', 'room-1'), after_seq: fc.oneof(fc.nat(), fc.constantFrom(-1, 2 ** 53, 1e300)) }),
  fc.record({ type: fc.constant('auth'), token: fc.oneof(nastyString, fc.constant('e30.e30.e30')) }),
);

const frameObject = fc.record(
  {
    type: fc.oneof(fc.constantFrom('message', 'resume', 'auth', 'ping', 'subscribe', 'Message', ''), nastyString),
    session_id: fc.oneof(fc.constantFrom('general', 'a'.repeat(64), 'a'.repeat(65)), nastyString),
    content: fc.oneof(nastyString, fc.constant('x'.repeat(16 * 1024 + 1))),
    message_type: fc.oneof(fc.constant('text'), nastyString),
    nonce: nastyString,
    after_seq: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 1e300, '1')),
    token: fc.oneof(nastyString, fc.constant('e30.e30.e30')),
  },
  { requiredKeys: ['type'] },
);

const send: fc.Arbitrary<Send> = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(plausibleFrame, frameObject, nastyJson).map((value): Send => ({ kind: 'text', data: JSON.stringify(value) ?? 'null' })) },
  { weight: 2, arbitrary: nastyString.map((data): Send => ({ kind: 'text', data })) },
  { weight: 1, arbitrary: fc.constantFrom('['.repeat(20_000) + ']'.repeat(20_000), '{"type":"ping","__proto__":{"type":"message"}}').map((data): Send => ({ kind: 'text', data })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((data): Send => ({ kind: 'binary', data })) },
  { weight: 2, arbitrary: fc.array(fc.oneof(nastyString, fc.constantFrom('{"type":', '"ping"}')), { minLength: 2, maxLength: 4 }).map((data): Send => ({ kind: 'fragments', data })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((tail): Send => ({ kind: 'invalid-utf8', data: Uint8Array.from([0x7b, 0xff, 0xfe, ...tail]) })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4_096 }).map((extra): Send => ({ kind: 'oversized', data: MAX_PAYLOAD + extra })) },
);

function put(ws: WebSocket, item: Send): void {
  switch (item.kind) {
    case 'text':
      return ws.send(item.data);
    case 'binary':
      return ws.send(Buffer.from(item.data), { binary: true });
    case 'fragments':
      item.data.forEach((piece, index) => ws.send(piece, { binary: false, fin: index === item.data.length - 1 }));
      return;
    case 'invalid-utf8':
      return ws.send(Buffer.from(item.data), { binary: false });
    case 'oversized':
      return ws.send('x'.repeat(item.data));
  }
}

/** The size of the message a send makes (fragments are one message). */
function messageBytes(item: Send): number {
  if (item.kind === 'oversized') return item.data;
  if (item.kind === 'fragments') return item.data.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0);
  return typeof item.data === 'string' ? Buffer.byteLength(item.data) : item.data.length;
}

/** Which close codes a sequence may earn: 1007 for invalid UTF-8, 1009 for a message over the limit, 1008 for repeated bad frames. */
function allowedCloses(sends: readonly Send[]): number[] {
  const codes = [1008];
  if (sends.some((item) => item.kind === 'invalid-utf8')) codes.push(1007);
  if (sends.some((item) => messageBytes(item) > MAX_PAYLOAD)) codes.push(1009);
  return codes;
}

/** Waits for a pong, or for the close; resolves with which came first (or 'nothing' after ANSWER_TIMEOUT_MS). */
function pongOrClose(ws: WebSocket, frames: Array<{ type?: unknown }>, closed: Promise<number>): Promise<'pong' | 'closed' | 'nothing'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('nothing'), ANSWER_TIMEOUT_MS);
    const check = () => {
      if (frames.some((frame) => frame.type === 'pong')) {
        clearTimeout(timer);
        resolve('pong');
      }
    };
    ws.on('message', check);
    check();
    void closed.then(() => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

onEachDatabase('fuzzing WebSocket frames after a successful upgrade', (database) => {
  let server: TestServer;
  let token: string;
  reportSeedOnFailure();

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off', WS_FRAMES_PER_SECOND: '100000', WS_UPGRADES_PER_MINUTE: '1000000', WS_MAX_CONNECTIONS_PER_USER: '1000' }, database);
    token = (await newUser(server, 'alice')).tokens.access_token;
  });
  after(() => server.close());

  it('answers random text, binary, fragmented, oversized and invalid UTF-8 frames with SPEC frames or a SPEC close, never a server error or a hang', async function () {
    this.timeout(40_000);
    let stayedOpen = 0;
    const property = fc.asyncProperty(fc.array(send, { minLength: 1, maxLength: 4 }), async (sends) => {
      const ws = await openSocket(server, 'alice', token);
      const raw: Array<{ text: string; isBinary: boolean }> = [];
      const frames: Array<Record<string, unknown>> = [];
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.on('message', (data, isBinary) => {
        raw.push({ text: String(data), isBinary });
        try {
          frames.push(JSON.parse(String(data)) as Record<string, unknown>);
        } catch {
          frames.push({ type: '(not JSON)' });
        }
      });
      try {
        for (const item of sends) put(ws, item);
        ws.send(JSON.stringify({ type: 'ping' }));
        const outcome = await pongOrClose(ws, frames, closed);
        const context = `sent ${JSON.stringify(sends).slice(0, 400)}; got ${raw.map((frame) => frame.text).join(' ').slice(0, 400)}`;
        expect(raw.every((frame) => !frame.isBinary), `${context}: the server sends text frames only`).to.equal(true);
        expect(outcome, `${context}: neither a pong nor a close within ${ANSWER_TIMEOUT_MS} ms`).to.not.equal('nothing');
        if (outcome === 'closed') expect(await closed, context).to.be.oneOf(allowedCloses(sends));
        else stayedOpen += 1;
        for (const frame of frames) {
          expect(SERVER_FRAMES, context).to.include(frame.type);
          if (frame.type === 'error') {
            expect(frame.code, context).to.be.a('string').and.not.equal('server_error');
            expect(frame.message, context).to.be.a('string');
          }
        }
      } finally {
        ws.terminate();
      }
    });
    await fc.assert(property, fuzzRuns(300));
    expect(stayedOpen, 'runs after which the socket still answered a ping').to.be.above(0);
    await expectAlive(server);
    const fresh = await openSocket(server, 'alice', token);
    fresh.terminate();
  });
});

describe('a fragmented text frame', () => {
  it('is reassembled and handled as one frame', async () => {
    const server = await startServer();
    try {
      const ws = await openSocket(server, 'alice', (await newUser(server, 'alice')).tokens.access_token);
      const frames: string[] = [];
      ws.on('message', (data) => frames.push(String(data)));
      const pong = new Promise<void>((resolve) => ws.on('message', (data) => String(data).includes('pong') && resolve()));
      put(ws, { kind: 'fragments', data: ['{"type":', '"pi', 'ng"}'] });
      await pong;
      expect(frames).to.deep.equal(['{"type":"pong"}']);
      ws.terminate();
    } finally {
      await server.close();
    }
  });
});

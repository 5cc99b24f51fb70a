import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import WebSocket from 'ws';
import type { TestServer } from '../support/server';

/** Fixed by default so every run tries the same inputs; `FUZZ_SEED=<n>` replays another run. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? '20261123');
if (!Number.isSafeInteger(FUZZ_SEED)) throw new Error(`FUZZ_SEED must be an integer, not ${process.env.FUZZ_SEED}`);
/** The longest any single answer may take (SPEC: never a hang). */
export const ANSWER_TIMEOUT_MS = 2_000;
/** A property that has not finished its runs by then fails, whatever it was doing (shrinking included). */
const PROPERTY_TIME_LIMIT_MS = 20_000;

/** fast-check parameters: the fixed seed, `numRuns`, and a hard time limit. */
export function fuzzRuns(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, plugins: [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS, { failOnInterrupt: true })] };
}

/** Mocha hook: a failed fuzz test prints the seed that replays it (fast-check prints it too, but not on a mocha timeout). */
export function reportSeedOnFailure(): void {
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`      replay with FUZZ_SEED=${FUZZ_SEED}`);
  });
}

/** What came back from one HTTP request. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly body: unknown;
}

export interface Call {
  readonly method?: string;
  /** Already percent-encoded. */
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
}

/** One HTTP request on a fresh connection that fails when no whole answer arrives within ANSWER_TIMEOUT_MS. */
export function call(server: TestServer, { method = 'GET', path, headers = {}, body }: Call): Promise<Answer> {
  // Node sends a GET or DELETE body with no length at all unless told; the server would read it as a second request.
  const length = body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers: { ...length, ...headers }, agent: false }, (res) => {
      readAnswer(res, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms: ${method} ${path.slice(0, 200)}`)), ANSWER_TIMEOUT_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

/** Reads `res` to its end, then hands it to `onAnswer`. */
function readAnswer(res: IncomingMessage, onAnswer: (answer: Answer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    onAnswer({ status: res.statusCode ?? 0, headers: res.headers, text, body: parseJson(res.headers['content-type'], text) });
  });
}

function parseJson(contentType: string | undefined, text: string): unknown {
  if (!contentType?.startsWith('application/json')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON request body with its headers. */
export const jsonCall = (method: string, path: string, value: unknown, headers: OutgoingHttpHeaders = {}): Call => ({
  method,
  path,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

/** SPEC §2: an error body is JSON `{error, error_description}` with string values (and optional `details`). */
export function expectErrorShape(answer: Pick<Answer, 'status' | 'headers' | 'body' | 'text'>, context: string): void {
  expect(answer.headers['content-type'], `${context}: content type of ${answer.status}`).to.match(/^application\/json/);
  const body = answer.body as Record<string, unknown> | undefined;
  expect(body, `${context}: JSON body of ${answer.status}: ${answer.text.slice(0, 200)}`).to.be.an('object');
  expect(body!.error, `${context}: error`).to.be.a('string').that.is.not.empty;
  expect(body!.error_description, `${context}: error_description`).to.be.a('string').that.is.not.empty;
  if (body!.details !== undefined) expect(body!.details, `${context}: details`).to.be.an('array');
}

/** Never a 5xx, and every error in the SPEC shape. */
export function expectSpecAnswer(answer: Answer, context: string): void {
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).to.be.within(100, 499);
  if (answer.status >= 400) expectErrorShape(answer, context);
}

/** The server still answers: no crash, no wedged event loop. */
export async function expectAlive(server: TestServer): Promise<void> {
  const answer = await call(server, { path: '/healthz' });
  expect(answer.status, 'GET /healthz').to.equal(200);
}

/** Strings that have broken SQL built by concatenation somewhere. */
export const SQL_INJECTIONS: readonly string[] = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1); DELETE FROM tasks; --",
  "x' UNION SELECT password_hash FROM users --",
  "\\'; SELECT pg_sleep(3); --",
  "%' AND 1=0 --",
  '$1 ? :name @p0 `id`',
  "admin'/*",
  "Robert'); DROP TABLE students;--",
];

/** Characters that split log lines or headers, or confuse terminals. */
export const CONTROL_CHARACTERS: readonly string[] = ['\r\n', '\n', '\r', '\t', '\u0007', '\u001b[31m', '\u0085', '\u2028', '\u007f', '\u0000'];

/** Keys that have polluted prototypes in hand-written merges. */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Any key a client might send: plain, prototype-polluting, empty, unicode. */
export const nastyKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, ''), fc.string({ maxLength: 12 }), fc.string({ maxLength: 6, unit: 'binary' }));

/** Strings from the awkward corners: any code point, lone surrogates, injections, control characters, huge. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: fc.constantFrom('a', '\ud800', '\udfff', '\u0000', '%', '+', '&', '=') }) },
  { weight: 2, arbitrary: fc.constantFrom(...SQL_INJECTIONS, ...CONTROL_CHARACTERS, ...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 70_000 }).map((length) => 'x'.repeat(length)) },
);

/** Any JSON value, with nasty keys and strings, a few levels deep. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    nastyString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** The status of a WebSocket upgrade request and, when refused, its answer; an accepted socket is closed at once. */
export function upgrade(server: TestServer, path: string, headers: OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      path,
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer to the upgrade within ${ANSWER_TIMEOUT_MS} ms: ${path.slice(0, 200)}`)), ANSWER_TIMEOUT_MS);
    req.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', body: undefined });
    });
    req.on('response', (res) =>
      readAnswer(res, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      }),
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Opens `/ws/:username` with a token and resolves once the welcome frame arrived. */
export function openSocket(server: TestServer, username: string, token: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/${encodeURIComponent(username)}?token=${encodeURIComponent(token)}`, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no welcome within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    ws.once('message', (data) => {
      clearTimeout(timer);
      const frame = JSON.parse(String(data)) as { type?: unknown };
      if (frame.type === 'welcome') resolve(ws);
      else reject(new Error(`first frame was not the welcome: ${String(data)}`));
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused with ${res.statusCode ?? 0}`));
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

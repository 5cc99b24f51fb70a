import { connect } from 'node:net';
import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { clientAuth, scopedAuth, userAuth, type Auth } from '../support/resources';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { call, expectAlive, expectErrorShape, upgrade, type Answer } from './support';

const HEADERS_TIMEOUT_MS = 1_000;
const DRIP_MS = 100;

/** Request headers sent one byte every 100 ms, at most `bytes` of them; resolves with what came back and when the server hung up. */
function slowloris(server: TestServer, bytes: number): Promise<{ answer: string; afterMs: number; hungUp: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(server.port, '127.0.0.1');
    const header = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(bytes)}`;
    let sent = 0;
    let answer = '';
    const drip = setInterval(() => {
      if (sent >= bytes || socket.destroyed) {
        clearInterval(drip);
        socket.destroy();
        resolve({ answer, afterMs: Date.now() - started, hungUp: false });
        return;
      }
      socket.write(header[sent]!);
      sent += 1;
    }, DRIP_MS);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ answer, afterMs: Date.now() - started, hungUp: true });
    });
  });
}

function expectStatusWithJson(answer: Answer, status: number, context: string): void {
  expect(answer.status, `${context}: ${answer.text.slice(0, 200)}`).to.equal(status);
  expectErrorShape(answer, context);
}

describe('attack: oversized headers and slowloris', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
  });
  after(() => server.close());

  it('answers a 20 KB header, a 20 KB URL and a 20 KB upgrade URL with 431 and a SPEC error body', async () => {
    expectStatusWithJson(await call(server, { path: '/healthz', headers: { 'X-Big': 'a'.repeat(20_000) } }), 431, 'big header');
    expectStatusWithJson(await call(server, { path: `/healthz?q=${'a'.repeat(20_000)}` }), 431, 'big URL');
    expectStatusWithJson(await upgrade(server, `/ws/alice?token=${'a'.repeat(20_000)}`), 431, 'big upgrade');
    await expectAlive(server);
  });

  it('disconnects a client that sends its headers one byte per 100 ms once HTTP_HEADERS_TIMEOUT_MS has passed, with a 408', async function () {
    this.timeout(15_000);
    const slow = slowloris(server, 80); // 8 s of dripping at most
    await expectAlive(server); // others are served meanwhile
    const { answer, afterMs, hungUp } = await slow;
    expect(hungUp, 'the server hung up on the slow client').to.equal(true);
    // The timeout, plus at most one of Node's connection checks (1 s), plus slack for a busy machine.
    expect(afterMs).to.be.within(HEADERS_TIMEOUT_MS, HEADERS_TIMEOUT_MS + 3_000);
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).to.have.property('error', 'invalid_request');
  });

  it('refuses HTTP_HEADERS_TIMEOUT_MS above the 30 s request timeout, naming the variable', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '30001' })).to.throw(/HTTP_HEADERS_TIMEOUT_MS/);
    expect(loadConfig({}).httpHeadersTimeoutMs).to.equal(20_000);
  });
});

describe('attack: JSON bombs and deep nesting', () => {
  let server: TestServer;
  let tokens: { user: Auth; admin: Auth; client: Auth };
  let routes: Array<{ method: string; path: string }>;

  before(async () => {
    // Client registration open, so that /register validates its body like every other route.
    server = await startServer({ RATE_LIMITS: 'off', ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD, CLIENT_REGISTRATION: 'open' });
    tokens = { user: (await userAuth(server, 'alice')).auth, admin: await scopedAuth(server, 'root', 'admin'), client: (await clientAuth(server, 'push')).auth };
    const doc = (await server.request.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    routes = Object.entries(doc.paths).flatMap(([template, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation.requestBody !== undefined)
        .map(([method]) => ({ method: method.toUpperCase(), path: template.replace(/\{\w+\}/g, 'alice') })),
    );
  });
  after(() => server.close());

  const authFor = (path: string) => (path.startsWith('/admin') ? tokens.admin : path.startsWith('/push') ? tokens.client : tokens.user);
  const bombs: Array<[string, string]> = [
    ['20,000 nested arrays (40 KB)', '['.repeat(20_000) + ']'.repeat(20_000)],
    ['10,000 nested objects (60 KB)', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
    ['deep nesting inside a valid field', `{"type":"x","title":"x","content":"x","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
    ['30,000 array elements', `[${'0,'.repeat(29_999)}0]`],
    ['5,000 keys', `{${Array.from({ length: 5_000 }, (_, i) => `"k${i}":0`).join(',')}}`],
  ];

  for (const [what, body] of bombs) {
    it(`answers ${what} on every route with a JSON body with 400, not a crash or a stack overflow`, async function () {
      this.timeout(20_000);
      expect(Buffer.byteLength(body)).to.be.below(64 * 1024);
      expect(routes.length).to.be.above(10);
      for (const { method, path } of routes) {
        const answer = await call(server, { method, path, headers: { 'Content-Type': 'application/json', ...authFor(path) }, body });
        expectStatusWithJson(answer, 400, `${what} to ${method} ${path}`);
      }
      await expectAlive(server);
    });
  }

  it('answers a form of 1,000 parameters with 413', async () => {
    const body = Array.from({ length: 1_000 }, (_, i) => `p${i}=x`).join('&');
    const answer = await call(server, { method: 'POST', path: '/token', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    expectStatusWithJson(answer, 413, 'a form of 1,000 parameters');
  });
});

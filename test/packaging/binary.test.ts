import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { completion, exitOf, logLine, type CliResult } from '../cli/cli-process';
import { startServer } from '../support/server';

const ROOT = resolve(__dirname, '../..');
const BUILD_TIMEOUT_MS = 240_000;
const START_TIMEOUT_MS = 15_000;
const SHUTDOWN_DEADLINE_MS = 10_000; // SPEC §7
const REQUEST_TIMEOUT_MS = 5_000;
const FRAME_TIMEOUT_MS = 5_000;
const USERNAME = 'sea-user';
const PASSWORD = 'sea-password-1';

/** `npm run build:binary` into `outDir`; resolves with the executable's path. */
async function buildBinary(outDir: string): Promise<string> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['run', '--silent', 'build:binary', '--', '--out-dir', outDir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const { code, stdout, stderr } = await completion(child, '', BUILD_TIMEOUT_MS - 5_000);
  if (code !== 0) throw new Error(`npm run build:binary exited ${code}:\n${stdout}\n${stderr}`);
  return join(outDir, 'tessera');
}

/** A directory holding nothing but a copy of the executable, and a private, empty TMPDIR for it. */
class LoneBinary {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-sea-run-'));
  readonly tmp = mkdtempSync(join(tmpdir(), 'tessera-sea-tmp-'));

  constructor(built: string) {
    copyFileSync(built, join(this.dir, 'tessera'));
  }

  /** Starts `./tessera <args>` in the directory with only the given environment (plus TMPDIR). */
  spawn(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
    return spawn('./tessera', args, { cwd: this.dir, env: { TMPDIR: this.tmp, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  run(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    return completion(this.spawn(args, env));
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** A JSON request to the server under test; resolves with the status and parsed body. */
async function request(base: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

/** Headers that differ between any two responses (a request id, the time, the connection's state). */
const PER_RESPONSE_HEADERS = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

/** A GET with its status, the headers every answer to it shares, and the body as bytes. */
async function getFile(base: string, path: string) {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !PER_RESPONSE_HEADERS.has(name)));
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Resolves with the next frame of `type` on `ws`; rejects after the timeout. */
function nextFrame(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`no "${type}" frame within ${FRAME_TIMEOUT_MS} ms`));
    }, FRAME_TIMEOUT_MS);
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type !== type) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolvePromise(frame);
    };
    ws.on('message', onMessage);
  });
}

describe('the single executable (npm run build:binary)', () => {
  let outDir: string;
  let built: string;
  let lone: LoneBinary;
  let server: ChildProcess | undefined;

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    outDir = mkdtempSync(join(tmpdir(), 'tessera-sea-build-'));
    built = await buildBinary(outDir);
    lone = new LoneBinary(built);
    console.log(`      binary size: ${(statSync(built).size / 1_048_576).toFixed(1)} MB (${statSync(built).size} bytes)`);
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await exitOf(server).catch(() => undefined);
    }
    lone?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('prints the usage for --help and exits 0, alone in an empty directory, with no warning on stderr', async () => {
    const { code, stdout, stderr } = await lone.run(['--help']);
    expect(code).to.equal(0);
    expect(stderr).to.equal('');
    expect(stdout).to.include('Usage: tessera <command>').and.match(/^\s+serve\s/m).and.match(/^\s+migrate\s/m);
  });

  it('serves the web client, signup, tokens, /me and a WebSocket message round trip from ./data/tessera.db, exits 0 on SIGTERM, and user list reads that database', async function () {
    this.timeout(START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS + 20_000);
    const spawnedAt = performance.now();
    server = lone.spawn(['serve'], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', PASSWORD_HASH_COST: '10' });
    let stderr = '';
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    server.stdin!.end();
    const exited = exitOf(server, START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS + 20_000);

    const listening = await logLine(server, 'tessera listening', START_TIMEOUT_MS);
    const base = `http://127.0.0.1:${listening.port as number}`;
    expect((await request(base, '/healthz')).status).to.equal(200);
    console.log(`      spawn to first /healthz 200: ${Math.round(performance.now() - spawnedAt)} ms`);
    expect(existsSync(join(lone.dir, 'data/tessera.db')), 'data/tessera.db').to.equal(true);
    expect(readdirSync(lone.tmp), 'files left in TMPDIR while serving').to.deep.equal([]);

    // The web client travels inside the executable, and is served as a checkout serves it.
    const checkout = await startServer();
    try {
      const page = (await getFile(base, '/')).body.toString('utf8');
      const script = /src="(assets\/[^"]+\.js)"/.exec(page)?.[1];
      expect(script, `a script in the page served at /:\n${page}`).to.be.a('string');
      for (const path of ['/', `/${script!}`]) {
        const fromBinary = await getFile(base, path);
        const fromCheckout = await getFile(checkout.url, path);
        expect(fromBinary.status, path).to.equal(200);
        expect(fromBinary.headers, path).to.deep.equal(fromCheckout.headers);
        expect(fromBinary.body.equals(fromCheckout.body), `${path}: the same bytes as web/dist`).to.equal(true);
      }
    } finally {
      await checkout.close();
    }

    const json = { 'content-type': 'application/json' };
    const signup = await request(base, '/signup', { method: 'POST', headers: json, body: JSON.stringify({ username: USERNAME, password: PASSWORD }) });
    expect(signup.status, JSON.stringify(signup.body)).to.equal(201);
    const grant = new URLSearchParams({ grant_type: 'password', username: USERNAME, password: PASSWORD, scope: 'messages:read messages:write' });
    const token = await request(base, '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: grant.toString() });
    expect(token.status, JSON.stringify(token.body)).to.equal(200);
    const accessToken = token.body.access_token as string;
    const me = await request(base, '/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).to.equal(200);
    expect(me.body).to.include({ username: USERNAME });

    const ws = new WebSocket(`ws://127.0.0.1:${listening.port as number}/ws/${USERNAME}?token=${encodeURIComponent(accessToken)}`);
    try {
      expect(await nextFrame(ws, 'welcome')).to.include({ username: USERNAME });
      const acked = nextFrame(ws, 'ack');
      ws.send(JSON.stringify({ type: 'message', session_id: 'sea-check', content: 'hello from the binary', nonce: 'n-1' }));
      const ack = await acked;
      expect(ack.nonce).to.equal('n-1');
      expect(ack.message).to.include({ session_id: 'sea-check', seq: 1, sender: USERNAME, content: 'hello from the binary' });
    } finally {
      ws.terminate();
    }

    server.kill('SIGTERM');
    expect(await exited, stderr).to.equal(0);

    const listed = await lone.run(['user', 'list', '--json']);
    expect(listed.code, listed.stderr).to.equal(0);
    expect((JSON.parse(listed.stdout) as Array<{ username: string }>).map((user) => user.username)).to.deep.equal([USERNAME]);
  });

  it('passes doctor after keys list made its database, in another empty directory, leaving nothing in TMPDIR', async () => {
    const fresh = new LoneBinary(built);
    try {
      const keys = await fresh.run(['keys', 'list', '--json']);
      expect(keys.code, keys.stderr).to.equal(0);
      const result = await fresh.run(['doctor']);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^ok {4}migrations: /m).and.match(/^ok {4}signing keys: ES256 key /m);
      expect(readdirSync(fresh.tmp)).to.deep.equal([]);
    } finally {
      fresh.close();
    }
  });

  it('exits 1 naming TMPDIR when it cannot unpack its SQLite addon there', async () => {
    const { code, stderr } = await lone.run(['user', 'list'], { TMPDIR: join(lone.dir, 'no-such-directory') });
    expect(code).to.equal(1);
    expect(stderr).to.match(/^tessera: cannot load the SQLite addon/).and.include('TMPDIR');
  });
});

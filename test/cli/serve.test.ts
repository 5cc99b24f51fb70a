import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { Agent, get } from 'node:http';
import { createServer, type Server } from 'node:net';
import WebSocket from 'ws';
import { passwordGrant, signup } from '../durability/http';
import { socketPath, TestSocket, type Message } from '../gateway/support';
import { CliWorkspace, exitOf, logLine, spawnCli } from './cli-process';
import { startHeldRequest } from './held-request';

const START_TIMEOUT_MS = 15_000;
const SHUTDOWN_DEADLINE_MS = 10_000; // SPEC §7
const FRAME_TIMEOUT_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;
/**
 * What an upgrade sent once tessera logged that it is shutting down may come to: the listener is
 * closed (refused), the kernel had completed the connection just before the listener closed and
 * resets it (loopback is that fast), or the gateway refuses it. Never a welcome.
 */
const REFUSED_UPGRADE = ['ECONNREFUSED', 'ECONNRESET', '503'];

interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly base: string;
  readonly listening: Record<string, unknown>;
  stderr(): string;
}

/** What one fresh TCP connection to /healthz comes to: the status served, or the connection error's code. */
function probeNewConnection(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.once('end', () => resolve(String(res.statusCode)));
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('probe timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** What one WebSocket upgrade on a fresh connection comes to: `welcome`, the refusal's status, or the connection error's code. */
function upgradeOutcome(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new TestSocket(new WebSocket(`ws://127.0.0.1:${port}${path}`, { handshakeTimeout: PROBE_TIMEOUT_MS }));
    const settle = (outcome: string) => {
      resolve(outcome);
      socket.ws.terminate();
    };
    socket.ws.once('unexpected-response', (_req, res) => settle(String(res.statusCode)));
    socket.ws.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    socket.next('welcome', { timeoutMs: PROBE_TIMEOUT_MS }).then(() => settle('welcome'), () => settle('open without a welcome'));
  });
}

async function getJson(base: string, path: string, token: string): Promise<unknown> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
  expect(res.status, `GET ${path}`).to.equal(200);
  return res.json();
}

describe('tessera serve', () => {
  let cli: CliWorkspace;
  const children: ChildProcess[] = [];
  before(() => {
    cli = new CliWorkspace();
  });
  after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGKILL');
      await exitOf(child).catch(() => undefined);
    }
    await cli.close();
  });

  /** `tessera serve` on the workspace's SQLite database and an ephemeral loopback port, once it logged that it listens. */
  async function startServe(): Promise<ServeProcess> {
    let stderr = '';
    const child = spawnCli(['serve'], cli.dir, { ...cli.env, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' });
    children.push(child);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin!.end();
    const listening = await logLine(child, 'tessera listening', START_TIMEOUT_MS);
    const port = listening.port as number;
    return { child, port, base: `http://127.0.0.1:${port}`, listening, stderr: () => stderr };
  }

  it('logs the bound port, answers /healthz there, and exits 0 on SIGTERM', async function () {
    this.timeout(START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS + 5_000);
    const server = await startServe();
    expect(server.listening).to.include({ level: 'info', host: '127.0.0.1', database: 'sqlite' });
    expect(server.port).to.be.a('number').and.above(0);

    const health = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });

    const stopping = logLine(server.child, 'shutting down', SHUTDOWN_DEADLINE_MS);
    const exited = exitOf(server.child, SHUTDOWN_DEADLINE_MS);
    server.child.kill('SIGTERM');
    expect(await stopping).to.include({ signal: 'SIGTERM' });
    expect(await exited, server.stderr()).to.equal(0);
  });

  it('on SIGTERM stops accepting at once, closes sockets with 1001, finishes the request in flight, exits 0 within 10 s and keeps what it acked', async function () {
    this.timeout(2 * START_TIMEOUT_MS + 2 * SHUTDOWN_DEADLINE_MS + 10_000);
    const server = await startServe();
    await signup(server.base, 'alice');
    const token = (await passwordGrant(server.base, 'alice')).access_token as string;
    const socket = new TestSocket(new WebSocket(`ws://127.0.0.1:${server.port}${socketPath('alice', token)}`));
    await socket.next('welcome', { timeoutMs: FRAME_TIMEOUT_MS });
    // A client that never reads the close frame holds the gateway for its whole grace: the listener must be closed all the same.
    const unresponsive = new TestSocket(new WebSocket(`ws://127.0.0.1:${server.port}${socketPath('alice', token)}`));
    await unresponsive.next('welcome', { timeoutMs: FRAME_TIMEOUT_MS });
    unresponsive.ws.pause();
    socket.send({ type: 'message', session_id: 'shutdown-notes', content: 'acked before SIGTERM', nonce: 'before-sigterm' });
    const acked = (await socket.next('ack', { timeoutMs: FRAME_TIMEOUT_MS })).message as Message;
    // A keep-alive connection busy with a request when the server closes must not hold the exit up after its answer.
    const agent = new Agent({ keepAlive: true });
    const held = await startHeldRequest(`${server.base}/tasks`, token, { title: 'written across SIGTERM' }, { agent });

    const stopping = logLine(server.child, 'shutting down', SHUTDOWN_DEADLINE_MS);
    const exited = exitOf(server.child, SHUTDOWN_DEADLINE_MS);
    server.child.kill('SIGTERM');
    expect(await stopping).to.include({ signal: 'SIGTERM' });
    expect(await upgradeOutcome(server.port, socketPath('alice', token))).to.be.oneOf(REFUSED_UPGRADE);
    expect(await probeNewConnection(server.port)).to.equal('ECONNREFUSED');
    expect(await socket.waitForClose(FRAME_TIMEOUT_MS)).to.deep.equal({ code: 1001, reason: 'server shutting down' });
    held.finish();
    const created = await held.answer;
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.include({ title: 'written across SIGTERM', completed: false });
    expect(created.headers.connection, 'the answer ends its keep-alive connection').to.equal('close');
    expect(await exited, server.stderr()).to.equal(0);
    unresponsive.ws.terminate();
    agent.destroy();

    const restarted = await startServe();
    expect(await getJson(restarted.base, '/messages/shutdown-notes', token)).to.deep.equal([acked]);
    expect(await getJson(restarted.base, '/tasks', token)).to.deep.equal([created.body]);
    const restartedExit = exitOf(restarted.child, SHUTDOWN_DEADLINE_MS);
    restarted.child.kill('SIGTERM');
    expect(await restartedExit, restarted.stderr()).to.equal(0);
  });

  it('exits 0 within 10 s of SIGTERM even while a client never finishes sending its request', async function () {
    this.timeout(START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS + 5_000);
    const server = await startServe();
    await signup(server.base, 'stan');
    const token = (await passwordGrant(server.base, 'stan')).access_token as string;
    // Half a body whose rest never comes: the request stays in flight for good.
    const stalled = await startHeldRequest(`${server.base}/tasks`, token, { title: 'never finished' });
    const stopping = logLine(server.child, 'shutting down', SHUTDOWN_DEADLINE_MS);
    const exited = exitOf(server.child, SHUTDOWN_DEADLINE_MS);
    server.child.kill('SIGTERM');
    await stopping;
    expect(await exited, server.stderr()).to.equal(0);
    expect(await stalled.answer.then(() => 'answered', () => 'connection cut')).to.equal('connection cut');
  });

  it('exits 1 with one line naming the address when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const { code, stderr } = await cli.run(['serve'], { env: { PORT: String(port), HOST: '127.0.0.1' } });
      expect(code).to.equal(1);
      expect(stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(stderr).to.include('EADDRINUSE').and.include(`127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import supertest from 'supertest';
import WebSocket from 'ws';
import { logLine, spawnCli } from '../cli/cli-process';
import { TestSocket } from '../gateway/support';
import { expectInvalidToken } from '../support/expectations';
import { POSTGRES_URL, postgresReachable } from '../support/server';
import { PASSWORD, type Tokens } from '../support/users';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every node of a cluster has the same issuer (PORT=0 differs per process, so the default would too). */
export const ISSUER = 'http://tessera.test';
export const START_TIMEOUT_MS = 20_000;
/** SPEC §3.3 and §6: a revoked session is refused, and its sockets closed, within 1 s on every process. */
export const REVOCATION_MS = 1_000;
const STOP_TIMEOUT_MS = 10_000; // SPEC §7: SIGTERM exits within 10 s
const OUTPUT_LINES_KEPT = 50;

/** Polls `check` every 25 ms until it returns a value other than undefined; fails after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** True when a Redis at `url` answers PING within 2 s. */
export async function redisReachable(url = REDIS_URL): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * A before() hook body: skips the suite with the reason printed unless `problem()` finds nothing
 * wrong; in CI (process.env.CI set) a problem fails the suite instead.
 */
export async function requireOrSkip(context: Mocha.Context, problem: () => Promise<string | undefined>): Promise<void> {
  const reason = await problem();
  if (reason === undefined) return;
  if (process.env.CI) throw new Error(reason);
  console.log(`      (skipped: ${reason})`);
  context.skip();
}

/** What the cluster suites need: the machine's PostgreSQL and a Redis at `redisUrl`. */
export async function backendProblem(redisUrl = REDIS_URL): Promise<string | undefined> {
  if (!(await postgresReachable())) return `PostgreSQL is not reachable at ${POSTGRES_URL}`;
  if (!(await redisReachable(redisUrl))) return `Redis is not reachable at ${redisUrl}`;
  return undefined;
}

const running = new Set<ChildProcess>();
// Whatever happens to the test run, no tessera child outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One `tessera serve` child process on loopback. */
export class Node {
  readonly url: string;
  readonly request: ReturnType<typeof supertest>;
  private readonly output: string[];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    output: string[],
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.request = supertest(this.url);
    this.output = output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process wrote, for failure messages. */
  recentOutput(): string {
    return this.output.join('\n');
  }

  /** SIGTERM, then SIGKILL if it has not exited within the SPEC §7 deadline. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** Keeps the last lines `child` wrote to stdout and stderr, reading both for its whole life so a full pipe never blocks it. */
function recordOutput(child: ChildProcess): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const complete = (partial + chunk).split('\n');
      partial = complete.pop() ?? '';
      lines.push(...complete);
      lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
    });
  }
  return lines;
}

/** Spawns `tessera serve` with `env` and resolves once it logged 'tessera listening' with its port. */
async function spawnNode(name: string, cwd: string, env: Record<string, string>): Promise<Node> {
  const child = spawnCli(['serve'], cwd, { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  running.add(child);
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.once('exit', () => running.delete(child));
  child.stdin!.end();
  const output = recordOutput(child);
  try {
    const listening = await logLine(child, 'tessera listening', START_TIMEOUT_MS);
    return new Node(name, child, listening.port as number, output);
  } catch (error) {
    child.kill('SIGKILL');
    await closed;
    throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}\n${output.join('\n')}`);
  }
}

/**
 * tessera processes sharing a fresh PostgreSQL schema and a fresh Redis key prefix, with the sockets
 * the test opened; `close()` stops them all, drops the schema and deletes the keys.
 */
export class Cluster {
  readonly schema = `cluster_${randomBytes(6).toString('hex')}`;
  readonly databaseUrl = `${POSTGRES_URL}?schema=${this.schema}`;
  readonly prefix = `tessera-test-${randomBytes(6).toString('hex')}:`;
  readonly nodes: Node[] = [];
  private readonly sockets: TestSocket[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  private database: Knex | undefined;

  constructor(readonly redisUrl = REDIS_URL) {}

  /** The environment every node gets, before its own `env`. */
  get env(): Record<string, string> {
    return { DATABASE_URL: this.databaseUrl, REDIS_URL: this.redisUrl, REDIS_PREFIX: this.prefix, ISSUER, PASSWORD_HASH_COST: '10' };
  }

  /**
   * Starts `count` nodes at once, as a deployment does (on a fresh schema they race to migrate it
   * and to create the first key and admin), each with `env` on top of the shared environment.
   */
  async start(count: number, env: Record<string, string> = {}): Promise<Node[]> {
    const names = Array.from({ length: count }, (_, i) => `node ${this.nodes.length + i + 1}`);
    const outcomes = await Promise.allSettled(names.map((name) => spawnNode(name, this.dir, { ...this.env, ...env })));
    const started = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    this.nodes.push(...started);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  /** The schema of this cluster, for assertions on rows. */
  get db(): Knex {
    this.database ??= knex({ client: 'pg', connection: POSTGRES_URL, searchPath: [this.schema], pool: { min: 0, max: 2 } });
    return this.database;
  }

  /** Opens `/ws/:username` on `node` with `query` (`token=…` or `ticket=…`); the socket is closed by `close()`. */
  async connect(node: Node, username: string, query: Record<string, string>): Promise<TestSocket> {
    const { socket, status } = await this.attemptSocket(node, username, query);
    if (!socket) throw new Error(`the upgrade on ${node.name} was refused with ${status}`);
    return socket;
  }

  /** An upgrade attempt: the open socket once it got its welcome, or the HTTP status it was refused with. */
  attemptSocket(node: Node, username: string, query: Record<string, string>): Promise<{ socket?: TestSocket; status?: number }> {
    const url = `${node.url.replace(/^http/, 'ws')}/ws/${encodeURIComponent(username)}?${new URLSearchParams(query).toString()}`;
    const socket = new TestSocket(new WebSocket(url));
    this.sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode });
      });
      socket.next('welcome').then(() => resolve({ socket }), reject);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.ws.terminate();
    await Promise.all(this.nodes.map((node) => node.stop()));
    await this.database?.destroy();
    const admin = knex({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 } });
    try {
      await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [this.schema]);
    } finally {
      await admin.destroy();
    }
    await deleteKeys(this.redisUrl, this.prefix);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The cluster of a suite and its two nodes, there once the suite's before() hook has run. */
export interface TwoNodes {
  cluster: Cluster;
  node1: Node;
  node2: Node;
}

/**
 * Declares the hooks of a suite on two nodes of a new cluster, started at once with `env` on top of the shared
 * environment: before() skips the suite unless PostgreSQL and Redis answer (see requireOrSkip), after() closes
 * the cluster. Returns the object that before() fills in.
 */
export function twoNodesPerSuite(env: Record<string, string> = {}): TwoNodes {
  const twoNodes = {} as TwoNodes;
  before(async function () {
    this.timeout(START_TIMEOUT_MS + 10_000);
    await requireOrSkip(this, () => backendProblem());
    twoNodes.cluster = new Cluster();
    [twoNodes.node1, twoNodes.node2] = (await twoNodes.cluster.start(2, env)) as [Node, Node];
  });
  after(() => twoNodes.cluster?.close());
  return twoNodes;
}

/** Deletes the keys under `prefix` (rate-limit counters, tickets); a Redis that is gone has none to delete. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    for (let page = 0; page < 1_000; page += 1) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } catch {
    // nothing to clean up in a Redis that is not there
  } finally {
    redis.disconnect();
  }
}

/** `Authorization: Bearer …` */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A password grant on `node` (not asserted). */
export const passwordGrant = (node: Node, username: string, password = PASSWORD) =>
  node.request.post('/token').type('form').send({ grant_type: 'password', username, password });

/** A refresh-token grant on `node` (not asserted). */
export const refreshGrant = (node: Node, refreshToken: string) =>
  node.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken });

/** A successful password grant on `node`. */
export async function login(node: Node, username: string, scope?: string): Promise<Tokens> {
  const res = await node.request
    .post('/token')
    .type('form')
    .send({ grant_type: 'password', username, password: PASSWORD, ...(scope ? { scope } : {}) });
  expect(res.status, `${node.name}: ${JSON.stringify(res.body)}`).to.equal(200);
  return res.body as Tokens;
}

/** Signs `username` up on `node` and logs in there. */
export async function newUser(node: Node, username: string): Promise<Tokens> {
  const res = await node.request.post('/signup').send({ username, password: PASSWORD });
  expect(res.status, `${node.name}: ${JSON.stringify(res.body)}`).to.equal(201);
  return login(node, username);
}

/** Starts a conversation of the bearer and `members` on `node`; returns its id. */
export async function startConversation(node: Node, token: string, members: string[]): Promise<string> {
  const res = await node.request.post('/conversations').set(bearer(token)).send({ members });
  expect(res.status, `${node.name}: ${JSON.stringify(res.body)}`).to.equal(201);
  return res.body.id as string;
}

/** Waits, at most the SPEC's 1 s, until `node` refuses `token` (GET /me), and asserts the RFC 6750 answer. */
export async function expectRefusedWithinASecond(node: Node, token: string): Promise<void> {
  const res = await eventually(`${node.name} refusing a revoked token`, REVOCATION_MS, async () => {
    const answer = await node.request.get('/me').set(bearer(token));
    return answer.status === 200 ? undefined : answer;
  });
  expectInvalidToken(res);
}

import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { POSTGRES_URL, postgresReachable } from '../support/server';
import type { Tokens } from '../support/users';
import { bearer, Cluster, login, newUser, passwordGrant, requireOrSkip, START_TIMEOUT_MS, type Node } from './support';
import { readyz, RECOVERY_MS } from './own-redis';
import { TcpProxy } from './tcp-proxy';

/** "Fast": every request answers within this while the database is away, however many arrive at once. */
const ANSWER_MS = 10_000;
/** Short bounds, so that waiting them out stays well inside ANSWER_MS. */
const DATABASE_LIMITS = { DATABASE_POOL_MAX: '3', DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_ACQUIRE_TIMEOUT_MS: '1000' };
/** More requests at once than the pool has connections: those beyond it wait for one, and must still answer in time. */
const CONCURRENT_REQUESTS = 12;

/** The cluster's database URL with its host and port replaced by the proxy's. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
}

/** Sends `request` and asserts it is answered within ANSWER_MS (a hang fails the test rather than its timeout). */
async function answeredInTime(what: string, request: () => PromiseLike<Response>): Promise<Response> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWER_MS} ms`)), ANSWER_MS);
  });
  const res = await Promise.race([request(), deadline]).finally(() => clearTimeout(timer));
  expect(Date.now() - started, `${what} answered in ms`).to.be.below(ANSWER_MS);
  return res;
}

const readTasks = (node: Node, alice: Tokens) => node.request.get('/tasks').set(bearer(alice.access_token));

/** Opens the pool's connections while the network still answers, then silences it: reads find them open, and unanswered. */
async function stallWithConnectionsOpen(proxy: TcpProxy, node: Node, alice: Tokens): Promise<void> {
  const reads = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, () => readTasks(node, alice)));
  for (const res of reads) expect(res.status, JSON.stringify(res.body)).to.equal(200);
  proxy.stall();
}

/** Reads, a password grant and /readyz each answer 503 within ANSWER_MS with the SPEC §2 body; the process keeps running. */
async function expectUnavailable(node: Node, alice: Tokens): Promise<void> {
  const reads = await Promise.all(
    Array.from({ length: CONCURRENT_REQUESTS }, (_, i) => answeredInTime(`GET /tasks #${i + 1}`, () => readTasks(node, alice))),
  );
  for (const res of reads) expectError(res, 503, 'unavailable');
  expectError(await answeredInTime('POST /token', () => passwordGrant(node, 'alice')), 503, 'unavailable');

  const ready = await answeredInTime('GET /readyz', () => node.request.get('/readyz'));
  expect(ready.status, JSON.stringify(ready.body)).to.equal(503);
  expect(ready.body.status).to.equal('unavailable');
  expect(ready.body.checks.database).to.be.a('string').and.match(/^unavailable/);

  expect(node.running, `the process still running\n${node.recentOutput()}`).to.equal(true);
  expect((await node.request.get('/healthz')).status).to.equal(200);
}

/** Ready again within RECOVERY_MS; then every read at once, a password grant and /me work, with the task written before the loss. */
async function expectRecovered(node: Node, alice: Tokens): Promise<void> {
  expect((await readyz(node, 200)).body.checks).to.deep.equal({ database: 'ok' });
  const reads = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, () => readTasks(node, alice)));
  for (const res of reads) {
    // The node's log says which wait ran out: a lost connection's query, or the pool's acquire on a loaded machine.
    expect(res.status, `${JSON.stringify(res.body)}\n${node.recentOutput()}`).to.equal(200);
    expect((res.body as Array<{ title: string }>).map((task) => task.title)).to.deep.equal(['written before the loss']);
  }
  const tokens = await login(node, 'alice');
  expect((await node.request.get('/me').set(bearer(tokens.access_token))).status).to.equal(200);
}

describe('cluster: losing PostgreSQL and getting it back (a tessera process whose database is behind a TCP proxy)', () => {
  let proxy: TcpProxy;
  let cluster: Cluster;
  let node: Node;
  let alice: Tokens;

  before(async function () {
    this.timeout(START_TIMEOUT_MS + 10_000);
    await requireOrSkip(this, async () => ((await postgresReachable()) ? undefined : `PostgreSQL is not reachable at ${POSTGRES_URL}`));
    const postgres = new URL(POSTGRES_URL);
    proxy = new TcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    await proxy.start();
    cluster = new Cluster();
    // No Redis: the database is the one backend this process has, and the one it loses.
    [node] = (await cluster.start(1, { DATABASE_URL: throughProxy(cluster.databaseUrl, proxy), REDIS_URL: '', ...DATABASE_LIMITS })) as [Node];
    alice = await newUser(node, 'alice');
    const created = await node.request.post('/tasks').set(bearer(alice.access_token)).send({ title: 'written before the loss' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect((await node.request.get('/readyz')).body).to.deep.equal({ status: 'ok', checks: { database: 'ok' } });
  });
  after(async () => {
    await proxy?.close();
    await cluster?.close();
  });

  const scenarios: ReadonlyArray<{ name: string; lose: () => Promise<void> | void; loss: string; back: () => void; recovery: string }> = [
    {
      name: 'connections refused and reset',
      lose: () => proxy.cut(),
      loss: 'answers 503 at once, with the SPEC §2 body, while PostgreSQL is unreachable, and keeps running',
      back: () => proxy.restore(),
      recovery: 'is ready again within seconds of PostgreSQL coming back, with the data it had',
    },
    {
      name: 'the network gone silent (connections stay open, nothing comes back)',
      lose: () => stallWithConnectionsOpen(proxy, node, alice),
      loss: 'answers 503 within seconds, with the SPEC §2 body, on connections opened before as on new ones, and keeps running',
      back: () => proxy.restore(),
      recovery: 'is ready again within seconds of the network carrying packets again, with the data it had',
    },
    {
      name: 'the network back, but the connections open during the silence lost for good (a NAT or firewall forgot them)',
      lose: () => stallWithConnectionsOpen(proxy, node, alice),
      loss: 'answers 503 within seconds while the network is silent',
      back: () => proxy.restoreNewConnections(),
      recovery: 'is ready again within seconds on new connections, none of its requests waiting on a lost one',
    },
  ];

  for (const scenario of scenarios) {
    describe(scenario.name, () => {
      it(scenario.loss, async function () {
        this.timeout(4 * ANSWER_MS);
        await scenario.lose();
        await expectUnavailable(node, alice);
      });

      it(scenario.recovery, async function () {
        this.timeout(RECOVERY_MS + 10_000);
        scenario.back();
        await expectRecovered(node, alice);
      });
    });
  }
});

import { expect } from 'chai';
import type { Message, TestSocket } from '../gateway/support';
import { expectError } from '../support/expectations';
import type { Tokens } from '../support/users';
import {
  backendProblem,
  bearer,
  Cluster,
  expectRefusedWithinASecond,
  login,
  newUser,
  requireOrSkip,
  REVOCATION_MS,
  START_TIMEOUT_MS,
  startConversation,
  type Node,
} from './support';
import { freeLoopbackPort, OwnRedis, readyz, RECOVERY_MS, REDIS_START_MS, redisServerBinary } from './own-redis';

const contentsOf = (messages: Message[]) => messages.map((message) => message.content);

describe('cluster: losing Redis and getting it back (PostgreSQL + a redis-server of its own)', () => {
  let redis: OwnRedis;
  let cluster: Cluster;
  let node1: Node;
  let node2: Node;
  let alice: Tokens;
  let bob: Tokens;
  let conversation: string;
  let bobSocket: TestSocket;

  before(async function () {
    this.timeout(REDIS_START_MS + START_TIMEOUT_MS + 10_000);
    const binary = redisServerBinary();
    await requireOrSkip(this, async () => (binary ? undefined : 'redis-server is not on the PATH'));
    redis = new OwnRedis(binary!, await freeLoopbackPort());
    await redis.start();
    await requireOrSkip(this, () => backendProblem(redis.url));
    cluster = new Cluster(redis.url);
    [node1, node2] = (await cluster.start(2)) as [Node, Node];
    alice = await newUser(node1, 'alice');
    bob = await newUser(node2, 'bob');
    conversation = await startConversation(node1, alice.access_token, ['bob']);
    bobSocket = await cluster.connect(node2, 'bob', { token: bob.access_token });
  });
  after(async () => {
    await cluster?.close();
    await redis?.kill();
  });

  it('keeps serving without Redis: /readyz 503 naming redis, password grants, and REST that stores messages', async function () {
    this.timeout(RECOVERY_MS + 10_000);
    await redis.kill();

    for (const node of [node1, node2]) {
      const res = await readyz(node, 503);
      expect(res.body.status).to.equal('unavailable');
      expect(res.body.checks.database).to.equal('ok');
      expect(res.body.checks.redis).to.be.a('string').and.not.equal('ok');
      expect(res.body.checks.redis_pubsub).to.be.a('string').and.not.equal('ok');
    }
    const tokens = await login(node1, 'alice');
    // Tickets live only in Redis, so none is issued while it is away; a token in the URL still opens a socket (next test).
    expectError(await node1.request.post('/ws/ticket').set(bearer(tokens.access_token)), 503, 'unavailable');
    const posted = await node1.request.post(`/messages/${conversation}`).set(bearer(tokens.access_token)).send({ content: 'while redis was away' });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
    const history = await node2.request.get(`/messages/${conversation}`).set(bearer(bob.access_token));
    expect(history.status).to.equal(200);
    expect(contentsOf(history.body as Message[])).to.include('while redis was away');

    // The socket on node 2 missed the live event; resume catches it up from the database (SPEC §6).
    const since = bobSocket.frames.length;
    bobSocket.send({ type: 'resume', session_id: conversation, after_seq: 0 });
    await bobSocket.next('resumed', { since });
    expect(contentsOf(bobSocket.messages())).to.include('while redis was away');

    for (const node of [node1, node2]) {
      expect(node.running, `${node.name} still running\n${node.recentOutput()}`).to.equal(true);
      expect((await node.request.get('/healthz')).status).to.equal(200);
    }
  });

  it('still closes, within 1 s, the socket on node 2 of a session logged out on node 1 while Redis is away', async () => {
    const tokens = await login(node1, 'alice');
    const socket = await cluster.connect(node2, 'alice', { token: tokens.access_token });
    const logout = await node1.request.post('/logout').set(bearer(tokens.access_token));
    expect(logout.status, JSON.stringify(logout.body)).to.equal(204);

    // SPEC §3.3 and §6 hold on every process; without the bus, the database is how node 2 learns of it.
    const [closed] = await Promise.all([socket.waitForClose(REVOCATION_MS), expectRefusedWithinASecond(node2, tokens.access_token)]);
    expect(closed.code).to.equal(4003);
  });

  it('is ready again within seconds of Redis coming back on the same port, and delivers across processes again', async function () {
    this.timeout(REDIS_START_MS + 2 * RECOVERY_MS + 10_000);
    await redis.start();
    for (const node of [node1, node2]) expect((await readyz(node, 200)).body.checks).to.deep.equal({ database: 'ok', redis: 'ok', redis_pubsub: 'ok' });

    const since = bobSocket.frames.length;
    const posted = await node1.request.post(`/messages/${conversation}`).set(bearer(alice.access_token)).send({ content: 'redis is back' });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
    const frame = await bobSocket.waitFor((candidate) => candidate.type === 'message', { since });
    expect(frame.message).to.deep.equal(posted.body);
  });
});

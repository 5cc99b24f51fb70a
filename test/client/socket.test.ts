import { expect } from 'chai';
import { backoffDelay, type Message, type TesseraSocket } from '../../client/src/index';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD } from '../support/users';
import { collect, loggedIn, nextEvent, recordingWebSocket, refreshGrants, type Frame, type TestClient } from './support';

const HOLD = () => 60_000; // a backoff that leaves reconnecting to the test (socket.connect())

/** Drops every server-side socket of a user without a close frame: what a dead network looks like (1006). */
function cutSockets(server: TestServer, userId: string): void {
  for (const connection of server.tessera.gateway.registry.ofUser('default', userId)) connection.terminate();
}

async function open(socket: TesseraSocket): Promise<TesseraSocket> {
  if (socket.state !== 'open') await nextEvent(socket, 'state', (state) => state === 'open');
  return socket;
}

describe('client: socket', () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient;
  let bobId: string;
  let conversation: string;
  const sockets: TesseraSocket[] = [];
  const socketOf = (test: TestClient, options: Parameters<TestClient['client']['socket']>[0] = {}) => {
    const socket = test.client.socket(options);
    sockets.push(socket);
    return socket;
  };
  const post = (content: string) => alice.client.messages.send(conversation, { content });

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    alice = await loggedIn(server, 'alice');
    bob = await loggedIn(server, 'bob');
    bobId = (await bob.client.claims())!.sub;
  });
  beforeEach(async () => {
    conversation = (await alice.client.conversations.create({ members: ['bob'] })).id;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(() => server.close());

  it('connects with a one-time ticket, never the token, and receives messages as they are posted', async () => {
    const urls: string[] = [];
    const socket = await open(socketOf(bob, { WebSocket: recordingWebSocket(urls, []) }));
    const received = nextEvent(socket, 'message');
    await post('hello bob');
    expect((await received).content).to.equal('hello bob');
    const { access_token: token } = (await bob.store.get())!;
    expect(urls).to.have.length(1);
    expect(urls[0]).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/bob\?ticket=/).and.not.include(token);
  });

  it('resumes after a cut from the last seq seen: the missed messages arrive once each, in order', async () => {
    const frames: Frame[] = [];
    const socket = await open(socketOf(bob, { backoff: HOLD, WebSocket: recordingWebSocket([], frames) }));
    const messages = collect(socket, 'message');
    const secondLive = nextEvent(socket, 'message', (message) => message.seq === 2);
    await post('one');
    await post('two');
    await secondLive;

    const down = nextEvent(socket, 'state', (state) => state === 'reconnecting');
    cutSockets(server, bobId);
    await down;
    for (const content of ['three', 'four', 'five']) await post(content);
    const caughtUp = nextEvent(socket, 'message', (message) => message.seq === 5);
    socket.connect();
    await caughtUp;
    expect(messages.map((message) => [message.seq, message.content])).to.deep.equal([[1, 'one'], [2, 'two'], [3, 'three'], [4, 'four'], [5, 'five']]);
    // resume asked from seq 2: nothing already seen came over the wire again
    expect(frames.filter((frame) => frame.type === 'message').map((frame) => (frame.message as Message).seq)).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('asks for what was posted before the socket opened when told the last seq it has', async () => {
    await post('before one');
    await post('before two');
    const socket = await open(socketOf(bob));
    const messages = collect(socket, 'message');
    const replayed = nextEvent(socket, 'message', (message) => message.seq === 2);
    socket.track(conversation, 1);
    await replayed;
    expect(messages.map((message) => message.content)).to.deep.equal(['before two']);
  });

  it('reconnects by itself with backoff after the connection drops', async () => {
    const socket = await open(socketOf(bob, { backoff: { baseMs: 10, maxMs: 50 } }));
    const states = collect(socket, 'state');
    const back = nextEvent(socket, 'state', (state) => state === 'open');
    cutSockets(server, bobId);
    await back;
    expect(states).to.deep.equal(['reconnecting', 'connecting', 'open']);
    const received = nextEvent(socket, 'message');
    await post('after the drop');
    expect((await received).content).to.equal('after the drop');
  });

  it('queues messages sent while offline and sends each once, in order, after reconnecting', async () => {
    const socket = await open(socketOf(bob, { backoff: HOLD }));
    const down = nextEvent(socket, 'state', (state) => state === 'reconnecting');
    cutSockets(server, bobId);
    await down;
    const sent = ['queued one', 'queued two', 'queued three'].map((content) => socket.send(conversation, content));
    expect(socket.queued).to.equal(3);

    socket.connect();
    const acked: Message[] = await Promise.all(sent);
    expect(acked.map((message) => [message.seq, message.content, message.sender])).to.deep.equal([[1, 'queued one', 'bob'], [2, 'queued two', 'bob'], [3, 'queued three', 'bob']]);
    expect(socket.queued).to.equal(0);
    const stored = await alice.client.messages.list(conversation);
    expect(stored.map((message) => message.content)).to.deep.equal(['queued one', 'queued two', 'queued three']);
  });

  it('stops reconnecting and emits logout once when the server closes with 4003 (session revoked)', async () => {
    const victim = await loggedIn(server, 'victim');
    const socket = socketOf(victim, { backoff: { baseMs: 10, maxMs: 50 } });
    await open(socket);
    const states = collect(socket, 'state');
    const logouts = collect(victim.client, 'logout');
    const loggedOut = nextEvent(victim.client, 'logout');

    const other = await login(server, 'victim', PASSWORD);
    const { sid } = (await victim.client.claims())!;
    expect((await server.request.delete(`/sessions/${sid}`).set(bearer(other.access_token))).status).to.equal(204);
    await loggedOut;
    expect(states).to.deep.equal(['closed']);
    expect(logouts).to.deep.equal([{ reason: 'revoked' }]);
    expect(await victim.store.get()).to.equal(undefined);
  });

  it('fails the queued messages and stays closed when the session ended while it was offline', async () => {
    const leaver = await loggedIn(server, 'leaver');
    const socket = await open(socketOf(leaver, { backoff: HOLD }));
    const down = nextEvent(socket, 'state', (state) => state === 'reconnecting');
    cutSockets(server, (await leaver.client.claims())!.sub);
    await down;
    const queued = socket.send('leaver-notes', 'written offline').then(() => 'sent', (error: unknown) => error);
    const { access_token: token } = (await leaver.store.get())!;
    expect((await server.request.post('/logout').set(bearer(token))).status).to.equal(204);

    const closed = nextEvent(socket, 'state', (state) => state === 'closed');
    socket.connect(); // the ticket request meets the ended session: the refresh fails with invalid_grant
    await closed;
    expect(await queued).to.have.property('code', 'logged_out');
    expect(await leaver.client.loggedIn()).to.equal(false);
    expect((await server.request.get('/messages/leaver-notes').set(bearer((await login(server, 'leaver')).access_token))).status).to.equal(404);
  });

  it('renews itself in-band with auth when the server warns that its token is expiring', async () => {
    const shortLived = await startServer({ ACCESS_TOKEN_TTL: '4' });
    try {
      const carol = await loggedIn(shortLived, 'carol');
      const frames: Frame[] = [];
      const socket = carol.client.socket({ WebSocket: recordingWebSocket([], frames) });
      sockets.push(socket);
      await open(socket);
      const states = collect(socket, 'state');
      // The token lives 4 s, so token_expiring comes at once and the renewal halfway through what is left.
      const authOk = await waitForFrame(frames, 'auth_ok');
      const welcome = frames.find((frame) => frame.type === 'welcome')!;
      expect(frames.map((frame) => frame.type).slice(0, 3)).to.deep.equal(['welcome', 'token_expiring', 'auth_ok']);
      expect(Date.parse(String(authOk.expires_at))).to.be.greaterThan(Date.parse(String(welcome.expires_at)));
      expect(refreshGrants(carol.calls)).to.have.length(1);
      expect(states).to.deep.equal([]); // never dropped
    } finally {
      await shortLived.close();
    }
  });

  it('emits presence when a watched user comes online', async () => {
    const watcher = await open(socketOf(alice, { presenceIntervalMs: 20 }));
    const offline = nextEvent(watcher, 'presence');
    watcher.watchPresence('bob');
    expect(await offline).to.deep.equal({ username: 'bob', online: false, connections: 0 });
    const online = nextEvent(watcher, 'presence');
    socketOf(bob);
    expect(await online).to.deep.equal({ username: 'bob', online: true, connections: 1 });
  });

  it('backs off exponentially to the cap, with jitter between half and all of each step', () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(options, attempt, () => 1))).to.deep.equal([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(options, attempt, () => 0))).to.deep.equal([50, 100, 200, 400, 500, 500]);
  });
});

/** Resolves with the first frame of `type` recorded; fails after a bounded wait. */
async function waitForFrame(frames: Frame[], type: string, timeoutMs = 6_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = frames.find((candidate) => candidate.type === type);
    if (frame) return frame;
    if (Date.now() > deadline) throw new Error(`no ${type} frame within ${timeoutMs} ms; got ${frames.map((candidate) => candidate.type).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

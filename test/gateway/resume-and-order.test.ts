import { expect } from 'chai';
import { postMessage, startConversation, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, newUser, type Tokens } from '../support/users';
import { closeAll, connectAs, type Frame, type Message, type TestSocket } from './support';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const seqs = (messages: readonly Message[]) => messages.map((message) => message.seq);
const isMessage = (frame: Frame) => frame.type === 'message';

onEachDatabase('gateway resume and delivery order (SPEC §6)', (database) => {
  describe('resume', () => {
    let server: TestServer;
    let alice: Tokens;
    let bob: Tokens;
    const opened: TestSocket[] = [];
    before(async () => {
      server = await startServer({}, database);
      alice = (await newUser(server, 'alice')).tokens;
      bob = (await newUser(server, 'bob')).tokens;
      await newUser(server, 'carol');
    });
    afterEach(() => closeAll(server, opened.splice(0)));
    after(() => server.close());

    async function open(username: string, tokens: Tokens): Promise<TestSocket> {
      const socket = await connectAs(server, username, tokens.access_token);
      opened.push(socket);
      return socket;
    }

    async function post(auth: Auth, sessionId: string, count: number): Promise<Message[]> {
      const posted: Message[] = [];
      for (let i = 0; i < count; i += 1) {
        const res = await postMessage(server, auth, sessionId, { content: `message ${i}` });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        posted.push(res.body as Message);
      }
      return posted;
    }

    it('replays exactly the messages missed while disconnected, in seq order, then resumed with last_seq', async () => {
      const conversation = await startConversation(server, bearer(alice.access_token), ['bob']);
      const first = await open('bob', bob);
      const seen = await post(bearer(alice.access_token), conversation, 3);
      await first.waitForCount(isMessage, 3);
      expect(seqs(first.messages())).to.deep.equal([1, 2, 3]);
      first.ws.close();
      await first.waitForClose();

      const missed = await post(bearer(alice.access_token), conversation, 4);
      const second = await open('bob', bob);
      second.send({ type: 'resume', session_id: conversation, after_seq: seen.at(-1)!.seq });
      const resumed = await second.next('resumed');
      expect(resumed).to.deep.equal({ type: 'resumed', session_id: conversation, last_seq: 7 });
      expect(second.frames.map((frame) => frame.type)).to.deep.equal(['welcome', 'message', 'message', 'message', 'message', 'resumed']);
      expect(second.messages()).to.deep.equal(missed);
    });

    it('answers a resume with nothing missed with resumed and the same last_seq', async () => {
      const conversation = await startConversation(server, bearer(alice.access_token), ['bob']);
      await post(bearer(alice.access_token), conversation, 2);
      const socket = await open('bob', bob);
      socket.send({ type: 'resume', session_id: conversation, after_seq: 2 });
      expect(await socket.next('resumed')).to.deep.equal({ type: 'resumed', session_id: conversation, last_seq: 2 });
      expect(socket.messages()).to.be.empty;
    });

    it('delivers messages posted during a long resume once each, in seq order, none before their turn', async () => {
      const conversation = await startConversation(server, bearer(alice.access_token), ['bob']);
      const { messages, tenantId } = server.tessera.services;
      const sender = { id: (await server.request.get('/me').set(bearer(alice.access_token))).body.id as string, name: 'alice', role: 'user' as const, member: true };
      // More than one page of history (200), stored through the same store REST uses, to keep the resume busy.
      for (let i = 0; i < 450; i += 1) await messages.post({ tenantId, sessionId: conversation, sender, content: `old ${i}`, type: 'text' });
      const socket = await open('bob', bob);
      socket.send({ type: 'resume', session_id: conversation, after_seq: 0 });
      const live = await Promise.all(range(1, 10).map((i) => postMessage(server, bearer(alice.access_token), conversation, { content: `live ${i}` })));
      expect(live.map((res) => res.status)).to.deep.equal(Array(10).fill(201));
      await socket.waitForCount(isMessage, 460, { timeoutMs: 5_000 });
      const resumed = await socket.next('resumed');
      const order = seqs(socket.messages());
      expect([...order].sort((a, b) => a - b), 'each seq once').to.deep.equal(range(1, 460));
      expect(order, 'in seq order').to.deep.equal(range(1, 460));
      const resumedAt = socket.frames.indexOf(resumed);
      const replayed = socket.frames.slice(0, resumedAt).filter(isMessage).length;
      expect(resumed.last_seq).to.equal(replayed);
    });

    it('replays 100 messages of 15 KB (1.5 MB in one turn) to a reader keeping up and ends in resumed, not a 1013 close', async () => {
      const conversation = await startConversation(server, bearer(alice.access_token), ['bob']);
      const { messages, tenantId } = server.tessera.services;
      const sender = { id: (await server.request.get('/me').set(bearer(alice.access_token))).body.id as string, name: 'alice', role: 'user' as const, member: true };
      for (let i = 0; i < 100; i += 1) await messages.post({ tenantId, sessionId: conversation, sender, content: `${i}`.padEnd(15_000, '.'), type: 'text' });
      const socket = await open('bob', bob);
      socket.send({ type: 'resume', session_id: conversation, after_seq: 0 });
      expect(await socket.next('resumed', { timeoutMs: 10_000 })).to.deep.equal({ type: 'resumed', session_id: conversation, last_seq: 100 });
      expect(seqs(socket.messages())).to.deep.equal(range(1, 100));
      await socket.expectServed();
    });

    it('answers a resume of a conversation the user is not in with a not_found error frame and stays open', async () => {
      const conversation = await startConversation(server, bearer(alice.access_token), ['carol']);
      await post(bearer(alice.access_token), conversation, 1);
      const socket = await open('bob', bob);
      socket.send({ type: 'resume', session_id: conversation, after_seq: 0 });
      const error = await socket.next('error');
      expect(error.code).to.equal('not_found');
      socket.send({ type: 'resume', session_id: 'no-such-conversation', after_seq: 0 });
      expect((await socket.waitForCount((frame) => frame.type === 'error', 2))[1]!.code).to.equal('not_found');
      expect(socket.messages()).to.be.empty;
      expect(socket.ofType('resumed')).to.be.empty;
      await socket.expectServed();
    });
  });

  describe('delivery under load: 100 clients × 20 messages in 10 conversations of 10', () => {
    const CONVERSATIONS = 10;
    const MEMBERS = 10;
    const PER_CLIENT = 20;
    const PER_CONVERSATION = MEMBERS * PER_CLIENT;
    // The longest a socket may go without a frame while it still waits for some.
    const STALL_MS = 10_000;
    let server: TestServer;
    const clients: Array<{ username: string; tokens: Tokens; conversation: string; socket?: TestSocket }> = [];
    before(async function () {
      this.timeout(30_000);
      server = await startServer({ RATE_LIMITS: 'off' }, database);
      for (let c = 0; c < CONVERSATIONS; c += 1) {
        const usernames = range(0, MEMBERS - 1).map((m) => `user_${c}_${m}`);
        const members = await Promise.all(usernames.map(async (username) => ({ username, tokens: (await newUser(server, username)).tokens })));
        const conversation = await startConversation(server, bearer(members[0]!.tokens.access_token), usernames.slice(1));
        for (const member of members) clients.push({ ...member, conversation });
      }
    });
    // Every client sends all its messages at once; the frames they receive are then checked by the tests below.
    before(async function () {
      // 4,000 messages and 36,000 frames: a loaded machine takes its time, so the waits below fail only when delivery stalls.
      this.timeout(120_000);
      for (const client of clients) client.socket = await connectAs(server, client.username, client.tokens.access_token);
      for (const { socket, username, conversation } of clients) {
        for (let n = 0; n < PER_CLIENT; n += 1) socket!.send({ type: 'message', session_id: conversation, content: `${username} #${n}`, nonce: `${username}-${n}` });
      }
      await Promise.all(
        clients.map(async ({ socket }) => {
          await socket!.waitForCount((frame) => frame.type === 'ack', PER_CLIENT, { timeoutMs: STALL_MS, whileProgressing: true });
          await socket!.waitForCount(isMessage, PER_CONVERSATION - PER_CLIENT, { timeoutMs: STALL_MS, whileProgressing: true });
          await socket!.expectServed();
        }),
      );
      await closeAll(server, clients.map(({ socket }) => socket!));
    });
    after(() => server.close());

    it("acks each sender's messages and delivers every other member's to it exactly once, nothing more", () => {
      for (const { socket, username, conversation } of clients) {
        const received = socket!.messages();
        const acked = socket!.ofType('ack').map((ack) => ack.message as Message);
        expect(acked.map((message) => message.content), `acks at ${username}`).to.deep.equal(range(0, PER_CLIENT - 1).map((n) => `${username} #${n}`));
        const misdelivered = received.filter((message) => message.session_id !== conversation || message.sender === username);
        expect(misdelivered.map((message) => `${message.sender}: ${message.content} (seq ${message.seq})`), `foreign or own messages at ${username}`).to.be.empty;
        const every = [...seqs(received), ...seqs(acked)].sort((a, b) => a - b);
        expect(every, `every seq once at ${username}`).to.deep.equal(range(1, PER_CONVERSATION));
      }
    });

    it('keeps the seq order of each conversation at every receiver', () => {
      for (const { socket, username } of clients) {
        const order = seqs(socket!.messages());
        expect(order, `seq order at ${username}`).to.deep.equal([...order].sort((a, b) => a - b));
      }
    });

    it('stores each conversation with seq 1 to 200 and no gaps', async () => {
      for (let c = 0; c < CONVERSATIONS; c += 1) {
        const { conversation, tokens } = clients[c * MEMBERS]!;
        const res = await server.request.get(`/messages/${conversation}?limit=200`).set(bearer(tokens.access_token));
        expect(seqs(res.body as Message[])).to.deep.equal(range(1, PER_CONVERSATION));
      }
    });
  });
});

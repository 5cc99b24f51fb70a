import { expect } from 'chai';
import { detailFields, expectError, RFC3339_UTC } from '../support/expectations';
import { followPages, nextLink, postMessage, startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

interface Message {
  id: string;
  session_id: string;
  seq: number;
  sender: string;
  role: string;
  type: string;
  content: string;
  timestamp: string;
}

const MESSAGE_FIELDS = ['id', 'session_id', 'seq', 'sender', 'role', 'type', 'content', 'timestamp'];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

onEachDatabase('conversations and messages (SPEC §5.3)', (database) => {
  let server: TestServer;
  let alice: Auth;
  let bob: Auth;
  let carol: Auth;
  before(async () => {
    server = await startServer({}, database);
    alice = (await userAuth(server, 'alice')).auth;
    bob = (await userAuth(server, 'bob')).auth;
    carol = (await userAuth(server, 'carol')).auth;
  });
  after(() => server.close());

  const rowsOf = (sessionId: string) => server.tessera.services.db('messages').where({ conversation_id: sessionId }).orderBy('seq');
  const listConversations = async (auth: Auth) => (await server.request.get('/conversations').set(auth).expect(200)).body as Array<Record<string, unknown>>;

  async function post(auth: Auth, sessionId: string, body: Record<string, unknown>, status = 201): Promise<Message> {
    const res = await postMessage(server, auth, sessionId, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    return res.body as Message;
  }

  describe('conversations', () => {
    it('starts a conversation with 201, its members named case-insensitively, the creator included', async () => {
      const res = await server.request.post('/conversations').set(alice).send({ title: 'Plans', members: ['BOB', 'Carol', 'bob'] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.have.all.keys(['id', 'title', 'members', 'last_seq', 'created_at']);
      expect(res.body).to.include({ title: 'Plans', last_seq: 0 });
      expect(res.body.members).to.have.members(['alice', 'bob', 'carol']);
      expect(res.body.created_at).to.match(RFC3339_UTC);
      expect(res.headers.location).to.equal(`/messages/${res.body.id}`);
      expect((await server.request.get(res.headers.location as string).set(carol)).status).to.equal(200);
    });

    it('refuses unknown usernames with 422 naming each of them, and starts nothing', async () => {
      const before = await listConversations(alice);
      const res = await server.request.post('/conversations').set(alice).send({ members: ['bob', 'nobody', 'Ghost'] });
      expectError(res, 422, 'validation_failed');
      expect(res.body.error_description).to.include('nobody').and.include('ghost');
      expect(res.body.details.map((d: { message: string }) => d.message).join(' ')).to.include('nobody').and.include('ghost').and.not.include('bob');
      expect(await listConversations(alice)).to.deep.equal(before);
    });

    it('answers a user 422 for unknown usernames 20 times an hour, then 429 with Retry-After, even for known ones (SPEC §9)', async () => {
      const frank = (await userAuth(server, 'frank')).auth;
      const start = (auth: Auth, members: string[]) => server.request.post('/conversations').set(auth).send({ members });
      for (let i = 0; i < 19; i += 1) expectError(await start(frank, [`ghost${i}`]), 422, 'validation_failed');
      expect((await start(frank, ['bob'])).status, 'a conversation of known members does not count').to.equal(201);
      expectError(await start(frank, ['ghost19']), 422, 'validation_failed');
      for (const members of [['ghost20'], ['bob']]) {
        const res = await start(frank, members);
        expectError(res, 429, 'rate_limited');
        expect(Number(res.headers['retry-after'])).to.be.within(1, 3600);
      }
      // Another user has a budget of their own.
      expectError(await start((await userAuth(server, 'gina')).auth, ['ghost']), 422, 'validation_failed');
    });

    it("lists only the caller's conversations, newest first", async () => {
      const dave = (await userAuth(server, 'dave')).auth;
      const erin = (await userAuth(server, 'erin')).auth;
      const shared = await startConversation(server, dave, ['erin']);
      const davesOwn = await startConversation(server, dave, []);
      const erinsOwn = await startConversation(server, erin, []);
      const daves = await listConversations(dave);
      expect(daves.map((c) => c.id)).to.have.members([shared, davesOwn]);
      expect((await listConversations(erin)).map((c) => c.id)).to.have.members([shared, erinsOwn]);
      const times = daves.map((c) => Date.parse(c.created_at as string));
      expect(times[0]).to.be.at.least(times[1]!);
    });
  });

  describe('reading and posting', () => {
    let sessionId: string;
    before(async () => {
      sessionId = await startConversation(server, alice, ['bob']);
      for (const n of range(1, 5)) await post(n % 2 ? alice : bob, sessionId, { content: `message ${n}` });
    });

    it('returns the messages to members ascending by seq, with the SPEC fields', async () => {
      const res = await server.request.get(`/messages/${sessionId}`).set(bob);
      expect(res.status).to.equal(200);
      expect(res.body.map((m: Message) => m.seq)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(res.body.map((m: Message) => m.sender)).to.deep.equal(['alice', 'bob', 'alice', 'bob', 'alice']);
      expect(res.body[0]).to.have.all.keys(MESSAGE_FIELDS);
      expect(res.body[0]).to.include({ session_id: sessionId, role: 'user', type: 'text', content: 'message 1' });
      expect(res.body[0].timestamp).to.match(RFC3339_UTC);
      expect(nextLink(res)).to.equal(undefined);
    });

    it('answers 404 to a user who is not a member', async () => {
      expectError(await server.request.get(`/messages/${sessionId}`).set(carol), 404, 'not_found');
    });

    it('returns only messages after after_seq, limit at a time, with a Link to the next page', async () => {
      const after = await server.request.get(`/messages/${sessionId}?after_seq=2`).set(alice);
      expect(after.body.map((m: Message) => m.seq)).to.deep.equal([3, 4, 5]);
      const first = await server.request.get(`/messages/${sessionId}?limit=2`).set(alice);
      expect(first.body.map((m: Message) => m.seq)).to.deep.equal([1, 2]);
      expect(nextLink(first)).to.include('after_seq=2').and.include('limit=2');
      const pages = await followPages<Message>(server, alice, `/messages/${sessionId}?limit=2`, 5);
      expect(pages.map((page) => page.map((m) => m.seq))).to.deep.equal([[1, 2], [3, 4], [5]]);
      expect((await server.request.get(`/messages/${sessionId}?after_seq=5`).set(alice)).body).to.deep.equal([]);
    });

    it('refuses a bad after_seq or limit with 400', async () => {
      for (const query of ['after_seq=-1', 'after_seq=x', 'limit=0', 'limit=201']) {
        expectError(await server.request.get(`/messages/${sessionId}?${query}`).set(alice), 400, 'validation_failed');
      }
    });

    it('stores a post with 201, the next seq, its type, and a Location that reads it', async () => {
      const res = await postMessage(server, bob, sessionId, { content: '**bold**', type: 'markdown' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ seq: 6, sender: 'bob', role: 'user', type: 'markdown', content: '**bold**', session_id: sessionId });
      const read = await server.request.get(res.headers.location as string).set(alice);
      expect(read.body).to.deep.equal([res.body]);
    });

    it('starts a one-member conversation when the session_id is new', async () => {
      const message = await post(carol, 'carol-new-session', { content: 'hello?' });
      expect(message).to.include({ seq: 1, session_id: 'carol-new-session', sender: 'carol' });
      const conversation = (await listConversations(carol)).find((c) => c.id === 'carol-new-session');
      expect(conversation).to.deep.include({ members: ['carol'], last_seq: 1, title: null });
      expectError(await server.request.get('/messages/carol-new-session').set(bob), 404, 'not_found');
    });

    it('returns the first message with 200 for a repeated nonce, and stores no copy', async () => {
      const first = await post(alice, sessionId, { content: 'once', nonce: 'n-1' });
      const again = await post(alice, sessionId, { content: 'twice?', nonce: 'n-1' }, 200);
      expect(again).to.deep.equal(first);
      expect((await rowsOf(sessionId)).filter((row) => row.nonce === 'n-1')).to.have.length(1);
      const next = await post(alice, sessionId, { content: 'after' });
      expect(next.seq, 'no seq was used up by the repeat').to.equal(first.seq + 1);
    });

    it("treats the same nonce from another sender as that sender's own message", async () => {
      const alices = await post(alice, sessionId, { content: 'from alice', nonce: 'shared-nonce' });
      const bobs = await post(bob, sessionId, { content: 'from bob', nonce: 'shared-nonce' });
      expect(bobs.id).to.not.equal(alices.id);
      expect(bobs).to.include({ sender: 'bob', content: 'from bob', seq: alices.seq + 1 });
    });

    it('accepts content of 16 KiB and refuses one byte more, counted in UTF-8 bytes', async () => {
      expect((await post(alice, sessionId, { content: 'a'.repeat(16 * 1024) })).content).to.have.length(16 * 1024);
      for (const content of ['a'.repeat(16 * 1024 + 1), 'é'.repeat(8 * 1024 + 1), '']) {
        const res = await postMessage(server, alice, sessionId, { content });
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res)).to.deep.equal(['content']);
      }
    });

    it('refuses unknown fields, a bad type and a bad session_id with 400', async () => {
      expectError(await postMessage(server, alice, sessionId, { content: 'x', seq: 1 }), 400, 'validation_failed');
      expectError(await postMessage(server, alice, sessionId, { content: 'x', type: 'Not A Type' }), 400, 'validation_failed');
      expectError(await postMessage(server, alice, 'has spaces!', { content: 'x' }), 400, 'validation_failed');
      expectError(await postMessage(server, alice, 'x'.repeat(65), { content: 'x' }), 400, 'validation_failed');
    });
  });

  describe('concurrency', () => {
    it('gives 50 racing posts to one conversation the seqs 1 to 50, no gaps, no repeats', async () => {
      const sessionId = await startConversation(server, alice, ['bob']);
      const responses = await Promise.all(range(1, 50).map((n) => postMessage(server, n % 2 ? alice : bob, sessionId, { content: `race ${n}` })));
      expect(responses.map((res) => res.status)).to.deep.equal(range(1, 50).map(() => 201));
      expect(responses.map((res) => res.body.seq as number).sort((a, b) => a - b)).to.deep.equal(range(1, 50));
      const rows = await rowsOf(sessionId);
      expect(rows.map((row) => Number(row.seq))).to.deep.equal(range(1, 50));
      expect(rows.map((row) => row.content as string).sort()).to.deep.equal(range(1, 50).map((n) => `race ${n}`).sort());
      const read = await server.request.get(`/messages/${sessionId}?limit=200`).set(bob);
      expect(read.body.map((m: Message) => m.seq)).to.deep.equal(range(1, 50));
    });

    it('stores one message for 20 racing posts with the same nonce, and answers all with it', async () => {
      const sessionId = await startConversation(server, alice, []);
      const responses = await Promise.all(range(1, 20).map((n) => postMessage(server, alice, sessionId, { content: `try ${n}`, nonce: 'racing-nonce' })));
      expect(responses.filter((res) => res.status === 201), 'exactly one 201').to.have.length(1);
      expect(responses.filter((res) => res.status === 200), 'the rest 200').to.have.length(19);
      expect(new Set(responses.map((res) => res.body.id as string)).size).to.equal(1);
      expect(await rowsOf(sessionId)).to.have.length(1);
      expect((await post(alice, sessionId, { content: 'next' })).seq).to.equal(2);
    });

    it('starts one conversation for 10 racing first posts to a new session_id, with seqs 1 to 10', async () => {
      const responses = await Promise.all(range(1, 10).map((n) => postMessage(server, bob, 'racing-new-session', { content: `first ${n}` })));
      expect(responses.map((res) => res.status)).to.deep.equal(range(1, 10).map(() => 201));
      expect((await rowsOf('racing-new-session')).map((row) => Number(row.seq))).to.deep.equal(range(1, 10));
      const conversation = (await listConversations(bob)).find((c) => c.id === 'racing-new-session');
      expect(conversation).to.deep.include({ members: ['bob'], last_seq: 10 });
    });
  });
});

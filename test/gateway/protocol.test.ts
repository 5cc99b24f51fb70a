import { expect } from 'chai';
import { RFC3339_UTC } from '../support/expectations';
import { postMessage, startConversation, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, type Tokens } from '../support/users';
import { closeAll, connectAs, registrySize, type Frame, type Message, type TestSocket } from './support';

const isError = (code: string) => (frame: Frame) => frame.type === 'error' && frame.code === code;

onEachDatabase('gateway frame protocol (SPEC §6)', (database) => {
  let server: TestServer;
  const tokens: Record<string, Tokens> = {};
  const auth = (username: string): Auth => bearer(tokens[username]!.access_token);
  let conversation: string;
  const opened: TestSocket[] = [];

  before(async () => {
    server = await startServer({}, database);
    for (const username of ['alice', 'bob', 'carol']) tokens[username] = (await newUser(server, username)).tokens;
    conversation = await startConversation(server, auth('alice'), ['bob']);
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(() => server.close());

  async function open(username: string, token = tokens[username]!.access_token): Promise<TestSocket> {
    const socket = await connectAs(server, username, token);
    opened.push(socket);
    return socket;
  }

  const history = async (sessionId = conversation): Promise<Message[]> => {
    const res = await server.request.get(`/messages/${sessionId}?limit=200`).set(auth('alice'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as Message[];
  };

  describe('message frames', () => {
    it("acks a message with its nonce and the stored message, delivers it to the members and the sender's other sockets, not the sending one", async () => {
      const [sending, otherTab, bob] = [await open('alice'), await open('alice'), await open('bob')];
      sending.send({ type: 'message', session_id: conversation, content: 'hello bob', nonce: 'n-1' });
      const ack = await sending.next('ack');
      expect(ack).to.have.all.keys('type', 'nonce', 'message');
      expect(ack.nonce).to.equal('n-1');
      const message = ack.message as Message;
      expect(message).to.include({ session_id: conversation, sender: 'alice', role: 'user', type: 'text', content: 'hello bob' });
      expect(message.seq).to.be.a('number').and.be.above(0);
      expect(message.timestamp).to.match(RFC3339_UTC);
      for (const receiver of [otherTab, bob]) expect((await receiver.next('message')).message).to.deep.equal(message);
      await sending.expectServed();
      expect(sending.ofType('message')).to.be.empty;
    });

    it('stores the message exactly as REST does: GET /messages shows it, with its message_type', async () => {
      const socket = await open('alice');
      socket.send({ type: 'message', session_id: conversation, content: 'a note', message_type: 'note' });
      const ack = await socket.next('ack');
      expect(ack.nonce).to.equal(null);
      const viaRest = await postMessage(server, auth('alice'), conversation, { content: 'via rest', type: 'note' });
      expect(viaRest.status).to.equal(201);
      const stored = await history();
      expect(stored.find((row) => row.id === (ack.message as Message).id)).to.deep.equal(ack.message);
      expect(ack.message).to.have.all.keys(Object.keys(viaRest.body as Message));
      expect(viaRest.body.seq).to.equal((ack.message as Message).seq + 1);
    });

    it('stores one row for the same nonce sent twice and acks both with it', async () => {
      const socket = await open('alice');
      socket.send({ type: 'message', session_id: conversation, content: 'once', nonce: 'twice' });
      const first = await socket.next('ack');
      socket.send({ type: 'message', session_id: conversation, content: 'once', nonce: 'twice' });
      const [, second] = await socket.waitForCount((frame) => frame.type === 'ack', 2);
      expect(second!.message).to.deep.equal(first.message);
      expect((await history()).filter((row) => row.content === 'once')).to.have.length(1);
    });

    it('stores the messages of one socket in the order it sent them, and acks them in that order', async () => {
      const socket = await open('alice');
      const nonces = Array.from({ length: 20 }, (_, i) => `order-${i}`);
      for (const nonce of nonces) socket.send({ type: 'message', session_id: conversation, content: nonce, nonce });
      const acks = await socket.waitForCount((frame) => frame.type === 'ack', nonces.length);
      expect(acks.map((ack) => ack.nonce)).to.deep.equal(nonces);
      const stored = (await history()).filter((row) => nonces.includes(row.content));
      expect(stored.map((row) => row.content)).to.deep.equal(nonces);
    });

    it('answers a message without messages:write with an insufficient_scope error frame and stores nothing', async () => {
      const readOnly = await login(server, 'alice', undefined, { scope: 'messages:read' });
      const socket = await open('alice', readOnly.access_token);
      const before = (await history()).length;
      socket.send({ type: 'message', session_id: conversation, content: 'not allowed', nonce: 'ro-1' });
      const error = await socket.waitFor(isError('insufficient_scope'));
      expect(error).to.include({ nonce: 'ro-1' });
      expect(error.message).to.be.a('string').and.not.be.empty;
      expect(await history()).to.have.length(before);
      await socket.expectServed();
    });

    it("answers a message to a conversation the sender is not in with a not_found error frame", async () => {
      const socket = await open('carol');
      socket.send({ type: 'message', session_id: conversation, content: 'intruding', nonce: 'c-1' });
      expect(await socket.waitFor(isError('not_found'))).to.include({ nonce: 'c-1' });
      expect((await history()).map((row) => row.content)).to.not.include('intruding');
    });

    it('delivers messages posted via REST to every member socket, the poster included', async () => {
      const [alice, bob] = [await open('alice'), await open('bob')];
      const res = await postMessage(server, auth('bob'), conversation, { content: 'posted over REST' });
      expect(res.status).to.equal(201);
      for (const socket of [alice, bob]) expect((await socket.next('message')).message).to.deep.equal(res.body);
    });

    it('delivers nothing to a user outside the conversation', async () => {
      const carol = await open('carol');
      const bob = await open('bob');
      await postMessage(server, auth('alice'), conversation, { content: 'members only' }).expect(201);
      await bob.next('message');
      await carol.expectServed();
      expect(carol.ofType('message')).to.be.empty;
    });
  });

  describe('ping and bad frames', () => {
    it('answers ping with pong', async () => {
      const socket = await open('alice');
      socket.send({ type: 'ping' });
      expect(await socket.next('pong')).to.deep.equal({ type: 'pong' });
    });

    it('answers bad JSON, an unknown type, a bad field and a binary frame with an error frame and stays open', async () => {
      const socket = await open('alice');
      const bad = ['{not json', JSON.stringify({ type: 'dance' }), JSON.stringify({ type: 'resume', session_id: conversation, after_seq: -1 }), '"a string"'];
      for (const frame of bad) socket.send(frame);
      socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      const errors = await socket.waitForCount((frame) => frame.type === 'error', bad.length + 1);
      for (const error of errors) {
        expect(error.code).to.equal('bad_frame');
        expect(error.message).to.be.a('string').and.not.be.empty;
      }
      await socket.expectServed();
    });

    it('closes the socket with 1008 after 10 bad frames in a row', async () => {
      const socket = await open('alice');
      for (let i = 0; i < 10; i += 1) socket.send('garbage');
      expect((await socket.waitForClose()).code).to.equal(1008);
      expect(socket.ofType('error')).to.have.length(9);
    });

    it('counts bad frames in a row only: a good frame in between starts the count again', async () => {
      const socket = await open('alice');
      for (let i = 0; i < 9; i += 1) socket.send('garbage');
      await socket.expectServed();
      for (let i = 0; i < 9; i += 1) socket.send('garbage');
      await socket.expectServed();
      expect(socket.ofType('error')).to.have.length(18);
    });

    it('closes the socket with 1009 for a frame over WS_MAX_PAYLOAD (64 KiB by default)', async () => {
      const socket = await open('alice');
      socket.send({ type: 'message', session_id: conversation, content: 'x'.repeat(70 * 1024) });
      expect((await socket.waitForClose()).code).to.equal(1009);
    });
  });

  describe('with WS_FRAMES_PER_SECOND=5', () => {
    let limited: TestServer;
    let token: string;
    before(async () => {
      limited = await startServer({ WS_FRAMES_PER_SECOND: '5' }, database);
      token = (await newUser(limited, 'alice')).tokens.access_token;
    });
    after(() => limited.close());

    it('answers a flood with rate_limited error frames, then closes it with 1008', async () => {
      const socket = await connectAs(limited, 'alice', token);
      for (let i = 0; i < 100; i += 1) socket.send({ type: 'ping' });
      expect((await socket.waitForClose()).code).to.equal(1008);
      expect(socket.ofType('pong').length, 'pings answered').to.be.below(100);
      expect(socket.frames.filter(isError('rate_limited'))).to.not.be.empty;
      await registrySize(limited, 0);
    });
  });
});

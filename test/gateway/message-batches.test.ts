import { expect } from 'chai';
import { MAX_UNACKED_MESSAGES } from '../../src/gateway/connection';
import { startConversation, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type DatabaseKind, type TestServer } from '../support/server';
import { bearer, newUser, type Tokens } from '../support/users';
import { closeAll, connectAs, sendTogether, WAIT_MS, type Frame, type Message, type TestSocket } from './support';

const FLOOD = MAX_UNACKED_MESSAGES * 4;
const REFUSED = 'refused by the test trigger';

/** A trigger that fails the insert of a message whose content is 'boom': the commit of its batch fails for real. */
async function refuseBoom(server: TestServer, database: DatabaseKind): Promise<void> {
  const { db } = server.tessera.services;
  if (database === 'sqlite') {
    await db.raw(`CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.content = 'boom' BEGIN SELECT RAISE(ABORT, '${REFUSED}'); END`);
    return;
  }
  await db.raw(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.content = 'boom' THEN RAISE EXCEPTION '${REFUSED}'; END IF; RETURN NEW; END $$`);
  await db.raw('CREATE TRIGGER refuse_boom BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_boom()');
}

const answerTo = (nonce: string) => (frame: Frame) => (frame.type === 'ack' || frame.type === 'error') && frame.nonce === nonce;

onEachDatabase('gateway: messages stored in batches (SPEC §12)', (database) => {
  let server: TestServer;
  const tokens: Record<string, Tokens> = {};
  const auth = (username: string): Auth => bearer(tokens[username]!.access_token);
  const opened: TestSocket[] = [];

  before(async () => {
    // Frames far above what the test sends per second: the bound on waiting messages is what is tested, not the frame rate.
    server = await startServer({ WS_FRAMES_PER_SECOND: '100000' }, database);
    for (const username of ['alice', 'bob', 'carol', 'dave']) tokens[username] = (await newUser(server, username)).tokens;
    await refuseBoom(server, database);
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(() => server.close());

  async function open(username: string): Promise<TestSocket> {
    const socket = await connectAs(server, username, tokens[username]!.access_token);
    opened.push(socket);
    return socket;
  }

  /** Every message of a conversation, a page of 200 at a time (a bounded number of pages). */
  const history = async (username: string, sessionId: string): Promise<Message[]> => {
    const all: Message[] = [];
    for (let page = 0; page < 20; page += 1) {
      const res = await server.request.get(`/messages/${sessionId}?limit=200&after_seq=${all.at(-1)?.seq ?? 0}`).set(auth(username));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      all.push(...(res.body as Message[]));
      if ((res.body as Message[]).length < 200) break;
    }
    return all;
  };

  it('answers every message of a batch whose commit fails with an error frame, stores none of them, and carries on gap-free', async () => {
    const conversation = await startConversation(server, auth('alice'), ['bob']);
    const [alice, bob] = [await open('alice'), await open('bob')];
    alice.send({ type: 'message', session_id: conversation, content: 'before', nonce: 'before' });
    await alice.waitFor(answerTo('before'));
    const doomed = ['first', 'second', 'boom', 'last'];
    sendTogether(
      alice,
      doomed.map((content) => ({ type: 'message', session_id: conversation, content, nonce: `doomed-${content}` })),
    );
    for (const content of doomed) {
      const answer = await alice.waitFor(answerTo(`doomed-${content}`));
      expect(answer, content).to.include({ type: 'error', code: 'server_error' });
      expect(JSON.stringify(answer)).to.not.include(REFUSED);
    }
    alice.send({ type: 'message', session_id: conversation, content: 'after', nonce: 'after' });
    const after = await alice.waitFor(answerTo('after'));
    expect(after.type).to.equal('ack');
    const stored = await history('alice', conversation);
    expect(stored.map((message) => [message.seq, message.content])).to.deep.equal([
      [1, 'before'],
      [2, 'after'],
    ]);
    await bob.waitForCount((frame) => frame.type === 'message', 2);
    await bob.expectServed();
    expect(bob.messages().map((message) => message.content)).to.deep.equal(['before', 'after']);
  });

  it('answers every message only after its commit: each ack names a message that GET /messages already returns', async () => {
    const conversation = await startConversation(server, auth('alice'), ['bob']);
    const alice = await open('alice');
    const nonces = Array.from({ length: 50 }, (_, i) => `c-${i}`);
    sendTogether(
      alice,
      nonces.map((nonce) => ({ type: 'message', session_id: conversation, content: nonce, nonce })),
    );
    const first = (await alice.waitFor(answerTo('c-0'))).message as Message;
    expect((await history('alice', conversation)).map((message) => message.id)).to.include(first.id);
    const acks = await alice.waitForCount((frame) => frame.type === 'ack', nonces.length);
    expect(acks.map((ack) => (ack.message as Message).seq)).to.deep.equal(nonces.map((_, i) => i + 1));
  });

  it('delivers a batch of 80 messages of 15 KB (1.2 MB in one turn) whole to a member reading fast, without closing it 1013', async () => {
    const conversation = await startConversation(server, auth('alice'), ['bob']);
    const [alice, bob] = [await open('alice'), await open('bob')];
    const nonces = Array.from({ length: 80 }, (_, i) => `big-${i}`);
    sendTogether(
      alice,
      nonces.map((nonce) => ({ type: 'message', session_id: conversation, content: nonce.padEnd(15_000, '.'), nonce })),
    );
    const acks = await alice.waitForCount((frame) => frame.type === 'ack' || frame.type === 'error', nonces.length, { timeoutMs: WAIT_MS * 4 });
    expect(acks.map((frame) => frame.type)).to.deep.equal(nonces.map(() => 'ack'));
    const delivered = await bob.waitForCount((frame) => frame.type === 'message', nonces.length, { timeoutMs: WAIT_MS * 4 });
    expect(delivered.map((frame) => (frame.message as Message).content.replace(/\.+$/, ''))).to.deep.equal(nonces);
    await bob.expectServed();
  });

  // PostgreSQL undoes a transaction caught in a deadlock (40P01); a trigger raises that code for one sender's post.
  if (database === 'postgres') {
    it("stores the other senders' posts of a batch that keeps deadlocking, failing only the posts of the sender it comes from", async () => {
      const { db, messages, tenantId } = server.tessera.services;
      await db.raw(`CREATE FUNCTION deadlock_on() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.content = 'deadlocks' THEN RAISE EXCEPTION 'deadlock test' USING ERRCODE = '40P01'; END IF; RETURN NEW; END $$`);
      await db.raw('CREATE TRIGGER deadlock_on BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION deadlock_on()');
      const conversation = await startConversation(server, auth('alice'), ['bob']);
      const senderOf = async (username: string) => ({ id: (await server.request.get('/me').set(auth(username))).body.id as string, name: username, role: 'user' as const, member: true });
      const [alice, bob] = [await senderOf('alice'), await senderOf('bob')];
      // Posted in one turn: one batch.
      const [failed, stored] = await Promise.allSettled([
        messages.post({ tenantId, sessionId: conversation, sender: alice, content: 'deadlocks', type: 'text' }),
        messages.post({ tenantId, sessionId: conversation, sender: bob, content: 'innocent', type: 'text' }),
      ]);
      expect(failed.status).to.equal('rejected');
      expect(stored.status, JSON.stringify(stored)).to.equal('fulfilled');
      expect((await history('bob', conversation)).map((message) => [message.sender, message.content])).to.deep.equal([['bob', 'innocent']]);
    });
  }

  it('acks messages already committed when telling of them fails afterwards (the bus throws): an error would have them posted twice', async () => {
    const conversation = await startConversation(server, auth('alice'), ['bob']);
    const alice = await open('alice');
    const { bus } = server.tessera.services;
    const publish = bus.publish.bind(bus);
    bus.publish = () => {
      throw new Error('the bus is broken');
    };
    try {
      sendTogether(alice, ['told-1', 'told-2'].map((nonce) => ({ type: 'message', session_id: conversation, content: nonce, nonce })));
      const answers = await alice.waitForCount((frame) => frame.type === 'ack' || frame.type === 'error', 2);
      expect(answers.map((frame) => [frame.type, frame.nonce])).to.deep.equal([['ack', 'told-1'], ['ack', 'told-2']]);
      const rest = await server.request.post(`/messages/${conversation}`).set(auth('alice')).send({ content: 'told-3' });
      expect(rest.status, JSON.stringify(rest.body)).to.equal(201);
    } finally {
      bus.publish = publish;
    }
    expect((await history('alice', conversation)).map((message) => message.content)).to.deep.equal(['told-1', 'told-2', 'told-3']);
    await alice.expectServed();
  });

  it("refuses a flooding socket's messages past the bound with rate_limited frames, stores exactly the acked ones, and still acks another conversation's", async () => {
    const flooded = await startConversation(server, auth('carol'), []);
    const quiet = await startConversation(server, auth('dave'), ['alice']);
    const [carol, dave] = [await open('carol'), await open('dave')];
    const nonces = Array.from({ length: FLOOD }, (_, i) => `flood-${i}`);
    sendTogether(
      carol,
      nonces.map((nonce) => ({ type: 'message', session_id: flooded, content: nonce, nonce })),
    );
    dave.send({ type: 'message', session_id: quiet, content: 'still heard', nonce: 'quiet' });
    expect((await dave.waitFor(answerTo('quiet'))).type).to.equal('ack');

    const answers = await carol.waitForCount((frame) => frame.type === 'ack' || frame.type === 'error', FLOOD, { timeoutMs: WAIT_MS * 10 });
    const refused = answers.filter((frame) => frame.type === 'error');
    expect(refused, 'some messages refused').to.not.be.empty;
    for (const frame of refused) expect(frame.code).to.equal('rate_limited');
    const acked = answers.filter((frame) => frame.type === 'ack').map((frame) => frame.nonce);
    expect(acked.length, 'at least the bound acked').to.be.at.least(MAX_UNACKED_MESSAGES);
    const stored = await history('carol', flooded);
    expect(stored.map((message) => message.content)).to.deep.equal(acked);
    expect(stored.map((message) => message.seq)).to.deep.equal(acked.map((_, i) => i + 1));
    await carol.expectServed();
  });
});

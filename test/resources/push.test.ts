import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { challengedScope, clientAuth, postMessage, startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

onEachDatabase('service push (SPEC §5.3)', (database) => {
  let server: TestServer;
  let alice: Auth;
  let service: { clientId: string; auth: Auth };
  let sessionId: string;
  before(async () => {
    server = await startServer({}, database);
    alice = (await userAuth(server, 'alice')).auth;
    service = await clientAuth(server, 'push');
    sessionId = await startConversation(server, alice, [], 'Ask the bot');
    expect((await postMessage(server, alice, sessionId, { content: 'What is the weather?' })).status).to.equal(201);
  });
  after(() => server.close());

  const push = (auth: Auth, username: string, body: Record<string, unknown>) => server.request.post(`/push/${username}`).set(auth).send(body);

  describe('posting into a conversation', () => {
    it('lets a push client post into an existing conversation as the assistant, which members then read', async () => {
      const res = await postMessage(server, service.auth, sessionId, { content: 'Sunny, 21 °C' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ session_id: sessionId, seq: 2, role: 'assistant', sender: service.clientId, type: 'text', content: 'Sunny, 21 °C' });
      const read = await server.request.get(`/messages/${sessionId}`).set(alice);
      expect(read.body.map((m: { role: string }) => m.role)).to.deep.equal(['user', 'assistant']);
    });

    it('honours a push client nonce like a user one', async () => {
      const first = await postMessage(server, service.auth, sessionId, { content: 'Rain later', nonce: 'bot-1' });
      const again = await postMessage(server, service.auth, sessionId, { content: 'Rain later', nonce: 'bot-1' });
      expect([first.status, again.status]).to.deep.equal([201, 200]);
      expect(again.body).to.deep.equal(first.body);
    });

    it('answers 404 to a push client posting to a conversation that does not exist, and starts none', async () => {
      expectError(await postMessage(server, service.auth, 'nobody-started-this', { content: 'hello?' }), 404, 'not_found');
      expect(await server.tessera.services.db('conversations').where({ id: 'nobody-started-this' })).to.deep.equal([]);
      expect(await server.tessera.services.db('messages').where({ conversation_id: 'nobody-started-this' })).to.deep.equal([]);
    });

    it('refuses a client token without push with 403 insufficient_scope', async () => {
      const other = await clientAuth(server, 'push messages:write', 'messages:write');
      const res = await postMessage(server, other.auth, sessionId, { content: 'not allowed' });
      expectError(res, 403, 'insufficient_scope');
      expect(challengedScope(res)).to.equal('push');
    });

    it("refuses a push client on a user's routes with 403", async () => {
      for (const path of [`/messages/${sessionId}`, '/conversations', '/tasks']) {
        const res = await server.request.get(path).set(service.auth);
        expect(res.status, path).to.equal(403);
        expect(res.body.error, path).to.be.a('string');
      }
    });
  });

  describe('POST /push/:username', () => {
    it('accepts an event for a user with 202 and how many sockets it reached', async () => {
      const res = await push(service.auth, 'alice', { type: 'reminder', data: { text: 'stand up', at: '2026-03-10T10:00:00Z' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.deep.equal({ delivered: 0 });
    });

    it('finds the user case-insensitively and accepts any JSON data', async () => {
      for (const data of [null, 42, 'text', [1, 2]]) {
        const res = await push(service.auth, 'ALICE', { type: 'ping', data });
        expect(res.status, JSON.stringify(data)).to.equal(202);
      }
    });

    it('stores nothing', async () => {
      const count = async () => Number((await server.tessera.services.db('messages').count({ n: '*' }))[0]!.n);
      const before = await count();
      expect((await push(service.auth, 'alice', { type: 'note', data: 'transient' })).status).to.equal(202);
      expect(await count()).to.equal(before);
    });

    it('answers 404 for an unknown username', async () => {
      expectError(await push(service.auth, 'nobody', { type: 'reminder', data: {} }), 404, 'not_found');
    });

    it('refuses a user token with 403', async () => {
      const res = await push(alice, 'alice', { type: 'reminder', data: {} });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.be.oneOf(['forbidden', 'insufficient_scope']);
    });

    it('refuses a client token without push with 403 insufficient_scope', async () => {
      const other = await clientAuth(server, 'push messages:write', 'messages:write');
      const res = await push(other.auth, 'alice', { type: 'reminder', data: {} });
      expectError(res, 403, 'insufficient_scope');
      expect(challengedScope(res)).to.equal('push');
    });

    it('refuses a missing or malformed type and unknown fields with 400', async () => {
      for (const body of [{ data: {} }, { type: 'has spaces', data: {} }, { type: 'x', data: {}, to: 'bob' }]) {
        expectError(await push(service.auth, 'alice', body), 400, 'validation_failed');
      }
    });
  });
});

import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { clientAuth, startConversation, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, newUser, type Tokens } from '../support/users';
import { closeAll, connectAs, registrySize, type TestSocket } from './support';

onEachDatabase('gateway push and presence (SPEC §5.3, §6)', (database) => {
  let server: TestServer;
  let service: Auth;
  let conversation: string;
  const tokens: Record<string, Tokens> = {};
  const auth = (username: string): Auth => bearer(tokens[username]!.access_token);
  const opened: TestSocket[] = [];

  before(async () => {
    server = await startServer({}, database);
    for (const username of ['alice', 'bob', 'carol']) tokens[username] = (await newUser(server, username)).tokens;
    conversation = await startConversation(server, auth('alice'), ['bob']);
    service = (await clientAuth(server, 'push')).auth;
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(() => server.close());

  async function open(username: string): Promise<TestSocket> {
    const socket = await connectAs(server, username, tokens[username]!.access_token);
    opened.push(socket);
    return socket;
  }

  const push = (username: string, body: Record<string, unknown>, as = service) => server.request.post(`/push/${username}`).set(as).send(body);
  const presence = (username: string, as: string) => server.request.get(`/presence/${username}`).set(auth(as));

  describe('POST /push/:username', () => {
    it("delivers {type: 'push', event, data} to each of the user's sockets and answers 202 with how many", async () => {
      const [first, second, bob] = [await open('alice'), await open('alice'), await open('bob')];
      const data = { title: 'Standup', at: '09:30', tags: ['daily'] };
      const res = await push('alice', { type: 'reminder', data });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.deep.equal({ delivered: 2 });
      for (const socket of [first, second]) expect(await socket.next('push')).to.deep.equal({ type: 'push', event: 'reminder', data });
      await bob.expectServed();
      expect(bob.ofType('push')).to.be.empty;
    });

    it("delivers a push client's message into a conversation to the members' sockets, with role assistant", async () => {
      const [alice, bob] = [await open('alice'), await open('bob')];
      const res = await server.request.post(`/messages/${conversation}`).set(service).send({ content: 'Reminder: standup' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.role).to.equal('assistant');
      for (const socket of [alice, bob]) expect((await socket.next('message')).message).to.deep.equal(res.body);
    });
  });

  describe('GET /presence/:username', () => {
    it('reports how many sockets a user who shares a conversation holds', async () => {
      expect((await presence('bob', 'alice')).body).to.deep.equal({ online: false, connections: 0 });
      const sockets = [await open('bob'), await open('bob')];
      const res = await presence('bob', 'alice');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ online: true, connections: 2 });
      await closeAll(server, sockets);
      expect((await presence('bob', 'alice')).body).to.deep.equal({ online: false, connections: 0 });
    });

    it('reports the caller itself', async () => {
      await open('carol');
      await registrySize(server, 1);
      expect((await presence('carol', 'carol')).body).to.deep.equal({ online: true, connections: 1 });
    });

    it('answers 404 for a user who shares no conversation with the caller, online or not', async () => {
      await open('carol');
      expectError(await presence('carol', 'alice'), 404, 'not_found');
      expectError(await presence('alice', 'carol'), 404, 'not_found');
      expectError(await presence('nobody', 'alice'), 404, 'not_found');
    });

    it('needs a token with messages:read', async () => {
      expectError(await server.request.get('/presence/bob'), 401, 'unauthorized');
    });
  });
});

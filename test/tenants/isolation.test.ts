import { expect } from 'chai';
import { attemptUpgrade, closeAll, connectAs, expectRefused, socketPath, type TestSocket } from '../gateway/support';
import { expectError, expectInvalidToken } from '../support/expectations';
import { basicAuth, createClient, secretOf, sessionIdOf } from '../support/oauth';
import { postMessage, startConversation, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, refresh, signup, type Tokens } from '../support/users';
import { ADMIN, addTenant, as, asTenant, tenantAdmin } from './support';

interface Operation {
  security?: Array<Record<string, string[]>>;
}
type Paths = Record<string, Record<string, Operation>>;

const ACME_PASSWORD = 'alice of acme 123';

/** Every operation of a tenant's OpenAPI document that takes a bearer token, as [method, path under the tenant]. */
async function bearerOperations(tenant: TestServer): Promise<Array<[string, string]>> {
  const { body } = await tenant.request.get('/openapi.json').expect(200);
  return Object.entries((body as { paths: Paths }).paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, operation]) => (operation.security ?? []).some((requirement) => 'bearer' in requirement))
      .map(([method]): [string, string] => [method, path.replace(/\{\w+\}/g, 'x')]),
  );
}

onEachDatabase('tenants: isolation (SPEC §8)', (database) => {
  let server: TestServer;
  let acme: TestServer;
  let rootAdmin: Tokens;
  let acmeAdmin: Tokens;
  let rootAlice: Tokens;
  let acmeAlice: Tokens;

  before(async () => {
    // No reuse grace: a refresh token used once anywhere would fail its next use.
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off', REFRESH_REUSE_GRACE: '0' }, database);
    await addTenant(server, 'acme');
    acme = await asTenant(server, 'acme');
    rootAdmin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
    acmeAdmin = await tenantAdmin(acme, 'boss');
    // The same username in both tenants: two different people.
    rootAlice = (await newUser(server, 'alice')).tokens;
    await signup(acme, 'alice', ACME_PASSWORD);
    acmeAlice = await login(acme, 'alice', ACME_PASSWORD);
  });
  after(() => server.close());

  describe('tokens', () => {
    it("refuses a token of acme on every bearer route of the built-in tenant, and the built-in tenant's on every route of acme (401)", async () => {
      const crossings: Array<[TestServer, Tokens]> = [
        [server, acmeAdmin],
        [acme, rootAdmin],
      ];
      for (const [tenant, foreign] of crossings) {
        const operations = await bearerOperations(tenant);
        expect(operations.length, 'bearer routes found (control)').to.be.above(20);
        for (const [method, path] of operations) {
          const res = await tenant.request[method as 'get'](path).set(bearer(foreign.access_token));
          expect(res.status, `${method.toUpperCase()} ${tenant.url}${path}`).to.equal(401);
          expectInvalidToken(res);
        }
      }
    });

    it('names each tenant as the issuer and audience of its tokens', async () => {
      const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iss: string; aud: string };
      const root = server.tessera.services.config.issuer;
      expect(claims(rootAlice.access_token)).to.include({ iss: root, aud: root });
      expect(claims(acmeAlice.access_token)).to.include({ iss: `${root}/t/acme`, aud: `${root}/t/acme` });
    });

    it("keeps two users of one name apart: each alice is herself, and each one's password logs in to her own tenant only", async () => {
      const [mine, theirs] = await Promise.all([as(server, rootAlice).get('/me'), as(acme, acmeAlice).get('/me')]);
      expect(mine.body.username).to.equal('alice');
      expect(theirs.body.username).to.equal('alice');
      expect(mine.body.id).to.not.equal(theirs.body.id);
      const passwordGrant = (tenant: TestServer, password: string) =>
        tenant.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password });
      expectError(await passwordGrant(server, ACME_PASSWORD), 400, 'invalid_grant');
      expectError(await passwordGrant(acme, PASSWORD), 400, 'invalid_grant');
    });

    it("refuses acme's refresh token at the built-in tenant's /token without using it up, and its /revoke leaves the session alone", async () => {
      const tokens = await login(acme, 'boss');
      expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
      expect((await server.request.post('/revoke').type('form').send({ token: tokens.refresh_token })).status).to.equal(200);
      expect((await server.request.post('/revoke').type('form').send({ token: tokens.access_token })).status).to.equal(200);
      const rotated = await refresh(acme, tokens.refresh_token);
      expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
      expect((await as(acme, rotated.body as Tokens).get('/me')).status).to.equal(200);
    });

    it("refuses acme's client credentials at the built-in tenant's token, revocation and introspection endpoints (invalid_client)", async () => {
      const client = await createClient(acme, { scope: 'push' });
      expect((await acme.request.post('/token').type('form').set(basicAuth(client.id, secretOf(client))).send({ grant_type: 'client_credentials' })).status).to.equal(200);
      for (const [path, body] of [['/token', { grant_type: 'client_credentials' }], ['/revoke', { token: 'x' }], ['/introspect', { token: 'x' }]] as const) {
        expectError(await server.request.post(path).type('form').set(basicAuth(client.id, secretOf(client))).send(body), 401, 'invalid_client');
      }
    });

    it("tells a client of the built-in tenant that acme's tokens are inactive (introspection)", async () => {
      const client = await createClient(server, { scope: 'push' });
      for (const token of [acmeAlice.access_token, acmeAlice.refresh_token]) {
        const res = await server.request.post('/introspect').type('form').set(basicAuth(client.id, secretOf(client))).send({ token });
        expect(res.body).to.deep.equal({ active: false });
      }
    });
  });

  describe('ids', () => {
    it("answers 404 in the built-in tenant to the ids of acme's tasks, events, conversations, sessions, users and clients", async () => {
      const acmeAuth = bearer(acmeAlice.access_token);
      const task = (await acme.request.post('/tasks').set(acmeAuth).send({ title: 'acme task' }).expect(201)).body as { id: string };
      const event = (
        await acme.request.post('/calendar/events').set(acmeAuth).send({ title: 'acme event', start_time: '2026-03-10T10:00:00Z', end_time: '2026-03-10T11:00:00Z' }).expect(201)
      ).body as { id: string };
      const conversation = await startConversation(acme, acmeAuth, [], 'acme talk');
      const client = await createClient(acme, { scope: 'push' });
      const acmeAliceId = ((await as(acme, acmeAlice).get('/me')).body as { id: string }).id;
      const rootAuth = bearer(rootAlice.access_token);
      const calls: Array<[Auth, 'get' | 'patch' | 'delete', string, object?]> = [
        [rootAuth, 'get', `/tasks/${task.id}`],
        [rootAuth, 'patch', `/tasks/${task.id}`, { title: 'taken' }],
        [rootAuth, 'delete', `/tasks/${task.id}`],
        [rootAuth, 'get', `/calendar/events/${event.id}`],
        [rootAuth, 'delete', `/calendar/events/${event.id}`],
        [rootAuth, 'get', `/messages/${conversation}`],
        [rootAuth, 'delete', `/sessions/${sessionIdOf(acmeAlice.access_token)}`],
        [bearer(rootAdmin.access_token), 'patch', `/admin/users/${acmeAliceId}`, { disabled: true }],
        [bearer(rootAdmin.access_token), 'delete', `/admin/users/${acmeAliceId}/sessions`],
        [bearer(rootAdmin.access_token), 'delete', `/admin/clients/${client.id}`],
      ];
      for (const [auth, method, path, body] of calls) {
        const req = server.request[method](path).set(auth);
        expectError(await (body ? req.send(body) : req), 404, 'not_found');
      }
      expect((await server.request.get('/tasks').set(rootAuth)).body).to.deep.equal([]);
      expect(((await server.request.get('/admin/users').set(bearer(rootAdmin.access_token))).body as Array<{ id: string }>).map((u) => u.id)).to.not.include(acmeAliceId);
      // All of it is still there, untouched, in acme.
      expect((await acme.request.get(`/tasks/${task.id}`).set(acmeAuth)).body).to.include({ title: 'acme task' });
      expect((await as(acme, acmeAlice).get('/me')).status).to.equal(200);
    });

    it("answers 404 in acme to the ids of the built-in tenant's objects", async () => {
      const task = (await server.request.post('/tasks').set(bearer(rootAlice.access_token)).send({ title: 'root task' }).expect(201)).body as { id: string };
      const rootAliceId = ((await as(server, rootAlice).get('/me')).body as { id: string }).id;
      expectError(await as(acme, acmeAlice).get(`/tasks/${task.id}`), 404, 'not_found');
      expectError(await as(acme, acmeAdmin).patch(`/admin/users/${rootAliceId}`, { disabled: true }), 404, 'not_found');
      expectError(await as(acme, acmeAlice).delete(`/sessions/${sessionIdOf(rootAlice.access_token)}`), 404, 'not_found');
    });

    it('keeps one conversation id apart in two tenants: same id, two conversations', async () => {
      const [root, other] = [bearer(rootAlice.access_token), bearer(acmeAlice.access_token)];
      expect((await postMessage(server, root, 'shared-name', { content: 'at the root' })).status).to.equal(201);
      expect((await postMessage(acme, other, 'shared-name', { content: 'in acme' })).status).to.equal(201);
      const [rootMessages, acmeMessages] = await Promise.all([server.request.get('/messages/shared-name').set(root), acme.request.get('/messages/shared-name').set(other)]);
      expect((rootMessages.body as Array<{ content: string; seq: number }>).map((m) => [m.seq, m.content])).to.deep.equal([[1, 'at the root']]);
      expect((acmeMessages.body as Array<{ content: string; seq: number }>).map((m) => [m.seq, m.content])).to.deep.equal([[1, 'in acme']]);
    });
  });

  describe('sockets', () => {
    const opened: TestSocket[] = [];
    afterEach(() => closeAll(server, opened.splice(0)));

    it("refuses acme's token on the built-in tenant's socket and the built-in tenant's on acme's (401)", async () => {
      await expectRefused(server, socketPath('alice', acmeAlice.access_token), 401, 'invalid_token');
      await expectRefused(acme, socketPath('alice', rootAlice.access_token), 401, 'invalid_token');
    });

    it('refuses a ticket issued by acme on the built-in tenant\'s socket (401), and opens acme\'s with one', async () => {
      const ticket = async () => ((await as(acme, acmeAlice).post('/ws/ticket').expect(201)).body as { ticket: string }).ticket;
      await expectRefused(server, `/ws/alice?ticket=${await ticket()}`, 401, 'invalid_token');
      expectInvalidToken(await server.request.post('/ws/ticket').set(bearer(acmeAlice.access_token)));
      const { socket } = await attemptUpgrade(acme, `/ws/alice?ticket=${await ticket()}`);
      expect(socket, 'a socket opened with an acme ticket under /t/acme').to.not.equal(undefined);
      opened.push(socket!);
    });

    it('delivers a message to the members in its own tenant only', async () => {
      const rootSocket = await connectAs(server, 'alice', rootAlice.access_token);
      const acmeSocket = await connectAs(acme, 'alice', acmeAlice.access_token);
      opened.push(rootSocket, acmeSocket);
      acmeSocket.send({ type: 'message', session_id: 'shared-name', content: 'acme only', nonce: 'n1' });
      await acmeSocket.next('ack');
      expect((await postMessage(acme, bearer(acmeAlice.access_token), 'shared-name', { content: 'acme again' })).status).to.equal(201);
      expect((await acmeSocket.next('message')).message).to.include({ content: 'acme again' });
      await rootSocket.expectServed();
      expect(rootSocket.ofType('message')).to.deep.equal([]);
    });

    it("closes acme's sockets only when acme's sessions are revoked", async () => {
      const tokens = await login(acme, 'alice', ACME_PASSWORD);
      const rootSocket = await connectAs(server, 'alice', rootAlice.access_token);
      const acmeSocket = await connectAs(acme, 'alice', tokens.access_token);
      opened.push(rootSocket, acmeSocket);
      await as(acme, tokens).post('/logout', { all: true }).expect(204);
      expect((await acmeSocket.waitForClose()).code).to.equal(4003);
      await rootSocket.expectServed();
      expect((await as(server, rootAlice).get('/me')).status).to.equal(200);
      acmeAlice = await login(acme, 'alice', ACME_PASSWORD);
    });
  });

  describe('keys', () => {
    it("rotates acme's signing key without touching the built-in tenant's keys or tokens", async () => {
      const kids = async (tenant: TestServer) => ((await tenant.request.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      const [rootBefore, acmeBefore] = [await kids(server), await kids(acme)];
      expect(rootBefore).to.not.include.members(acmeBefore);
      const rotated = await as(acme, acmeAdmin).post('/admin/keys/rotate').expect(201);
      expect(await kids(acme)).to.include(rotated.body.kid as string);
      expect(await kids(server)).to.deep.equal(rootBefore);
      expect((await as(server, rootAlice).get('/me')).status).to.equal(200);
      expect((await as(acme, await login(acme, 'boss', PASSWORD, { scope: 'admin' })).get('/admin/users')).status).to.equal(200);
    });
  });
});

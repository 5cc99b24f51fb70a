import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { closeAll, connectAs, expectRefused, socketPath } from '../gateway/support';
import { expectError, expectInvalidToken, RFC3339_UTC } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { call, upgrade } from '../security/support';
import { bearer, login, newUser, PASSWORD, type Tokens } from '../support/users';
import { ADMIN, as, asTenant, ISSUER, tenantAdmin } from './support';

// Every table with a tenant_id column: a removed tenant leaves no row in any of them.
const TENANT_TABLES = ['users', 'clients', 'sessions', 'signing_keys', 'tasks', 'calendar_events', 'conversations', 'conversation_members', 'messages'];

onEachDatabase('tenants: admin API (SPEC §8)', (database) => {
  let server: TestServer;
  let operator: Tokens;

  before(async () => {
    server = await startServer({ ...ADMIN, ISSUER, SIGNUP: 'closed', RATE_LIMITS: 'off' }, database);
    operator = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
  });
  after(() => server.close());

  const signupIn = (tenant: TestServer, username: string) => tenant.request.post('/signup').send({ username, password: PASSWORD });

  describe('operators (admins of the built-in tenant)', () => {
    it('adds a tenant: 201 with Location, its issuer under /t/<id>, and sign-up as asked', async () => {
      const res = await as(server, operator).post('/admin/tenants', { id: 'acme', name: 'Acme Corp', signup: 'open' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.headers.location).to.equal('/admin/tenants/acme');
      expect(res.body).to.include({ id: 'acme', name: 'Acme Corp', issuer: `${ISSUER}/t/acme`, signup: 'open' });
      expect(res.body.created_at).to.match(RFC3339_UTC);
      expect((await as(server, operator).get('/admin/tenants/acme')).body).to.deep.equal(res.body);
    });

    it('lists every tenant, the built-in one first, with the sign-up each one has', async () => {
      const res = await as(server, operator).get('/admin/tenants');
      expect(res.status).to.equal(200);
      const tenants = res.body as Array<{ id: string; issuer: string; signup: string }>;
      expect(tenants[0]).to.include({ id: 'default', issuer: ISSUER, signup: 'closed' });
      expect(tenants.map((tenant) => tenant.id)).to.include('acme');
    });

    it('refuses a taken id (409), an id no tenant can have (400), and removing the built-in tenant (409) or an unknown one (404)', async () => {
      expectError(await as(server, operator).post('/admin/tenants', { id: 'acme' }), 409, 'conflict');
      expectError(await as(server, operator).post('/admin/tenants', { id: 'default' }), 409, 'conflict');
      expectError(await as(server, operator).post('/admin/tenants', { id: 'Not Valid' }), 400, 'validation_failed');
      expectError(await as(server, operator).post('/admin/tenants', { id: 'beta', extra: true }), 400, 'validation_failed');
      expectError(await as(server, operator).delete('/admin/tenants/default'), 409, 'conflict');
      expectError(await as(server, operator).delete('/admin/tenants/nope'), 404, 'not_found');
      expectError(await as(server, operator).patch('/admin/tenants/nope', { signup: 'open' }), 404, 'not_found');
    });

    it('opens and closes sign-up per tenant: a tenant without its own setting follows SIGNUP', async () => {
      await as(server, operator).post('/admin/tenants', { id: 'follows' }).expect(201);
      const [acme, follows] = [await asTenant(server, 'acme'), await asTenant(server, 'follows')];
      expect((await signupIn(acme, 'first')).status).to.equal(201);
      expectError(await signupIn(follows, 'first'), 403, 'forbidden');
      expectError(await signupIn(server, 'first'), 403, 'forbidden');
      expect((await as(server, operator).patch('/admin/tenants/follows', { signup: 'open' })).body).to.include({ signup: 'open' });
      expect((await signupIn(follows, 'first')).status).to.equal(201);
      expectError(await signupIn(server, 'second'), 403, 'forbidden');
    });
  });

  describe('tenant admins', () => {
    let acme: TestServer;
    let boss: Tokens;
    before(async () => {
      acme = await asTenant(server, 'acme');
      boss = await tenantAdmin(acme, 'boss');
    });

    it("reads and changes their own tenant's settings, and closing sign-up closes it there only", async () => {
      expect((await as(acme, boss).get('/admin/tenant')).body).to.include({ id: 'acme', issuer: `${ISSUER}/t/acme`, signup: 'open' });
      const closed = await as(acme, boss).patch('/admin/tenant', { signup: 'closed', name: 'Acme' });
      expect(closed.body).to.include({ id: 'acme', name: 'Acme', signup: 'closed' });
      expectError(await signupIn(acme, 'latecomer'), 403, 'forbidden');
      expect((await signupIn(await asTenant(server, 'follows'), 'latecomer')).status).to.equal(201);
      await as(acme, boss).patch('/admin/tenant', { signup: 'open' }).expect(200);
      expect((await signupIn(acme, 'latecomer')).status).to.equal(201);
    });

    it('manage their own tenant only: its users and clients, not the tenants, and nothing of the built-in tenant', async () => {
      const users = (await as(acme, boss).get('/admin/users')).body as Array<{ username: string }>;
      expect(users.map((user) => user.username)).to.include('boss').and.not.include('root');
      expect((await as(acme, boss).post('/admin/clients', { name: 'acme bot', scope: 'push' })).status).to.equal(201);
      expectError(await as(acme, boss).get('/admin/tenants'), 404, 'not_found');
      expectError(await as(acme, boss).delete('/admin/tenants/acme'), 404, 'not_found');
      for (const path of ['/admin/users', '/admin/clients', '/admin/tenant', '/admin/tenants']) expectInvalidToken(await as(server, boss).get(path));
      expectInvalidToken(await as(acme, operator).get('/admin/users'));
    });

    it('never reach the tenants API however its path is spelled (sent as is: dot-segments, encoded slashes, case, a trailing slash)', async () => {
      const spellings = ['/t/acme/../admin/tenants', '/t/acme/%2e%2e/admin/tenants', '/t/acme/..%2fadmin/tenants', '/t/acme%2f..%2fadmin/tenants', '/t/ACME/admin/tenants', '/t/acme//admin/tenants', '/t/acme/admin/tenants/', '/T/acme/admin/tenants'];
      for (const path of spellings) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          const answer = await call(server, { method, path: method === 'DELETE' ? `${path}/acme` : path, headers: { ...bearer(boss.access_token), 'Content-Type': 'application/json' }, body: method === 'POST' ? JSON.stringify({ id: 'sneaky' }) : undefined });
          expect(answer.status, `${method} ${path}`).to.be.oneOf([401, 404]);
        }
      }
      expect((await as(server, operator).get('/admin/tenants')).body.map((tenant: { id: string }) => tenant.id)).to.not.include('sneaky');
    });
  });

  describe('users of the built-in tenant who are not admins', () => {
    it('cannot read or change tenants (403), nor get the admin scope', async () => {
      const { users, tenantId } = server.tessera.services;
      await users.create({ tenantId, username: 'plain', password: PASSWORD });
      const plain = await login(server, 'plain');
      expectError(await as(server, plain).get('/admin/tenants'), 403, 'insufficient_scope');
      expectError(await as(server, plain).post('/admin/tenants', { id: 'sneaky' }), 403, 'insufficient_scope');
      expectError(await as(server, plain).delete('/admin/tenants/acme'), 403, 'insufficient_scope');
      expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'plain', password: PASSWORD, scope: 'admin' }), 400, 'invalid_scope');
    });
  });

  describe('removal', () => {
    it("removes a tenant with every row it owns: its paths 404, its sockets close with 4003, the built-in tenant's go on", async () => {
      await as(server, operator).post('/admin/tenants', { id: 'doomed', signup: 'open' }).expect(201);
      const doomed = await asTenant(server, 'doomed');
      const { tokens } = await newUser(doomed, 'dora');
      await doomed.request.post('/messages/chat').set(bearer(tokens.access_token)).send({ content: 'hello' }).expect(201);
      await doomed.request.post('/tasks').set(bearer(tokens.access_token)).send({ title: 'doomed' }).expect(201);
      const socket = await connectAs(doomed, 'dora', tokens.access_token);
      const { users, tenantId } = server.tessera.services;
      await users.create({ tenantId, username: 'stays', password: PASSWORD });
      const bystander = await connectAs(server, 'stays', (await login(server, 'stays')).access_token);

      await as(server, operator).delete('/admin/tenants/doomed').expect(204);

      expect((await socket.waitForClose()).code).to.equal(4003);
      expectError(await doomed.request.get('/me').set(bearer(tokens.access_token)), 404, 'not_found');
      expectError(await doomed.request.post('/token').type('form').send({ grant_type: 'password', username: 'dora', password: PASSWORD }), 404, 'not_found');
      await expectRefused(doomed, socketPath('dora', tokens.access_token), 404, 'not_found');
      const { db } = server.tessera.services;
      for (const table of TENANT_TABLES) expect((await db(table).where({ tenant_id: 'doomed' })).length, table).to.equal(0);
      expect(await db('tenants').where({ id: 'doomed' }).first()).to.equal(undefined);
      expect((await as(server, operator).get('/admin/users')).status).to.equal(200);
      await bystander.expectServed();
      await closeAll(server, [bystander]);
    });

    it('gives a tenant added again under a removed id nothing of the old one: no users, new keys, old tokens refused', async () => {
      await as(server, operator).post('/admin/tenants', { id: 'phoenix', signup: 'open' }).expect(201);
      const before = await asTenant(server, 'phoenix');
      const old = (await newUser(before, 'ash')).tokens;
      const oldKeys = (await before.request.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> };
      await as(server, operator).delete('/admin/tenants/phoenix').expect(204);
      await as(server, operator).post('/admin/tenants', { id: 'phoenix', signup: 'open' }).expect(201);
      const again = await asTenant(server, 'phoenix');
      const newKeys = (await again.request.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> };
      expect(newKeys.keys.map((key) => key.kid)).to.not.include.members(oldKeys.keys.map((key) => key.kid));
      expectInvalidToken(await as(again, old).get('/me'));
      expectError(await again.request.post('/token').type('form').send({ grant_type: 'password', username: 'ash', password: PASSWORD }), 400, 'invalid_grant');
    });
  });
});

describe('tenants with HS256 (JWT_ALG=HS256)', () => {
  const JWT_SECRET = 'an HS256 test secret of thirty-two bytes or more';
  let server: TestServer;
  let operator: Tokens;

  before(async () => {
    server = await startServer({ ...ADMIN, JWT_ALG: 'HS256', JWT_SECRET, RATE_LIMITS: 'off' });
    operator = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
  });
  after(() => server.close());

  it("signs a tenant's tokens with a key of its own: JWT_SECRET signs the built-in tenant's only", async () => {
    await as(server, operator).post('/admin/tenants', { id: 'acme', signup: 'open' }).expect(201);
    const { tokens } = await newUser(await asTenant(server, 'acme'), 'alice');
    expect(() => jwt.verify(tokens.access_token, JWT_SECRET)).to.throw(jwt.JsonWebTokenError, /invalid signature/);
    expect(jwt.verify(operator.access_token, JWT_SECRET)).to.include({ username: 'root' });
  });

  it('refuses the tokens of a removed tenant in a tenant added again under its id, on REST and on the socket (401)', async () => {
    await as(server, operator).post('/admin/tenants', { id: 'phoenix', signup: 'open' }).expect(201);
    const old = (await newUser(await asTenant(server, 'phoenix'), 'ash')).tokens;
    await as(server, operator).delete('/admin/tenants/phoenix').expect(204);
    await as(server, operator).post('/admin/tenants', { id: 'phoenix', signup: 'open' }).expect(201);
    const again = await asTenant(server, 'phoenix');
    await newUser(again, 'ash');
    for (const path of ['/me', '/tasks', '/sessions', '/conversations']) expectInvalidToken(await as(again, old).get(path));
    expectInvalidToken(await as(again, old).post('/tasks', { title: 'left behind' }));
    expect((await upgrade(server, `/t/phoenix/ws/ash?token=${encodeURIComponent(old.access_token)}`)).status).to.equal(401);
  });
});

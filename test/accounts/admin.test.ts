import { expect } from 'chai';
import { expectError, expectInvalidToken, RFC3339_UTC } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, refresh, type Tokens } from '../support/users';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };

onEachDatabase('admin API', (database) => {
  let server: TestServer;
  let admin: Tokens;
  const as = (tokens: Tokens) => ({
    get: (path: string) => server.request.get(path).set(bearer(tokens.access_token)),
    post: (path: string, body: object) => server.request.post(path).set(bearer(tokens.access_token)).send(body),
    patch: (path: string, body: object) => server.request.patch(path).set(bearer(tokens.access_token)).send(body),
    delete: (path: string) => server.request.delete(path).set(bearer(tokens.access_token)),
  });
  const passwordGrant = (username: string, password = PASSWORD, scope?: string) =>
    server.request.post('/token').type('form').send({ grant_type: 'password', username, password, ...(scope ? { scope } : {}) });
  const clientGrant = (clientId: string, secret: string, scope?: string) =>
    server.request.post('/token').type('form').auth(clientId, secret).send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });

  before(async () => {
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off' }, database);
    admin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
  });
  after(() => server.close());

  describe('access', () => {
    it('creates the admin from ADMIN_USERNAME/ADMIN_PASSWORD on first start', async () => {
      const res = await as(admin).get('/me');
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ username: 'root' });
      expect(res.body.roles).to.deep.equal(['admin']);
    });

    it('refuses an admin token that was not granted scope=admin (403 insufficient_scope)', async () => {
      const plain = await login(server, 'root', ADMIN.ADMIN_PASSWORD);
      expect(plain.scope.split(' ')).not.to.include('admin');
      expectError(await as(plain).get('/admin/users'), 403, 'insufficient_scope');
    });

    it("refuses a normal user's token with insufficient_scope and says which scope is needed", async () => {
      const { tokens } = await newUser(server, 'norm');
      const res = await as(tokens).get('/admin/users');
      expectError(res, 403, 'insufficient_scope');
      expect(res.headers['www-authenticate']).to.match(/^Bearer realm="tessera", /).and.include('error="insufficient_scope"').and.include('scope="admin"');
    });

    it('answers 401 without a token', async () => {
      expectError(await server.request.get('/admin/users'), 401, 'unauthorized');
    });
  });

  describe('users', () => {
    it('lists users with their status and never their password hash', async () => {
      const { id } = await newUser(server, 'listed');
      const res = await as(admin).get('/admin/users').expect(200);
      const listed = (res.body as Array<Record<string, unknown>>).find((user) => user.id === id);
      expect(listed).to.include({ username: 'listed', disabled: false });
      expect(listed).to.include.all.keys('id', 'username', 'email', 'roles', 'created_at', 'disabled');
      expect(listed!.created_at).to.match(RFC3339_UTC);
      expect(res.text).not.to.match(/scrypt|password/i);
    });

    it('creates a user who can then log in, and refuses a taken name with 409', async () => {
      const res = await as(admin).post('/admin/users', { username: 'made', password: PASSWORD, email: 'made@example.com' });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ username: 'made', email: 'made@example.com', disabled: false });
      expect(res.body.roles).to.deep.equal([]);
      await login(server, 'made');
      expectError(await as(admin).post('/admin/users', { username: 'MADE', password: PASSWORD }), 409, 'conflict');
    });

    it('creates an admin when asked for the admin role', async () => {
      expect((await as(admin).post('/admin/users', { username: 'second', password: PASSWORD, roles: ['admin'] })).status).to.equal(201);
      const tokens = await login(server, 'second', PASSWORD, { scope: 'admin' });
      expect((await as(tokens).get('/admin/users')).status).to.equal(200);
    });

    it('refuses a new user with a bad body', async () => {
      expectError(await as(admin).post('/admin/users', { username: 'x', password: PASSWORD }), 400, 'validation_failed');
      expectError(await as(admin).post('/admin/users', { username: 'rolo', password: PASSWORD, roles: ['root'] }), 400, 'validation_failed');
    });

    it("disables a user: the user's tokens are refused at once and logging in fails", async () => {
      const { id, tokens } = await newUser(server, 'sleepy');
      const res = await as(admin).patch(`/admin/users/${id}`, { disabled: true });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id, disabled: true });
      expectInvalidToken(await as(tokens).get('/me'));
      expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
      expectError(await passwordGrant('sleepy'), 400, 'invalid_grant');
    });

    it('enables a disabled user again', async () => {
      const { id } = await newUser(server, 'awake');
      await as(admin).patch(`/admin/users/${id}`, { disabled: true }).expect(200);
      const res = await as(admin).patch(`/admin/users/${id}`, { disabled: false });
      expect(res.body).to.include({ disabled: false });
      const tokens = await login(server, 'awake');
      expect((await as(tokens).get('/me')).status).to.equal(200);
    });

    it('grants and withdraws the admin role', async () => {
      const { id } = await newUser(server, 'promoted');
      expectError(await passwordGrant('promoted', PASSWORD, 'admin'), 400, 'invalid_scope');
      const granted = await as(admin).patch(`/admin/users/${id}`, { roles: ['admin'] });
      expect(granted.body.roles).to.deep.equal(['admin']);
      const tokens = await login(server, 'promoted', PASSWORD, { scope: 'admin' });
      expect((await as(tokens).get('/admin/users')).status).to.equal(200);
      const withdrawn = await as(admin).patch(`/admin/users/${id}`, { roles: [] });
      expect(withdrawn.body.roles).to.deep.equal([]);
      expectError(await passwordGrant('promoted', PASSWORD, 'admin'), 400, 'invalid_scope');
    });

    it('shows the current roles on GET /me after each change, once the user signs in again', async () => {
      const { id, tokens } = await newUser(server, 'reshaped');
      expect((await as(tokens).get('/me')).body.roles).to.deep.equal([]);
      await as(admin).patch(`/admin/users/${id}`, { roles: ['admin'] }).expect(200);
      expectInvalidToken(await as(tokens).get('/me'));
      const promoted = await login(server, 'reshaped');
      expect((await as(promoted).get('/me')).body.roles).to.deep.equal(['admin']);
      await as(admin).patch(`/admin/users/${id}`, { roles: [] }).expect(200);
      expect((await as(await login(server, 'reshaped')).get('/me')).body.roles).to.deep.equal([]);
    });

    it('refuses a PATCH with nothing to change or a wrong type', async () => {
      const { id } = await newUser(server, 'patchy');
      expectError(await as(admin).patch(`/admin/users/${id}`, {}), 400, 'validation_failed');
      expectError(await as(admin).patch(`/admin/users/${id}`, { disabled: 'yes' }), 400, 'validation_failed');
      expectError(await as(admin).patch(`/admin/users/${id}`, { username: 'renamed' }), 400, 'validation_failed');
    });

    it('logs a user out everywhere with DELETE /admin/users/:id/sessions, without disabling them', async () => {
      const { id, tokens } = await newUser(server, 'kicked');
      const other = await login(server, 'kicked');
      expect((await as(admin).delete(`/admin/users/${id}/sessions`)).status).to.equal(204);
      for (const session of [tokens, other]) {
        expectInvalidToken(await as(session).get('/me'));
        expectError(await refresh(server, session.refresh_token), 400, 'invalid_grant');
      }
      expect((await as(admin).get('/me')).status).to.equal(200);
      await login(server, 'kicked');
    });

    it('answers 404 for unknown user ids', async () => {
      expectError(await as(admin).patch('/admin/users/no-such-user', { disabled: true }), 404, 'not_found');
      expectError(await as(admin).delete('/admin/users/no-such-user/sessions'), 404, 'not_found');
    });
  });

  describe('clients', () => {
    it('registers a confidential client and shows its secret this once only', async () => {
      const res = await as(admin).post('/admin/clients', { name: 'pusher', scope: 'push' });
      expect(res.status).to.equal(201);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.include({ name: 'pusher', scope: 'push', confidential: true });
      expect(res.body.grant_types).to.deep.equal(['client_credentials']);
      expect(res.body.client_id).to.be.a('string').and.not.be.empty;
      expect(res.body.client_secret).to.be.a('string').with.length.of.at.least(32);

      const grant = await clientGrant(res.body.client_id, res.body.client_secret);
      expect(grant.status).to.equal(200);
      expect(grant.body.scope).to.equal('push');

      const list = await as(admin).get('/admin/clients').expect(200);
      const ids = (list.body as Array<{ client_id: string }>).map((client) => client.client_id);
      expect(ids).to.include.members(['tessera', res.body.client_id]);
      expect(list.text).not.to.include(res.body.client_secret);
      for (const client of list.body) expect(client).not.to.have.any.keys('client_secret', 'secret_hash');
    });

    it('registers a public client without a secret', async () => {
      const res = await as(admin).post('/admin/clients', { name: 'spa', grant_types: ['password', 'refresh_token'], confidential: false });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ confidential: false });
      expect(res.body).not.to.have.property('client_secret');
    });

    it('refuses a public client with the client_credentials grant', async () => {
      const res = await as(admin).post('/admin/clients', { name: 'bad', confidential: false, grant_types: ['client_credentials'] });
      expectError(res, 400, 'validation_failed');
      expectError(await as(admin).post('/admin/clients', { name: 'bad', confidential: false }), 400, 'validation_failed');
    });

    it('never gives a client a token of its own with the admin scope, even one registered with it', async () => {
      // SPEC §3.3: admin is for users with the admin role only.
      const created = (await as(admin).post('/admin/clients', { name: 'greedy', scope: 'admin push' }).expect(201)).body;
      expectError(await clientGrant(created.client_id, created.client_secret, 'admin'), 400, 'invalid_scope');
      const granted = await clientGrant(created.client_id, created.client_secret);
      expect(granted.status).to.equal(200);
      expect(granted.body.scope.split(' ')).to.include('push').and.not.include('admin');
    });

    it('refuses an unknown scope or grant type', async () => {
      expectError(await as(admin).post('/admin/clients', { name: 'x', scope: 'everything' }), 400, 'validation_failed');
      expectError(await as(admin).post('/admin/clients', { name: 'x', grant_types: ['implicit'] }), 400, 'validation_failed');
    });

    it('removes a client: its tokens are refused and it can no longer get any', async () => {
      const created = (await as(admin).post('/admin/clients', { name: 'doomed', scope: 'push' }).expect(201)).body;
      const token = (await clientGrant(created.client_id, created.client_secret).expect(200)).body.access_token as string;
      // A client token is a valid token on /me, just not a user's: 403 while it lives, 401 once refused.
      expect((await server.request.get('/me').set(bearer(token))).status).to.equal(403);
      expect((await as(admin).delete(`/admin/clients/${created.client_id}`)).status).to.equal(204);
      expectInvalidToken(await server.request.get('/me').set(bearer(token)));
      expectError(await clientGrant(created.client_id, created.client_secret), 401, 'invalid_client');
      const list = (await as(admin).get('/admin/clients')).body as Array<{ client_id: string }>;
      expect(list.map((client) => client.client_id)).not.to.include(created.client_id);
    });

    it('refuses to remove the built-in client with 409 and keeps it working', async () => {
      expectError(await as(admin).delete('/admin/clients/tessera'), 409, 'conflict');
      await login(server, 'root', ADMIN.ADMIN_PASSWORD);
    });

    it('answers 404 for an unknown client id', async () => {
      expectError(await as(admin).delete('/admin/clients/c_nope'), 404, 'not_found');
    });
  });
});

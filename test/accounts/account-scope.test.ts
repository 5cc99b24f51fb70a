import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { basicAuth, decodeJwt, sessionIdOf } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD } from '../support/users';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const DEFAULT_USER_SCOPE = 'tasks:read tasks:write calendar:read calendar:write messages:read messages:write account';

/** SPEC §2 and RFC 6750 §3.1: 403 insufficient_scope naming the scope `account`. */
function expectAccountScopeNeeded(res: Response, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(403);
  expectError(res, 403, 'insufficient_scope');
  expect(res.headers['www-authenticate'], what).to.match(/^Bearer realm="tessera", /).and.include('error="insufficient_scope"').and.include('scope="account"');
}

onEachDatabase('scope account (SPEC §9)', (database) => {
  let server: TestServer;
  let admin: string;

  before(async () => {
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off' }, database);
    admin = (await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' })).access_token;
  });
  after(() => server.close());

  /** Registers a client through the admin API; returns its id and secret. */
  async function registerClient(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const res = await server.request.post('/admin/clients').set(bearer(admin)).send({ name: 'an app', ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { id: res.body.client_id as string, secret: res.body.client_secret as string };
  }
  const clientGrant = (client: { id: string; secret: string }, scope?: string) =>
    server.request.post('/token').type('form').set(basicAuth(client.id, client.secret)).send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });

  it('is in the default scope of the password grant through the built-in client, and listed in the metadata', async () => {
    await newUser(server, 'alice');
    const tokens = await login(server, 'alice');
    expect(tokens.scope).to.equal(DEFAULT_USER_SCOPE);
    expect(decodeJwt(tokens.access_token).claims.scope).to.equal(DEFAULT_USER_SCOPE);
    const metadata = await server.request.get('/.well-known/oauth-authorization-server');
    expect(metadata.body.scopes_supported).to.include('account');
  });

  it('refuses every account route to a token without it with 403 insufficient_scope and scope="account"', async () => {
    const { tokens: full } = await newUser(server, 'bob');
    const narrow = bearer((await login(server, 'bob', PASSWORD, { scope: 'tasks:read' })).access_token);
    const otherSession = sessionIdOf(full.access_token);
    const attempts: Array<[string, () => Promise<Response>]> = [
      ['GET /sessions', () => server.request.get('/sessions').set(narrow)],
      ['DELETE /sessions/:id', () => server.request.delete(`/sessions/${otherSession}`).set(narrow)],
      ['POST /logout {"all": true}', () => server.request.post('/logout').set(narrow).send({ all: true })],
      ['POST /me/password', () => server.request.post('/me/password').set(narrow).send({ current_password: PASSWORD, new_password: 'a new password 1' })],
      ['GET /me/2fa', () => server.request.get('/me/2fa').set(narrow)],
      ['POST /me/2fa', () => server.request.post('/me/2fa').set(narrow).send({ password: PASSWORD })],
      ['POST /me/2fa/confirm', () => server.request.post('/me/2fa/confirm').set(narrow).send({ otp: '123456' })],
      ['DELETE /me/2fa', () => server.request.delete('/me/2fa').set(narrow).send({ otp: '123456' })],
    ];
    for (const [what, attempt] of attempts) expectAccountScopeNeeded(await attempt(), what);

    // Nothing happened: the other session lives, the password and two-factor sign-in are unchanged.
    expect((await server.request.get('/sessions').set(bearer(full.access_token))).body).to.have.length(2);
    await login(server, 'bob');
    expect((await server.request.get('/me/2fa').set(bearer(full.access_token))).body).to.deep.include({ enabled: false, pending: false });
  });

  it('lets a token without it read /me and log its own session out', async () => {
    const { tokens: full } = await newUser(server, 'carol');
    const narrow = await login(server, 'carol', PASSWORD, { scope: 'messages:read' });
    expect((await server.request.get('/me').set(bearer(narrow.access_token))).body).to.include({ username: 'carol' });
    expect((await server.request.post('/logout').set(bearer(narrow.access_token)).send({})).status).to.equal(204);
    expect((await server.request.get('/me').set(bearer(narrow.access_token))).status).to.equal(401);
    expect((await server.request.get('/me').set(bearer(full.access_token))).status, 'the other session lives').to.equal(200);
  });

  it('lets a token with it use every account route', async () => {
    const { tokens } = await newUser(server, 'dave');
    const me = bearer(tokens.access_token);
    expect((await server.request.get('/sessions').set(me)).status).to.equal(200);
    expect((await server.request.get('/me/2fa').set(me)).status).to.equal(200);
    expect((await server.request.post('/me/2fa').set(me).send({ password: PASSWORD })).status).to.equal(201);
    expect((await server.request.post('/me/password').set(me).send({ current_password: PASSWORD, new_password: 'a new password 1' })).status).to.equal(204);
    expect((await server.request.post('/logout').set(me).send({ all: true })).status).to.equal(204);
    expect((await server.request.get('/me').set(me)).status).to.equal(401);
  });

  it('never gives it to client_credentials, whatever the client registered by an admin lists or asks for', async () => {
    const byDefault = await registerClient({});
    const defaultScope = await clientGrant(byDefault);
    expect(defaultScope.status, JSON.stringify(defaultScope.body)).to.equal(200);
    expect(defaultScope.body.scope).to.equal('');

    const listing = await registerClient({ scope: 'tasks:read account' });
    const omitted = await clientGrant(listing);
    expect(omitted.status, JSON.stringify(omitted.body)).to.equal(200);
    expect(omitted.body.scope).to.equal('tasks:read');
    expect(decodeJwt(omitted.body.access_token as string).claims.scope).to.equal('tasks:read');
    expectError(await clientGrant(listing, 'account'), 400, 'invalid_scope');
    expectError(await clientGrant(listing, 'tasks:read account'), 400, 'invalid_scope');

    const onlyAccount = await registerClient({ scope: 'account' });
    expect((await clientGrant(onlyAccount)).body.scope).to.equal('');
    expectError(await server.request.post('/logout').set(bearer(omitted.body.access_token as string)).send({ all: true }), 403, 'insufficient_scope');
  });

  it('gives it to a user through a client whose scope lists it, and not through one whose scope does not', async () => {
    await newUser(server, 'erin');
    const listing = await registerClient({ scope: 'tasks:read account', grant_types: ['password'] });
    const passwordGrant = (client: { id: string; secret: string }) =>
      server.request.post('/token').type('form').set(basicAuth(client.id, client.secret)).send({ grant_type: 'password', username: 'erin', password: PASSWORD });
    expect((await passwordGrant(listing)).body.scope).to.equal('tasks:read account');
    const notListing = await registerClient({ scope: 'tasks:read', grant_types: ['password'] });
    const narrow = await passwordGrant(notListing);
    expect(narrow.body.scope).to.equal('tasks:read');
    expectAccountScopeNeeded(await server.request.get('/sessions').set(bearer(narrow.body.access_token as string)), 'GET /sessions');
  });

  it('keeps a confidential client registered with the default scope from getting any user scope', async () => {
    await newUser(server, 'fay');
    const client = await registerClient({ grant_types: ['password'] });
    const res = await server.request.post('/token').type('form').set(basicAuth(client.id, client.secret)).send({ grant_type: 'password', username: 'fay', password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.scope).to.equal('');
  });
});

import { expect } from 'chai';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, signup } from '../support/users';

onEachDatabase('password grant', (database) => {
  let server: TestServer;
  before(async () => {
    server = await startServer({}, database);
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('issues an access token, a refresh token and the default scopes', async () => {
    const res = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.include({ token_type: 'Bearer', expires_in: 900 });
    expect(res.body.scope).to.equal('tasks:read tasks:write calendar:read calendar:write messages:read messages:write account');
    expect(res.body.refresh_token).to.match(/^[A-Za-z0-9_-]{43}$/);
    const me = await server.request.get('/me').set(bearer(res.body.access_token));
    expect(me.status).to.equal(200);
    expect(me.body).to.include({ username: 'alice' });
  });

  it('accepts a JSON body with the same fields', async () => {
    const res = await server.request.post('/token').send({ grant_type: 'password', username: 'ALICE', password: PASSWORD });
    expect(res.status).to.equal(200);
  });

  it('answers a wrong password and an unknown user with the same invalid_grant', async () => {
    const wrong = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'nope-nope' });
    const unknown = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'nobody', password: 'nope-nope' });
    expect(wrong.status).to.equal(400);
    expect(unknown.status).to.equal(400);
    expect(wrong.body).to.deep.equal(unknown.body);
    expect(wrong.body.error).to.equal('invalid_grant');
  });

  it('refuses the admin scope to a user without the admin role', async () => {
    const res = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'admin' });
    expect(res.status).to.equal(400);
    expect(res.body.error).to.equal('invalid_scope');
  });

  it('narrows the scope to what was asked for', async () => {
    const tokens = await login(server, 'alice', PASSWORD, { scope: 'tasks:read' });
    expect(tokens.scope).to.equal('tasks:read');
  });
});

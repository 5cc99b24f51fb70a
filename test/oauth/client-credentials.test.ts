import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { basicAuth, createClient, decodeJwt, secretOf, tokenRequest, type TestClient } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

const GRANT = { grant_type: 'client_credentials' };

onEachDatabase('client_credentials grant', (database) => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startServer({}, database);
    client = await createClient(server, { scope: 'push messages:write' });
  });
  after(() => server.close());

  const withBasic = (fields: Record<string, string> = {}) =>
    server.request.post('/token').set(basicAuth(client.id, secretOf(client))).type('form').send({ ...GRANT, ...fields });

  it('issues an access token with the client as subject, no refresh token and the client scope, over Basic', async () => {
    const res = await withBasic();
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.include({ token_type: 'Bearer', expires_in: 900, scope: 'push messages:write' });
    expect(res.body).to.not.have.property('refresh_token');
    const { claims } = decodeJwt(res.body.access_token);
    expect(claims).to.include({ sub: client.id, client_id: client.id, scope: 'push messages:write' });
    expect(claims).to.not.have.property('username');
    expect(claims.roles).to.deep.equal([]);
  });

  it('accepts client_id and client_secret in the body from a client registered for client_secret_post', async () => {
    const poster = await createClient(server, { authMethod: 'client_secret_post' });
    const res = await tokenRequest(server, { ...GRANT, client_id: poster.id, client_secret: secretOf(poster) });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(decodeJwt(res.body.access_token).claims.sub).to.equal(poster.id);
  });

  it('accepts a JSON body with the same fields', async () => {
    const poster = await createClient(server, { authMethod: 'client_secret_post' });
    const res = await server.request.post('/token').send({ ...GRANT, client_id: poster.id, client_secret: secretOf(poster) });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  });

  it('issues the requested part of the client scope', async () => {
    const res = await withBasic({ scope: 'push' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.scope).to.equal('push');
    expect(decodeJwt(res.body.access_token).claims.scope).to.equal('push');
  });

  it('refuses a scope outside the client scope with invalid_scope', async () => {
    expectError(await withBasic({ scope: 'push tasks:read' }), 400, 'invalid_scope');
    expectError(await withBasic({ scope: 'admin' }), 400, 'invalid_scope');
  });

  it('gives each token its own session, so tokens are revocable one by one', async () => {
    const [first, second] = await Promise.all([withBasic(), withBasic()]);
    expect(decodeJwt(first.body.access_token).claims.sid).to.be.a('string').and.not.equal(decodeJwt(second.body.access_token).claims.sid);
  });

  it('refuses the built-in public client with unauthorized_client', async () => {
    expectError(await tokenRequest(server, GRANT), 400, 'unauthorized_client');
    expectError(await tokenRequest(server, { ...GRANT, client_id: 'tessera' }), 400, 'unauthorized_client');
  });

  it('refuses a public client with unauthorized_client even when client_credentials is among its grant types', async () => {
    const publicClient = await createClient(server, { confidential: false });
    expectError(await tokenRequest(server, { ...GRANT, client_id: publicClient.id }), 400, 'unauthorized_client');
  });

  it('refuses a confidential client not registered for client_credentials with unauthorized_client', async () => {
    const passwordOnly = await createClient(server, { grantTypes: ['password', 'refresh_token'], scope: 'tasks:read' });
    const res = await server.request.post('/token').set(basicAuth(passwordOnly.id, secretOf(passwordOnly))).type('form').send(GRANT);
    expectError(res, 400, 'unauthorized_client');
  });
});

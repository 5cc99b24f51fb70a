import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { basicAuth, createClient, decodeJwt, secretOf, type TestClient } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, refresh, signup } from '../support/users';

const HOUR = 3_600_000;

onEachDatabase('token introspection (RFC 7662)', (database) => {
  let server: TestServer;
  let resourceServer: TestClient;
  let aliceId: string;
  before(async () => {
    server = await startServer({}, database);
    resourceServer = await createClient(server);
    aliceId = await signup(server, 'alice');
  });
  after(() => server.close());

  const introspectAs = (headers: Record<string, string>, fields: Record<string, string>) =>
    server.request.post('/introspect').set(headers).type('form').send(fields);

  /** Introspects as the confidential resource server; asserts the request itself succeeds. */
  async function introspect(token: string): Promise<Record<string, unknown>> {
    const res = await introspectAs(basicAuth(resourceServer.id, secretOf(resourceServer)), { token });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    return res.body as Record<string, unknown>;
  }

  it('refuses callers that are not an authenticated confidential client with 401 invalid_client', async () => {
    const { access_token: token } = await login(server, 'alice');
    const publicClient = await createClient(server, { confidential: false, grantTypes: ['password'], scope: 'tasks:read' });
    expectError(await introspectAs({}, { token }), 401, 'invalid_client');
    expectError(await introspectAs({}, { token, client_id: 'tessera' }), 401, 'invalid_client');
    expectError(await introspectAs({}, { token, client_id: publicClient.id }), 401, 'invalid_client');
    expectError(await introspectAs(basicAuth(resourceServer.id, 'wrong-secret'), { token }), 401, 'invalid_client');
  });

  it('accepts the client credentials in the body from a client registered for client_secret_post, not from one registered for client_secret_basic', async () => {
    const { access_token: token } = await login(server, 'alice');
    const poster = await createClient(server, { authMethod: 'client_secret_post' });
    const basicOnly = await createClient(server, { authMethod: 'client_secret_basic' });
    expectError(await introspectAs({}, { token, client_id: basicOnly.id, client_secret: secretOf(basicOnly) }), 401, 'invalid_client');
    const res = await introspectAs({}, { token, client_id: poster.id, client_secret: secretOf(poster) });
    expect(res.status).to.equal(200);
    expect(res.body.active).to.equal(true);
  });

  it('describes a live access token with its subject, scope, client, expiry, username and session', async () => {
    const tokens = await login(server, 'alice', undefined, { scope: 'tasks:read messages:read' });
    const { claims } = decodeJwt(tokens.access_token);
    const body = await introspect(tokens.access_token);
    expect(body).to.include({
      active: true,
      sub: aliceId,
      scope: 'tasks:read messages:read',
      client_id: 'tessera',
      username: 'alice',
      exp: claims.exp,
      iat: claims.iat,
      sid: claims.sid,
      jti: claims.jti,
      iss: claims.iss,
    });
    expect(body.exp).to.be.a('number').above(Date.now() / 1000);
  });

  it('describes a live refresh token as token_type refresh_token', async () => {
    const tokens = await login(server, 'alice');
    const body = await introspect(tokens.refresh_token);
    expect(body).to.include({
      active: true,
      token_type: 'refresh_token',
      sub: aliceId,
      username: 'alice',
      client_id: 'tessera',
      scope: tokens.scope,
      sid: decodeJwt(tokens.access_token).claims.sid,
    });
    expect(body.exp).to.be.a('number').above(Date.now() / 1000);
  });

  it('describes a client_credentials token with the client as subject and no username', async () => {
    const auth = basicAuth(resourceServer.id, secretOf(resourceServer));
    const issued = await server.request.post('/token').set(auth).type('form').send({ grant_type: 'client_credentials' });
    const body = await introspect(issued.body.access_token);
    expect(body).to.include({ active: true, sub: resourceServer.id, client_id: resourceServer.id, scope: 'push' });
    expect(body).to.not.have.property('username');
  });

  it('reports a rotated refresh token as inactive', async () => {
    const tokens = await login(server, 'alice');
    expect((await refresh(server, tokens.refresh_token)).status).to.equal(200);
    expect(await introspect(tokens.refresh_token)).to.deep.equal({ active: false });
  });

  it('reports the access and refresh tokens of a revoked session as inactive', async () => {
    const tokens = await login(server, 'alice');
    expect((await server.request.post('/logout').set(bearer(tokens.access_token))).status).to.equal(204);
    expect(await introspect(tokens.access_token)).to.deep.equal({ active: false });
    expect(await introspect(tokens.refresh_token)).to.deep.equal({ active: false });
  });

  it('reports the tokens of a disabled user as inactive', async () => {
    const { id, tokens } = await newUser(server, 'bob');
    const { users, tenantId } = server.tessera.services;
    await users.setDisabled((await users.queries.findById(tenantId, id))!, true);
    expect(await introspect(tokens.access_token)).to.deep.equal({ active: false });
    expect(await introspect(tokens.refresh_token)).to.deep.equal({ active: false });
  });

  it('reports an expired access token as inactive', async () => {
    const tokens = await login(server, 'alice');
    const { claims } = decodeJwt(tokens.access_token);
    const expired = server.tessera.services.accessTokens.issue(
      { subject: aliceId, username: 'alice', clientId: 'tessera', scopes: ['tasks:read'], roles: [], sessionId: claims.sid as string },
      Date.now() - HOUR,
    );
    expect(await introspect(expired.token)).to.deep.equal({ active: false });
  });

  it('reports the refresh token of an expired session as inactive', async () => {
    const { refreshTokens, tenantId } = server.tessera.services;
    const { refreshToken } = await refreshTokens.startSession(
      { tenantId, userId: aliceId, clientId: 'tessera', scope: 'tasks:read', ip: null, userAgent: null, lifetime: 60 },
      Date.now() - HOUR,
    );
    expect(await introspect(refreshToken)).to.deep.equal({ active: false });
  });

  it('reports unknown and malformed tokens as inactive', async () => {
    for (const token of [randomBytes(32).toString('base64url'), 'a.b.c', 'garbage']) {
      expect(await introspect(token), token).to.deep.equal({ active: false });
    }
  });
});

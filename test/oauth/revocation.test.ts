import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { expectError, expectInvalidToken } from '../support/expectations';
import { basicAuth, createClient, secretOf, sessionIdOf, sessionRow, type TestClient } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, refresh, signup, type Tokens } from '../support/users';

onEachDatabase('token revocation (RFC 7009)', (database) => {
  let server: TestServer;
  let service: TestClient;
  before(async () => {
    server = await startServer({}, database);
    service = await createClient(server);
    await signup(server, 'alice');
  });
  after(() => server.close());

  /** A revocation by the built-in public client, or with the given headers. */
  const revoke = (token: string, headers: Record<string, string> = {}) =>
    server.request.post('/revoke').set(headers).type('form').send({ token });

  const me = (accessToken: string) => server.request.get('/me').set(bearer(accessToken));

  async function expectSessionRevoked(tokens: Tokens): Promise<void> {
    expectInvalidToken(await me(tokens.access_token));
    expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
    const session = await sessionRow(server, sessionIdOf(tokens.access_token));
    expect(session.revoked_reason).to.equal('token_revocation');
  }

  async function expectSessionLive(tokens: Tokens): Promise<void> {
    expect((await me(tokens.access_token)).status).to.equal(200);
    expect((await refresh(server, tokens.refresh_token)).status).to.equal(200);
  }

  it('revokes the session of a refresh token: it and every access token of the session stop working', async () => {
    const tokens = await login(server, 'alice');
    const res = await revoke(tokens.refresh_token);
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    await expectSessionRevoked(tokens);
  });

  it('revokes the session of an access token too', async () => {
    const tokens = await login(server, 'alice');
    expect((await revoke(tokens.access_token)).status).to.equal(200);
    await expectSessionRevoked(tokens);
  });

  it('leaves other sessions of the same user alone', async () => {
    const [revoked, kept] = await Promise.all([login(server, 'alice'), login(server, 'alice')]);
    expect((await revoke(revoked.refresh_token)).status).to.equal(200);
    await expectSessionLive(kept);
  });

  it('answers 200 to unknown, malformed and already revoked tokens', async () => {
    const tokens = await login(server, 'alice');
    await revoke(tokens.refresh_token);
    for (const token of [randomBytes(32).toString('base64url'), 'a.b.c', 'garbage', tokens.refresh_token, tokens.access_token]) {
      expect((await revoke(token)).status, token).to.equal(200);
    }
  });

  it('answers 200 but leaves the session alone when a client revokes a token it was not issued', async () => {
    const tokens = await login(server, 'alice');
    expect((await revoke(tokens.refresh_token, basicAuth(service.id, secretOf(service)))).status).to.equal(200);
    expect((await revoke(tokens.access_token, basicAuth(service.id, secretOf(service)))).status).to.equal(200);
    await expectSessionLive(tokens);
  });

  it('lets a confidential client revoke its own client_credentials token', async () => {
    const auth = basicAuth(service.id, secretOf(service));
    const issued = await server.request.post('/token').set(auth).type('form').send({ grant_type: 'client_credentials' });
    expect(issued.status).to.equal(200);
    const introspect = () => server.request.post('/introspect').set(auth).type('form').send({ token: issued.body.access_token });
    expect((await introspect()).body.active).to.equal(true);
    expect((await revoke(issued.body.access_token, auth)).status).to.equal(200);
    expect((await introspect()).body).to.deep.equal({ active: false });
  });

  it('refuses a client with a wrong secret with 401 invalid_client', async () => {
    const tokens = await login(server, 'alice');
    expectError(await revoke(tokens.refresh_token, basicAuth(service.id, 'wrong-secret')), 401, 'invalid_client');
    await expectSessionLive(tokens);
  });

  it('asks for the token parameter with invalid_request', async () => {
    expectError(await server.request.post('/revoke').type('form').send({ token_type_hint: 'refresh_token' }), 400, 'invalid_request');
  });
});

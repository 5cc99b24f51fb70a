import { expect } from 'chai';
import { basicAuth, decodeJwt, secretOf, sessionIdOf, sessionRow, tokenRequest } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, refresh, signup, type Tokens } from '../support/users';
import { dpopLogin, dpopTokenRequest, expectTokenRefusal, newKey, proof, type ProofKey } from './support';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };

onEachDatabase('DPoP at the token endpoint (RFC 9449 §5, SPEC §11)', (database) => {
  let server: TestServer;
  let key: ProofKey;
  let admin: Tokens;

  before(async () => {
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off' }, database);
    admin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
    await signup(server, 'alice');
    key = await newKey();
  });
  after(async () => {
    await server.close();
  });

  const password = { grant_type: 'password', username: 'alice', password: PASSWORD };
  const withProof = async (dpop: string, fields: Record<string, string> = password) => server.request.post('/token').type('form').set('DPoP', dpop).send(fields);

  /** Registers a client through the admin API. */
  async function registerClient(body: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string; dpop_bound_access_tokens: boolean }> {
    const res = await server.request.post('/admin/clients').set(bearer(admin.access_token)).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  it('refuses a bad proof with 400 invalid_dpop_proof and no challenge, and issues nothing', async () => {
    const tokenUrl = `${server.url}/token`;
    for (const dpop of [
      'not a proof',
      await proof(key, { htm: 'GET', htu: tokenUrl }),
      await proof(key, { htm: 'POST', htu: `${server.url}/me` }),
      await proof(key, { htm: 'POST', htu: tokenUrl, iat: Math.floor(Date.now() / 1000) - 300 }),
    ]) {
      const res = await withProof(dpop);
      expectTokenRefusal(res, 'invalid_dpop_proof');
      expect(res.headers['www-authenticate']).to.equal(undefined);
    }
  });

  it('refuses a proof replayed to the token endpoint', async () => {
    const dpop = await proof(key, { htm: 'POST', htu: `${server.url}/token` });
    expect((await withProof(dpop)).status).to.equal(200);
    expectTokenRefusal(await withProof(dpop), 'invalid_dpop_proof');
  });

  it('binds the session of a public client: its row keeps the key, and a refresh needs a proof by it, also within the reuse grace', async () => {
    const tokens = await dpopLogin(server, 'alice', key);
    expect((await sessionRow(server, sessionIdOf(tokens.access_token))).dpop_jkt).to.equal(key.jkt);
    expect((await refresh(server, tokens.refresh_token)).body.error).to.equal('invalid_grant');
    const stranger = await newKey();
    expectTokenRefusal(await dpopTokenRequest(server, stranger, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 'invalid_grant');
    const rotated = await dpopTokenRequest(server, key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    expect(decodeJwt(rotated.body.access_token).claims.cnf).to.deep.equal({ jkt: key.jkt });
    // The first token again within the grace would get the successor: not without the key either.
    expectTokenRefusal(await dpopTokenRequest(server, stranger, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 'invalid_grant');
    const retried = await dpopTokenRequest(server, key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(retried.body.refresh_token).to.equal(rotated.body.refresh_token);
  });

  it('leaves an unbound session unbound: a refresh with a proof binds only the new access token', async () => {
    const tokens = await login(server, 'alice');
    const res = await dpopTokenRequest(server, key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(res.body.token_type).to.equal('DPoP');
    expect((await refresh(server, res.body.refresh_token)).body.token_type).to.equal('Bearer');
  });

  it('keeps a confidential client\'s refresh tokens bound to its authentication, not to a key', async () => {
    const client = await registerClient({ name: 'app', scope: 'tasks:read', grant_types: ['password', 'refresh_token'] });
    const auth = basicAuth(client.client_id, secretOf({ id: client.client_id, secret: client.client_secret }));
    const res = await dpopTokenRequest(server, key, password, auth);
    expect(res.body.token_type).to.equal('DPoP');
    expect((await sessionRow(server, sessionIdOf(res.body.access_token))).dpop_jkt).to.equal(null);
    const refreshed = await server.request.post('/token').type('form').set(auth).send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    expect(refreshed.status, JSON.stringify(refreshed.body)).to.equal(200);
    expect(refreshed.body.token_type).to.equal('Bearer');
  });

  it('makes a client registered with dpop_bound_access_tokens use DPoP on every grant', async () => {
    const client = await registerClient({ name: 'strict', scope: 'push', dpop_bound_access_tokens: true });
    expect(client.dpop_bound_access_tokens).to.equal(true);
    const listed = await server.request.get('/admin/clients').set(bearer(admin.access_token));
    expect(listed.body.find((c: { client_id: string }) => c.client_id === client.client_id).dpop_bound_access_tokens).to.equal(true);
    const auth = basicAuth(client.client_id, secretOf({ id: client.client_id, secret: client.client_secret }));
    const grant = { grant_type: 'client_credentials' };
    expectTokenRefusal(await tokenRequest(server, grant).set(auth), 'invalid_dpop_proof');
    const res = await dpopTokenRequest(server, key, grant, auth);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.token_type).to.equal('DPoP');
  });

  it('describes a bound refresh token with its cnf at introspection', async () => {
    const client = await registerClient({ name: 'introspector', scope: 'push' });
    const tokens = await dpopLogin(server, 'alice', key);
    const res = await server.request
      .post('/introspect')
      .type('form')
      .set(basicAuth(client.client_id, secretOf({ id: client.client_id, secret: client.client_secret })))
      .send({ token: tokens.refresh_token });
    expect(res.body).to.include({ active: true, token_type: 'refresh_token' });
    expect(res.body.cnf).to.deep.equal({ jkt: key.jkt });
  });
});

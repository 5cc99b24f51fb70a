import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { basicAuth, createClient, decodeJwt, secretOf, tokenRequest, type TestClient } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

const GRANT = { grant_type: 'client_credentials' };
const BASIC_CHALLENGE = 'Basic realm="tessera"';

const rawBasic = (credentials: string) => ({ Authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` });

/** Percent-encodes every character, as a form encoder may (RFC 6749 Appendix B). */
const percentEncodeAll = (value: string) =>
  [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');

function expectInvalidClient(res: Response, basic: boolean): void {
  expectError(res, 401, 'invalid_client');
  if (basic) expect(res.headers['www-authenticate']).to.equal(BASIC_CHALLENGE);
}

onEachDatabase('client authentication at the token endpoint', (database) => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startServer({}, database);
    client = await createClient(server);
    await signup(server, 'alice');
  });
  after(() => server.close());

  const postWith = (headers: Record<string, string>, fields: Record<string, string> = GRANT) =>
    server.request.post('/token').set(headers).type('form').send(fields);

  it('decodes form-encoded Basic credentials (RFC 6749 §2.3.1)', async () => {
    // Generated ids and secrets never need encoding: register one whose id does, sharing the generated secret.
    const { tenantId, clients } = server.tessera.services;
    const row = await clients.queries.find(tenantId, client.id);
    const id = 'svc:reports +1/ü';
    await clients.queries.insert({ ...row!, id });
    const encodedId = new URLSearchParams({ id }).toString().slice('id='.length);
    expect(encodedId).to.equal('svc%3Areports+%2B1%2F%C3%BC');
    const res = await postWith(rawBasic(`${encodedId}:${percentEncodeAll(secretOf(client))}`));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(decodeJwt(res.body.access_token).claims.sub).to.equal(id);
  });

  it('refuses a wrong secret over Basic with 401 invalid_client and a Basic challenge', async () => {
    expectInvalidClient(await postWith(basicAuth(client.id, `${secretOf(client)}x`)), true);
  });

  it('refuses a wrong secret in the body with 401 invalid_client', async () => {
    expectInvalidClient(await tokenRequest(server, { ...GRANT, client_id: client.id, client_secret: 'not-the-secret' }), false);
  });

  it('refuses an unknown client with 401 invalid_client, over Basic and in the body', async () => {
    expectInvalidClient(await postWith(basicAuth('c_nobody', 'some-secret')), true);
    expectInvalidClient(await tokenRequest(server, { ...GRANT, client_id: 'c_nobody', client_secret: 'some-secret' }), false);
  });

  it('refuses a confidential client that presents no secret', async () => {
    expectInvalidClient(await tokenRequest(server, { ...GRANT, client_id: client.id }), false);
  });

  it('refuses a secret presented for a public client', async () => {
    expectInvalidClient(await tokenRequest(server, { grant_type: 'password', username: 'alice', password: PASSWORD, client_id: 'tessera', client_secret: 'x' }), false);
  });

  it('takes the secret of a client registered without a method over Basic and in the body (SPEC §3.1)', async () => {
    const viaBasic = await postWith(basicAuth(client.id, secretOf(client)));
    expect(viaBasic.status, JSON.stringify(viaBasic.body)).to.equal(200);
    const inBody = await tokenRequest(server, { ...GRANT, client_id: client.id, client_secret: secretOf(client) });
    expect(inBody.status, JSON.stringify(inBody.body)).to.equal(200);
  });

  it('refuses the right secret in the body from a client registered for client_secret_basic (RFC 7591 §2), and takes it over Basic', async () => {
    const basicOnly = await createClient(server, { authMethod: 'client_secret_basic' });
    const res = await tokenRequest(server, { ...GRANT, client_id: basicOnly.id, client_secret: secretOf(basicOnly) });
    expectInvalidClient(res, false);
    expect(res.body.error_description).to.include('client_secret_basic');
    const viaBasic = await postWith(basicAuth(basicOnly.id, secretOf(basicOnly)));
    expect(viaBasic.status, JSON.stringify(viaBasic.body)).to.equal(200);
  });

  it('refuses the right secret over Basic from a client registered for client_secret_post, and takes it in the body', async () => {
    const poster = await createClient(server, { authMethod: 'client_secret_post' });
    const res = await postWith(basicAuth(poster.id, secretOf(poster)));
    expectInvalidClient(res, true);
    expect(res.body.error_description).to.include('client_secret_post');
    const body = await tokenRequest(server, { ...GRANT, client_id: poster.id, client_secret: secretOf(poster) });
    expect(body.status, JSON.stringify(body.body)).to.equal(200);
  });

  it('says nothing of the registered method to a caller with a wrong secret', async () => {
    const basicOnly = await createClient(server, { authMethod: 'client_secret_basic' });
    const res = await tokenRequest(server, { ...GRANT, client_id: basicOnly.id, client_secret: 'not-the-secret' });
    expect(res.body.error_description).to.equal('Client authentication failed.');
  });

  it('refuses Basic credentials that do not decode to id:secret', async () => {
    expectInvalidClient(await postWith(rawBasic('no-colon-here')), true);
  });

  it('refuses Basic credentials together with a client_secret in the body with invalid_request', async () => {
    const res = await postWith(basicAuth(client.id, secretOf(client)), { ...GRANT, client_secret: secretOf(client) });
    expectError(res, 400, 'invalid_request');
  });

  it('refuses Basic credentials together with another client_id in the body with invalid_request', async () => {
    const res = await postWith(basicAuth(client.id, secretOf(client)), { ...GRANT, client_id: 'tessera' });
    expectError(res, 400, 'invalid_request');
  });

  it('refuses the password grant to a client not registered for it with unauthorized_client', async () => {
    const res = await postWith(basicAuth(client.id, secretOf(client)), { grant_type: 'password', username: 'alice', password: PASSWORD });
    expectError(res, 400, 'unauthorized_client');
  });

  it('lets a confidential client registered for the password grant log a user in', async () => {
    const app = await createClient(server, { grantTypes: ['password', 'refresh_token'], scope: 'tasks:read tasks:write' });
    const res = await postWith(basicAuth(app.id, secretOf(app)), { grant_type: 'password', username: 'alice', password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.scope).to.equal('tasks:read tasks:write');
    expect(decodeJwt(res.body.access_token).claims.client_id).to.equal(app.id);
  });
});

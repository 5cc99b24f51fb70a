import { expect } from 'chai';
import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };
import { expectError } from '../support/expectations';
import { basicAuth } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, signup } from '../support/users';
import { openIdClient, relyingPartyOptions, RP_ISSUER } from './relying-party';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const WEB_APP = { client_name: 'Notes', redirect_uris: ['https://notes.example/callback'] };

async function register(server: TestServer, metadata: Partial<OpenIdClient.ClientMetadata>, initialAccessToken?: string, auth?: OpenIdClient.ClientAuth) {
  const client = await openIdClient();
  const options = { ...(await relyingPartyOptions(server)), ...(initialAccessToken === undefined ? {} : { initialAccessToken }) };
  return client.dynamicClientRegistration(new URL(RP_ISSUER), metadata, auth, options);
}

const metadataOf = async (server: TestServer) => (await server.request.get('/.well-known/openid-configuration').expect(200)).body as Record<string, unknown>;

describe('dynamic client registration (RFC 7591)', () => {
  describe('with CLIENT_REGISTRATION=closed (the default)', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ ISSUER: RP_ISSUER });
    });
    after(() => server.close());

    it('is not advertised and refuses every registration with 403', async () => {
      expect(await metadataOf(server)).to.not.have.property('registration_endpoint');
      expectError(await server.request.post('/register').send(WEB_APP), 403, 'forbidden');
      expectError(await server.request.post('/register').send({}), 403, 'forbidden');
    });
  });

  describe('with CLIENT_REGISTRATION=open', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ ISSUER: RP_ISSUER, CLIENT_REGISTRATION: 'open', RATE_LIMITS: 'off' });
      await signup(server, 'alice');
    });
    after(() => server.close());

    it('is advertised in the metadata at the issuer', async () => {
      expect(await metadataOf(server)).to.include({ registration_endpoint: `${RP_ISSUER}/register` });
    });

    it("registers a confidential third-party client through openid-client's dynamicClientRegistration", async () => {
      const config = await register(server, { ...WEB_APP, post_logout_redirect_uris: ['https://notes.example/'], logo_uri: 'https://notes.example/logo.png' });
      const registered = config.clientMetadata();
      expect(registered.client_id).to.match(/^c_/);
      expect(registered.client_secret).to.be.a('string').with.length.of.at.least(32);
      expect(registered).to.deep.include({
        client_name: 'Notes',
        redirect_uris: ['https://notes.example/callback'],
        post_logout_redirect_uris: ['https://notes.example/'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
        logo_uri: 'https://notes.example/logo.png',
        client_secret_expires_at: 0,
      });
      const stored = await server.tessera.services.clients.queries.find('default', registered.client_id);
      expect(stored).to.deep.include({ first_party: false, confidential: true, redirect_uris: ['https://notes.example/callback'] });
      expect(stored?.scope.split(' ')).to.include.members(['openid', 'profile', 'email', 'offline_access']).and.not.include('admin');
    });

    it('answers as RFC 7591 §3.2.1 says: 201, no-store, client_id_issued_at, the secret once', async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await server.request.post('/register').send({ ...WEB_APP, token_endpoint_auth_method: 'client_secret_post', unknown_metadata: 'ignored', contacts: ['ops@notes.example'] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body.client_id_issued_at).to.be.within(before, before + 60);
      expect(res.body).to.include({ token_endpoint_auth_method: 'client_secret_post', client_secret_expires_at: 0 });
      expect(res.body).to.not.have.any.keys('unknown_metadata', 'contacts', 'secret_hash', 'first_party');
      const listed = await server.tessera.services.clients.queries.list('default');
      expect(JSON.stringify(listed)).to.not.include(res.body.client_secret);
    });

    it('registers a public client (token_endpoint_auth_method none) without a secret, with a name from its redirect URI', async () => {
      const res = await server.request.post('/register').send({ redirect_uris: ['com.example.notes:/oauth', 'http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ token_endpoint_auth_method: 'none', client_name: 'com.example.notes' });
      expect(res.body).to.not.have.any.keys('client_secret', 'client_secret_expires_at');
      expect(res.body.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    });

    it('gives a registered client no password grant, and holds it to its authentication method', async () => {
      const { client_id: id, client_secret: secret } = (await register(server, WEB_APP)).clientMetadata() as { client_id: string; client_secret: string };
      const password = { grant_type: 'password', username: 'alice', password: PASSWORD };
      expectError(await server.request.post('/token').set(basicAuth(id, secret)).type('form').send(password), 400, 'unauthorized_client');
      expectError(await server.request.post('/token').type('form').send({ ...password, client_id: id, client_secret: secret }), 401, 'invalid_client');
      const introspected = await server.request.post('/introspect').set(basicAuth(id, secret)).type('form').send({ token: 'unknown' });
      expect(introspected.body).to.deep.equal({ active: false });
    });

    it('works with openid-client once it is told the method registered (openid-client posts the secret by default)', async () => {
      const client = await openIdClient();
      const basic = await register(server, WEB_APP, undefined, client.ClientSecretBasic());
      expect(await client.tokenIntrospection(basic, 'unknown')).to.deep.include({ active: false });
      const posting = await register(server, { ...WEB_APP, token_endpoint_auth_method: 'client_secret_post' });
      expect(await client.tokenIntrospection(posting, 'unknown')).to.deep.include({ active: false });
      const mismatched = await register(server, WEB_APP);
      const error = await client.tokenIntrospection(mismatched, 'unknown').then(
        () => undefined,
        (caught: unknown) => caught as { error?: string },
      );
      expect(error?.error).to.equal('invalid_client');
    });

    it('refuses redirect URIs it cannot trust with invalid_redirect_uri', async () => {
      for (const body of [
        {},
        { redirect_uris: [] },
        { redirect_uris: ['http://notes.example/callback'] },
        { redirect_uris: ['https://notes.example/callback#fragment'] },
        { redirect_uris: ['/callback'] },
        { redirect_uris: ['javascript:alert(1)'] },
        { redirect_uris: 'https://notes.example/callback' },
        { ...WEB_APP, post_logout_redirect_uris: ['http://evil.example/'] },
      ]) {
        const res = await server.request.post('/register').send(body);
        expectError(res, 400, 'invalid_redirect_uri');
        expect(res.body.details, JSON.stringify(body)).to.be.an('array').that.is.not.empty;
      }
    });

    it('refuses other metadata it does not support with invalid_client_metadata naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ grant_types: ['password'] }, 'grant_types.0'],
        [{ grant_types: ['client_credentials'] }, 'grant_types.0'],
        [{ grant_types: ['refresh_token'] }, 'grant_types'],
        [{ response_types: ['token'] }, 'response_types.0'],
        [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method'],
        [{ scope: 'openid admin' }, 'scope'],
        [{ scope: 'push' }, 'scope'],
        [{ id_token_signed_response_alg: 'none' }, 'id_token_signed_response_alg'],
        [{ client_uri: 'ftp://notes.example/' }, 'client_uri'],
        [{ client_name: '' }, 'client_name'],
      ];
      for (const [extra, field] of cases) {
        const res = await server.request.post('/register').send({ ...WEB_APP, ...extra });
        expectError(res, 400, 'invalid_client_metadata');
        expect((res.body.details as Array<{ field: string }>).map((d) => d.field), JSON.stringify(extra)).to.include(field);
      }
    });

    it('answers a body that is not a JSON object with a 400, never a 500', async () => {
      expect((await server.request.post('/register').type('json').send('{"redirect_uris":')).status).to.equal(400);
      expectError(await server.request.post('/register').send([WEB_APP]), 400, 'invalid_client_metadata');
    });
  });

  describe('with CLIENT_REGISTRATION=token', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ ...ADMIN, ISSUER: RP_ISSUER, CLIENT_REGISTRATION: 'token', RATE_LIMITS: 'off' });
    });
    after(() => server.close());

    it('is advertised, and wants a bearer token with admin: 401 without one, 403 insufficient_scope without admin', async () => {
      expect(await metadataOf(server)).to.include({ registration_endpoint: `${RP_ISSUER}/register` });
      const none = await server.request.post('/register').send(WEB_APP);
      expectError(none, 401, 'unauthorized');
      expect(none.headers['www-authenticate']).to.equal('Bearer realm="tessera"');
      const { tokens } = await newUser(server, 'mallory');
      expectError(await server.request.post('/register').set(bearer(tokens.access_token)).send(WEB_APP), 403, 'insufficient_scope');
      const plainAdmin = await login(server, 'root', ADMIN.ADMIN_PASSWORD);
      expectError(await server.request.post('/register').set(bearer(plainAdmin.access_token)).send(WEB_APP), 403, 'insufficient_scope');
    });

    it('registers with an admin token given to openid-client as the initial access token', async () => {
      const admin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
      const registered = (await register(server, WEB_APP, admin.access_token)).clientMetadata();
      expect(registered.client_id).to.be.a('string');
      expect(registered.redirect_uris).to.deep.equal(WEB_APP.redirect_uris);
    });
  });

  describe('rate limits', () => {
    it('counts registrations per IP with the sign-up budget (429 with Retry-After)', async () => {
      const server = await startServer({ ISSUER: RP_ISSUER, CLIENT_REGISTRATION: 'open', RATE_LIMIT_SIGNUP_PER_HOUR: '2' });
      try {
        for (let i = 0; i < 2; i += 1) expect((await server.request.post('/register').send(WEB_APP)).status).to.equal(201);
        const limited = await server.request.post('/register').send(WEB_APP);
        expectError(limited, 429, 'rate_limited');
        expect(limited.headers['retry-after']).to.match(/^\d+$/);
      } finally {
        await server.close();
      }
    });
  });
});

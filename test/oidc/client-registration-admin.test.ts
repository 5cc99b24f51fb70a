import { expect } from 'chai';
import { startServer as startTessera, onEachDatabase, startSecondProcess, type TestServer } from '../support/server';
import { detailFields, expectError } from '../support/expectations';
import { bearer, login, type Tokens } from '../support/users';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const ISSUER = 'https://id.example.test';

onEachDatabase('OpenID Connect clients in the admin API', (database) => {
  let server: TestServer;
  let admin: Tokens;
  const addClient = (body: object) => server.request.post('/admin/clients').set(bearer(admin.access_token)).send(body);
  const listClients = async () => (await server.request.get('/admin/clients').set(bearer(admin.access_token)).expect(200)).body as Array<Record<string, unknown>>;

  before(async () => {
    server = await startTessera({ ...ADMIN, ISSUER, RATE_LIMITS: 'off' }, database);
    admin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
  });
  after(() => server.close());

  it('registers a confidential web app with its redirect URIs and metadata, and lists them', async () => {
    const body = {
      name: 'Grafana',
      redirect_uris: ['https://grafana.example/login/generic_oauth', 'http://127.0.0.1/callback'],
      post_logout_redirect_uris: ['https://grafana.example/'],
      id_token_signed_response_alg: 'ES256',
      client_uri: 'https://grafana.example/',
      logo_uri: 'https://grafana.example/logo.png',
    };
    const res = await addClient(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.deep.include({
      ...body,
      confidential: true,
      token_endpoint_auth_method: null,
      first_party: false,
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(res.body.scope.split(' ')).to.include.members(['openid', 'profile', 'email', 'offline_access', 'tasks:read']);
    expect(res.body.client_secret).to.be.a('string');
    const listed = (await listClients()).find((client) => client.client_id === res.body.client_id);
    expect(listed).to.deep.equal(Object.fromEntries(Object.entries(res.body).filter(([key]) => key !== 'client_secret')));
  });

  it('registers a first-party public app with client_secret-less auth, and client_secret_post when asked', async () => {
    const spa = await addClient({ name: 'spa', confidential: false, first_party: true, redirect_uris: ['https://spa.example/'], grant_types: ['authorization_code'] });
    expect(spa.status, JSON.stringify(spa.body)).to.equal(201);
    expect(spa.body).to.include({ confidential: false, token_endpoint_auth_method: 'none', first_party: true, id_token_signed_response_alg: 'RS256' });
    expect(spa.body).not.to.have.property('client_secret');

    const native = await addClient({ name: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['com.example.app:/oauth'] });
    expect(native.body).to.include({ confidential: false, token_endpoint_auth_method: 'none' });

    const post = await addClient({ name: 'post', token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['https://post.example/cb'] });
    expect(post.body).to.include({ confidential: true, token_endpoint_auth_method: 'client_secret_post' });
    expect(post.body.client_secret).to.be.a('string');
  });

  it('keeps a client registered without OpenID Connect fields as before: client_credentials, no scope', async () => {
    const res = await addClient({ name: 'bot' });
    expect(res.body).to.include({ scope: '', confidential: true, token_endpoint_auth_method: null });
    expect(res.body.grant_types).to.deep.equal(['client_credentials']);
    expect(res.body.redirect_uris).to.deep.equal([]);
  });

  it('lets a client added without token_endpoint_auth_method send its secret either way, and holds one added with it to it', async () => {
    const grant = { grant_type: 'client_credentials' };
    const viaBasic = (client: { client_id: string; client_secret: string }) =>
      server.request.post('/token').auth(client.client_id, client.client_secret).type('form').send(grant);
    const inBody = (client: { client_id: string; client_secret: string }) =>
      server.request.post('/token').type('form').send({ ...grant, client_id: client.client_id, client_secret: client.client_secret });

    const either = (await addClient({ name: 'bot' }).expect(201)).body;
    expect((await viaBasic(either)).status).to.equal(200);
    expect((await inBody(either)).status).to.equal(200);

    const poster = (await addClient({ name: 'poster', token_endpoint_auth_method: 'client_secret_post' }).expect(201)).body;
    expectError(await viaBasic(poster), 401, 'invalid_client');
    expect((await inBody(poster)).status).to.equal(200);

    const basic = (await addClient({ name: 'basic', token_endpoint_auth_method: 'client_secret_basic' }).expect(201)).body;
    expect((await viaBasic(basic)).status).to.equal(200);
    expectError(await inBody(basic), 401, 'invalid_client');
  });

  it('refuses redirect URIs that could leak a code: relative, fragments, plain http, unsafe schemes', async () => {
    for (const uri of ['/callback', 'https://app.example/cb#x', 'http://app.example/cb', 'javascript:alert(1)', 'data:text/html,x', 'myapp:/cb']) {
      const res = await addClient({ name: 'bad', redirect_uris: [uri] });
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res), uri).to.include('redirect_uris.0');
    }
    const logout = await addClient({ name: 'bad', redirect_uris: ['https://ok.example/cb'], post_logout_redirect_uris: ['http://evil.example/'] });
    expect(detailFields(logout)).to.include('post_logout_redirect_uris.0');
  });

  it('refuses inconsistent or unknown metadata with the field named', async () => {
    const cases: Array<[object, string]> = [
      [{ name: 'x', grant_types: ['authorization_code'] }, 'redirect_uris'],
      [{ name: 'x', confidential: false, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://a.example/'] }, 'token_endpoint_auth_method'],
      [{ name: 'x', confidential: true, token_endpoint_auth_method: 'none', redirect_uris: ['https://a.example/'] }, 'token_endpoint_auth_method'],
      [{ name: 'x', token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method'],
      [{ name: 'x', id_token_signed_response_alg: 'HS256' }, 'id_token_signed_response_alg'],
      [{ name: 'x', client_uri: 'javascript:alert(1)' }, 'client_uri'],
      [{ name: 'x', logo_uri: 'not a url' }, 'logo_uri'],
      [{ name: 'x', redirect_uris: 'https://a.example/' }, 'redirect_uris'],
      [{ name: 'x', scope: 'openid everything' }, 'scope'],
    ];
    for (const [body, field] of cases) {
      const res = await addClient(body);
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res), JSON.stringify(body)).to.include(field);
    }
  });

  it('changes a client with PATCH /admin/clients/:id: redirect URIs, auth method, first-party, logo removed', async () => {
    const created = (await addClient({ name: 'legacy', redirect_uris: ['https://legacy.example/cb'], logo_uri: 'https://legacy.example/logo.png' }).expect(201)).body;
    const patch = (body: object) => server.request.patch(`/admin/clients/${created.client_id}`).set(bearer(admin.access_token)).send(body);
    const res = await patch({ redirect_uris: ['https://legacy.example/cb', 'https://legacy.example/cb2'], token_endpoint_auth_method: 'client_secret_post', first_party: true, logo_uri: null, name: 'Legacy' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.include({ name: 'Legacy', redirect_uris: ['https://legacy.example/cb', 'https://legacy.example/cb2'], token_endpoint_auth_method: 'client_secret_post', first_party: true });
    expect(res.body).to.not.have.any.keys('logo_uri', 'client_secret');
    expect((await listClients()).find((client) => client.client_id === created.client_id)).to.deep.equal(res.body);
    // The secret now goes in the body, as the client is registered now.
    const token = await server.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: created.client_id, client_secret: created.client_secret });
    expectError(token, 400, 'invalid_grant');
  });

  it('refuses a change that would break the client, and any change of the built-in one', async () => {
    const created = (await addClient({ name: 'web', redirect_uris: ['https://web.example/cb'] }).expect(201)).body;
    const patch = (id: string, body: object) => server.request.patch(`/admin/clients/${id}`).set(bearer(admin.access_token)).send(body);
    for (const [body, field] of [
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
      [{ redirect_uris: ['http://web.example/cb'] }, 'redirect_uris.0'],
      [{ confidential: false }, 'confidential'],
      [{}, '(body)'],
    ] as Array<[object, string]>) {
      const res = await patch(created.client_id, body);
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res), JSON.stringify(body)).to.include(field);
    }
    expectError(await patch('tessera', { first_party: false }), 409, 'conflict');
    expectError(await patch('c_nobody', { first_party: false }), 404, 'not_found');
  });

  it("shows the built-in client as first-party, public, with the issuer's web client as its redirect URIs", async () => {
    const builtIn = (await listClients()).find((client) => client.client_id === 'tessera');
    expect(builtIn).to.deep.include({
      confidential: false,
      first_party: true,
      token_endpoint_auth_method: 'none',
      redirect_uris: [`${ISSUER}/`],
      post_logout_redirect_uris: [`${ISSUER}/`],
      grant_types: ['password', 'refresh_token', 'authorization_code'],
    });
  });

  it('moves the built-in client to a new ISSUER when a process starts with it', async () => {
    const moved = await startSecondProcess(server, { ISSUER: 'https://moved.example.test' });
    try {
      const builtIn = await moved.tessera.services.clients.queries.find('default', 'tessera');
      expect(builtIn?.redirect_uris).to.deep.equal(['https://moved.example.test/']);
    } finally {
      await moved.close();
    }
  });

  it("gives a tenant's built-in client the tenant's issuer", async () => {
    await server.request.post('/admin/tenants').set(bearer(admin.access_token)).send({ id: 'acme' }).expect(201);
    const acme = await server.tessera.tenants.get('acme');
    const builtIn = await acme?.clients.queries.find('acme', 'tessera');
    expect(builtIn?.redirect_uris).to.deep.equal([`${ISSUER}/t/acme/`]);
    expect(builtIn?.post_logout_redirect_uris).to.deep.equal([`${ISSUER}/t/acme/`]);
  });

  it('grants the OpenID Connect scopes through the password grant only when asked', async () => {
    expect(admin.scope.split(' ')).to.not.include.members(['openid']);
    const plain = await login(server, 'root', ADMIN.ADMIN_PASSWORD);
    expect(plain.scope.split(' ')).to.not.include('openid').and.not.include('profile');
    const oidc = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'openid profile email offline_access tasks:read' });
    expect(oidc.scope.split(' ')).to.have.members(['openid', 'profile', 'email', 'offline_access', 'tasks:read']);
  });
});

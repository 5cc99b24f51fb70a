import { expect } from 'chai';
import { closeAll, connect, expectRefused, socketPath } from '../gateway/support';
import { expectError } from '../support/expectations';
import { decodeJwt } from '../support/oauth';
import { nextLink } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, signup, type Tokens } from '../support/users';
import { call, upgrade } from '../security/support';
import { addTenant, asTenant, ISSUER } from './support';

const ACME_ISSUER = `${ISSUER}/t/acme`;

onEachDatabase('tenants: addresses (SPEC §8)', (database) => {
  let server: TestServer;
  let acme: TestServer;
  let alice: Tokens;

  before(async () => {
    server = await startServer({ ISSUER, RATE_LIMITS: 'off' }, database);
    await addTenant(server, 'acme');
    acme = await asTenant(server, 'acme');
    alice = (await newUser(acme, 'alice')).tokens;
  });
  after(() => server.close());

  describe('unknown tenants', () => {
    it('answers 404 with the SPEC error body on every path of a tenant that does not exist', async () => {
      expectError(await server.request.get('/t/nope/.well-known/jwks.json'), 404, 'not_found');
      expectError(await server.request.post('/t/nope/token').type('form').send({ grant_type: 'password', username: 'a', password: 'b' }), 404, 'not_found');
      expectError(await server.request.get('/t/nope/me').set(bearer(alice.access_token)), 404, 'not_found');
      expectError(await server.request.get('/.well-known/oauth-authorization-server/t/nope'), 404, 'not_found');
    });

    it('answers 404 for ids no tenant can have, and for the built-in tenant anywhere but at the root', async () => {
      for (const path of ['/t/ACME/healthz', '/t/-acme/healthz', '/t/a_b/healthz', '/t/default/healthz', '/.well-known/oauth-authorization-server/t/default']) {
        expectError(await server.request.get(path), 404, 'not_found');
      }
      expect((await server.request.get('/healthz')).status).to.equal(200);
    });

    it('remembers nothing of an id that names no tenant: a tenant added under it afterwards is served at once, on REST and the socket', async () => {
      for (let i = 0; i < 50; i += 1) {
        expectError(await server.request.get(`/t/later${i}/healthz`), 404, 'not_found');
        await expectRefused(server, `/t/later${i}${socketPath('alice', alice.access_token)}`, 404, 'not_found');
      }
      await addTenant(server, 'later7');
      const later = await asTenant(server, 'later7');
      expect((await later.request.get('/healthz')).status).to.equal(200);
      const socket = await connect(later, socketPath('zoe', (await newUser(later, 'zoe')).tokens.access_token));
      expect(socket.frames[0]).to.include({ type: 'welcome', username: 'zoe' });
      await closeAll(server, [socket]);
    });

    it('refuses the socket of a tenant that does not exist before the upgrade (404)', async () => {
      await expectRefused(server, `/t/nope${socketPath('alice', alice.access_token)}`, 404, 'not_found');
    });

    it("answers 404 for a path acme's routes do not have, rather than serving the built-in tenant's", async () => {
      expectError(await acme.request.get('/nothing-here'), 404, 'not_found');
      expectError(await acme.request.get('/admin/tenants').set(bearer(alice.access_token)), 404, 'not_found');
    });
  });

  describe('metrics', () => {
    it('labels requests under /t/<id> by the route template /t/:tenant, never by tenant id', async () => {
      expect((await acme.request.get('/me').set(bearer(alice.access_token))).status).to.equal(200);
      const metrics = await server.request.get('/metrics');
      expect(metrics.status).to.equal(200);
      expect(metrics.text).to.match(/http_requests_total\{[^}]*route="\/t\/:tenant\/me"/);
      expect(metrics.text).not.to.include('/t/acme');
    });
  });

  describe('discovery', () => {
    it('publishes acme\'s metadata with its own issuer and endpoints under /t/acme, at both RFC 8414 URLs', async () => {
      const [under, inserted, root] = await Promise.all([
        acme.request.get('/.well-known/oauth-authorization-server'),
        server.request.get('/.well-known/oauth-authorization-server/t/acme'),
        server.request.get('/.well-known/oauth-authorization-server'),
      ]);
      expect(under.status).to.equal(200);
      expect(under.body).to.include({
        issuer: ACME_ISSUER,
        token_endpoint: `${ACME_ISSUER}/token`,
        jwks_uri: `${ACME_ISSUER}/.well-known/jwks.json`,
        revocation_endpoint: `${ACME_ISSUER}/revoke`,
        introspection_endpoint: `${ACME_ISSUER}/introspect`,
      });
      expect(inserted.body).to.deep.equal(under.body);
      expect(root.body).to.include({ issuer: ISSUER, token_endpoint: `${ISSUER}/token` });
    });

    it("signs acme's tokens with keys only acme's JWKS publishes, verifiable with its issuer and audience", async () => {
      const { createLocalJWKSet, jwtVerify } = await import('jose');
      const jwks = async (tenant: TestServer) => (await tenant.request.get('/.well-known/jwks.json').expect(200)).body as { keys: Array<{ kid: string }> };
      const [own, root] = [await jwks(acme), await jwks(server)];
      expect(own.keys.map((key) => key.kid)).to.not.include.members(root.keys.map((key) => key.kid));
      const { payload } = await jwtVerify(alice.access_token, createLocalJWKSet(own as never), { issuer: ACME_ISSUER, audience: ACME_ISSUER, typ: 'at+jwt' });
      expect(payload.username).to.equal('alice');
      let refused = false;
      await jwtVerify(alice.access_token, createLocalJWKSet(root as never)).catch(() => (refused = true));
      expect(refused, 'the built-in tenant\'s keys do not verify acme\'s token').to.equal(true);
    });

    it("serves acme's OpenAPI document with acme's issuer as its server, without the operators' tenant routes", async () => {
      const [own, root] = [(await acme.request.get('/openapi.json')).body, (await server.request.get('/openapi.json')).body];
      expect(own.servers).to.deep.equal([{ url: ACME_ISSUER }]);
      expect(root.servers).to.deep.equal([{ url: ISSUER }]);
      expect(own.info.description).to.include('/t/{tenant}');
      expect(Object.keys(own.paths)).to.include('/admin/tenant').and.not.include('/admin/tenants');
      expect(Object.keys(root.paths)).to.include.members(['/admin/tenant', '/admin/tenants', '/admin/tenants/{id}']);
    });
  });

  describe('links', () => {
    it('points Location and Link headers under /t/acme', async () => {
      const auth = bearer(alice.access_token);
      const created = await acme.request.post('/tasks').set(auth).send({ title: 'one' }).expect(201);
      expect(created.headers.location).to.equal(`/t/acme/tasks/${created.body.id as string}`);
      expect((await server.request.get(created.headers.location as string).set(auth)).body).to.include({ title: 'one' });
      await acme.request.post('/tasks').set(auth).send({ title: 'two' }).expect(201);
      const page = await acme.request.get('/tasks?limit=1').set(auth).expect(200);
      const next = nextLink(page);
      expect(next).to.match(/^\/t\/acme\/tasks\?/);
      expect(((await server.request.get(next!).set(auth)).body as unknown[]).length).to.equal(1);
      const signedUp = await acme.request.post('/signup').send({ username: 'carol', password: 'carol password' }).expect(201);
      expect(signedUp.headers.location).to.equal('/t/acme/me');
    });

    it("keeps acme's refresh cookie to acme's paths", async () => {
      const res = await acme.request.post('/token').type('form').send({ grant_type: 'password', username: 'carol', password: 'carol password', refresh_in_cookie: 'true' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((line) => line.startsWith('tessera_rt='));
      expect(cookie).to.match(/; Path=\/t\/acme(;|$)/);
    });
  });

  describe('sockets', () => {
    it("opens acme's socket at /t/acme/ws/:username with an acme token", async () => {
      const socket = await connect(acme, socketPath('alice', alice.access_token));
      expect(socket.frames[0]).to.include({ type: 'welcome', username: 'alice' });
      await closeAll(server, [socket]);
    });

    it('never resolves dot-segments: a path under /t/acme that climbs out of it reaches no other tenant, on the socket as on REST (404)', async () => {
      const bob = (await newUser(server, 'bob')).tokens;
      // Sent as is: a WebSocket or HTTP client library would resolve them before sending.
      for (const climb of ['/t/acme/../..', '/t/acme/%2e%2e/%2e%2e', '/t/acme/./../..']) {
        const socket = await upgrade(server, `${climb}/ws/bob?token=${encodeURIComponent(bob.access_token)}`);
        expect(socket.status, `${climb}/ws/bob`).to.equal(404);
        expect((await call(server, { path: `${climb}/me`, headers: bearer(bob.access_token) })).status, `${climb}/me`).to.equal(404);
      }
    });
  });
});

describe('tenants: host names (TENANT_HOSTS)', () => {
  let server: TestServer;
  let acmeAlice: Tokens;
  const onHost = (host: string) => ({
    get: (path: string) => server.request.get(path).set('Host', host),
    post: (path: string) => server.request.post(path).set('Host', host),
  });

  before(async () => {
    server = await startServer({ ISSUER, TENANT_HOSTS: 'acme.example.test=acme, ghost.example.test=ghost', RATE_LIMITS: 'off' });
    await addTenant(server, 'acme');
    await signup(await asTenant(server, 'acme'), 'alice');
    acmeAlice = await login(await asTenant(server, 'acme'), 'alice');
  });
  after(() => server.close());

  it('serves the tenant a host name maps to at the root of that host, whatever the case and port', async () => {
    for (const host of ['acme.example.test', 'ACME.Example.Test:8443']) {
      const res = await onHost(host).get('/.well-known/oauth-authorization-server');
      expect(res.body.issuer, host).to.equal(ACME_ISSUER);
    }
    const token = await onHost('acme.example.test').post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expect(token.status, JSON.stringify(token.body)).to.equal(200);
    expect(decodeJwt(token.body.access_token as string).claims.iss).to.equal(ACME_ISSUER);
    // The same tenant, the same token, at its path on any other host.
    expect((await server.request.get('/t/acme/me').set(bearer(token.body.access_token as string))).body).to.include({ username: 'alice' });
    expect((await onHost('acme.example.test').get('/me').set(bearer(acmeAlice.access_token))).status).to.equal(200);
  });

  it('serves only its tenant on a mapped host: no /t/<id> paths there, and the built-in tenant refuses its tokens', async () => {
    expectError(await onHost('acme.example.test').get('/t/acme/healthz'), 404, 'not_found');
    expectError(await server.request.get('/me').set(bearer(acmeAlice.access_token)), 401, 'invalid_token');
  });

  it('picks the tenant by the Host header alone: X-Forwarded-Host and an absolute URL naming a mapped host change nothing', async () => {
    const forwarded = await server.request.get('/.well-known/oauth-authorization-server').set('X-Forwarded-Host', 'acme.example.test');
    expect(forwarded.body.issuer).to.equal(ISSUER);
    const absolute = await call(server, { path: 'http://acme.example.test/.well-known/oauth-authorization-server' });
    expect((absolute.body as { issuer?: string } | undefined)?.issuer).to.not.equal(ACME_ISSUER);
  });

  it('answers 404 on a host mapped to a tenant that does not exist', async () => {
    expectError(await onHost('ghost.example.test').get('/healthz'), 404, 'not_found');
    await expectRefused(server, socketPath('alice', acmeAlice.access_token), 404, 'not_found', { headers: { Host: 'ghost.example.test' } });
  });

  it("opens the mapped tenant's socket at /ws/:username on its host", async () => {
    const socket = await connect(server, socketPath('alice', acmeAlice.access_token), { headers: { Host: 'acme.example.test' } });
    expect(socket.frames[0]).to.include({ type: 'welcome', username: 'alice' });
    await closeAll(server, [socket]);
    await expectRefused(server, socketPath('alice', acmeAlice.access_token), 401, 'invalid_token');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTessera } from '../../src/tessera';
import { decodeJwt } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, signup } from '../support/users';

const ISSUER = 'https://tessera.example.test';
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'sid', 'username', 'roles'];

const jose = () => import('jose');

interface JwkSet {
  keys: Array<{ kid: string; kty: string; alg: string; use: string; d?: string }>;
}

async function jwks(server: TestServer): Promise<JwkSet> {
  const res = await server.request.get('/.well-known/jwks.json');
  expect(res.status).to.equal(200);
  return res.body as JwkSet;
}

/** Verifies an access token the way a resource server would: published keys, issuer, audience, RFC 9068 typ. */
async function verifyWithJwks(server: TestServer, token: string) {
  const { createLocalJWKSet, jwtVerify } = await jose();
  const { issuer } = server.tessera.services.config;
  return jwtVerify(token, createLocalJWKSet(await jwks(server)), { issuer, audience: issuer, typ: 'at+jwt' });
}

const me = (server: TestServer, token: string) => server.request.get('/me').set(bearer(token));

describe('authorization server metadata (RFC 8414)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ ISSUER });
  });
  after(() => server.close());

  it('publishes the issuer and absolute endpoints under it', async () => {
    const res = await server.request.get('/.well-known/oauth-authorization-server');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      revocation_endpoint: `${ISSUER}/revoke`,
      introspection_endpoint: `${ISSUER}/introspect`,
    });
  });

  it('lists the supported grant types, scopes and client authentication methods', async () => {
    const { body } = await server.request.get('/.well-known/oauth-authorization-server');
    expect(body.grant_types_supported).to.have.members(['password', 'refresh_token', 'client_credentials', 'authorization_code', 'urn:tessera:params:oauth:grant-type:mfa']);
    expect(body.scopes_supported).to.include.members([
      'tasks:read', 'tasks:write', 'calendar:read', 'calendar:write', 'messages:read', 'messages:write', 'admin', 'push',
    ]);
    expect(body.token_endpoint_auth_methods_supported).to.have.members(['client_secret_basic', 'client_secret_post', 'none']);
  });
});

onEachDatabase('signing keys and JWKS', (database) => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ ISSUER, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'root-password' }, database);
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('publishes a cacheable JWKS of public keys only', async () => {
    const res = await server.request.get('/.well-known/jwks.json');
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.match(/max-age=[1-9]/).and.not.include('no-store');
    const keys = res.body.keys as JwkSet['keys'];
    // ES256 signs access tokens (JWT_ALG); RS256 and ES256 sign id tokens (SPEC §10).
    expect(keys.map((key) => [key.kty, key.alg, key.use])).to.have.deep.members([['EC', 'ES256', 'sig'], ['RSA', 'RS256', 'sig']]);
    for (const key of keys) {
      expect(key.kid).to.be.a('string').and.not.be.empty;
      expect(key).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi', 'k');
    }
  });

  it('signs access tokens that jose verifies against the JWKS as RFC 9068 tokens with every claim', async () => {
    const tokens = await login(server, 'alice');
    const { payload, protectedHeader } = await verifyWithJwks(server, tokens.access_token);
    expect(protectedHeader).to.include({ typ: 'at+jwt', alg: 'ES256' });
    expect((await jwks(server)).keys.map((key) => key.kid)).to.include(protectedHeader.kid);
    expect(payload).to.include.all.keys(...CLAIMS);
    expect(payload).to.include({ iss: ISSUER, aud: ISSUER, client_id: 'tessera', username: 'alice', scope: tokens.scope });
    expect(payload.exp! - payload.iat!).to.equal(900);
    expect(payload.roles).to.deep.equal([]);
  });

  it('rotates keys through POST /admin/keys/rotate: new tokens use the new key, old ones keep working', async () => {
    const admin = await login(server, 'root', 'root-password', { scope: 'admin' });
    await expectRotation(server, async () => {
      const res = await server.request.post('/admin/keys/rotate').set(bearer(admin.access_token));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.kid as string;
    });
  });

  it('rotates keys through the key ring service as the CLI does, with the same effect', async () => {
    await expectRotation(server, () => server.tessera.services.keys.rotate());
  });

  describe('with JWT_ALG=RS256', () => {
    let rs: TestServer;
    before(async () => {
      rs = await startServer({ ISSUER, JWT_ALG: 'RS256' }, database);
      await signup(rs, 'alice');
    });
    after(() => rs.close());

    it('publishes RSA keys and signs tokens that jose verifies with RS256', async () => {
      expect((await jwks(rs)).keys.map((key) => [key.kty, key.alg])).to.deep.include(['RSA', 'RS256']);
      const tokens = await login(rs, 'alice');
      const { protectedHeader } = await verifyWithJwks(rs, tokens.access_token);
      expect(protectedHeader).to.include({ typ: 'at+jwt', alg: 'RS256' });
      expect((await me(rs, tokens.access_token)).status).to.equal(200);
    });
  });
});

/** The token signed before `rotate` stays valid, the next one names the new key, and the JWKS lists both. */
async function expectRotation(server: TestServer, rotate: () => Promise<string>): Promise<void> {
  const before = await login(server, 'alice');
  const oldKid = decodeJwt(before.access_token).header.kid;
  const newKid = await rotate();
  expect(newKid).to.be.a('string').and.not.equal(oldKid);
  const after = await login(server, 'alice');
  expect(decodeJwt(after.access_token).header.kid).to.equal(newKid);
  expect((await jwks(server)).keys.map((key) => key.kid)).to.include.members([oldKid, newKid]);
  // `before` is presented for the first time only now, so no cached verification can help it.
  expect((await me(server, before.access_token)).status).to.equal(200);
  await verifyWithJwks(server, before.access_token);
  await verifyWithJwks(server, after.access_token);
}

describe('signing with JWT_ALG=HS256', () => {
  const secret = randomBytes(32).toString('hex');
  let server: TestServer;
  before(async () => {
    server = await startServer({ JWT_ALG: 'HS256', JWT_SECRET: secret });
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('publishes only the id token keys, never the secret, and signs access tokens with the shared secret that work on /me', async () => {
    const published = (await jwks(server)).keys;
    expect(published.map((key) => key.alg)).to.have.members(['ES256', 'RS256']);
    for (const key of published) expect(key).to.not.have.any.keys('k', 'd');
    const tokens = await login(server, 'alice');
    expect(decodeJwt(tokens.access_token).header).to.include({ typ: 'at+jwt', alg: 'HS256' });
    expect((await me(server, tokens.access_token)).status).to.equal(200);
    const { jwtVerify } = await jose();
    const { issuer } = server.tessera.services.config;
    await jwtVerify(tokens.access_token, new TextEncoder().encode(secret), { issuer, audience: issuer, typ: 'at+jwt' });
  });
});

describe('signing keys across a restart', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `work` against a tessera on loopback over the given SQLite file (startServer would make a fresh database). */
  async function withTessera<T>(databaseUrl: string, work: (server: TestServer) => Promise<T>): Promise<T> {
    const config = loadConfig({ DATABASE_URL: databaseUrl, PASSWORD_HASH_COST: '10', LOG_LEVEL: 'silent', PORT: '0' });
    const tessera = await createTessera(config, { logger: createLogger(config.logLevel) });
    try {
      const port = await tessera.listen(0, '127.0.0.1');
      const server = { tessera, port, url: `http://127.0.0.1:${port}`, databaseUrl, request: supertest(tessera.server), close: () => tessera.close() };
      return await work(server);
    } finally {
      await tessera.close();
    }
  }

  it('keeps its keys in the database: tokens signed before a restart verify after it', async () => {
    const databaseUrl = `sqlite:${join(dir, 'tessera.db')}`;
    const { tokens, kids, es256 } = await withTessera(databaseUrl, async (first) => {
      await signup(first, 'alice');
      const keys = (await jwks(first)).keys;
      return { tokens: await login(first, 'alice'), kids: keys.map((key) => key.kid), es256: keys.find((key) => key.alg === 'ES256')?.kid };
    });
    await withTessera(databaseUrl, async (second) => {
      expect((await jwks(second)).keys.map((key) => key.kid)).to.deep.equal(kids);
      expect((await me(second, tokens.access_token)).status).to.equal(200);
      expect(decodeJwt((await login(second, 'alice')).access_token).header.kid).to.equal(es256);
    });
  });
});

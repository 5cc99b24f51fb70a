import { expect } from 'chai';
import type { UserRow } from '../../src/db/queries/users';
import { accessTokenHash, idTokenFor, signIdToken, type IdTokenInput } from '../../src/oidc/id-token';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { login, signup } from '../support/users';

const ISSUER = 'https://id.example.test';
const jose = () => import('jose');

onEachDatabase('id tokens', (database) => {
  let server: TestServer;
  let alice: UserRow;

  before(async () => {
    server = await startServer({ ISSUER }, database);
    await server.request.post('/signup').send({ username: 'alice', password: 'correct horse battery', email: 'alice@example.test' }).expect(201);
    await signup(server, 'bob');
    alice = (await server.tessera.services.users.queries.findByUsername('default', 'alice'))!;
  });
  after(() => server.close());

  const input = (overrides: Partial<IdTokenInput> = {}): IdTokenInput => ({
    issuer: ISSUER,
    clientId: 'c_relying_party',
    alg: 'RS256',
    user: alice,
    scopes: ['openid'],
    sessionId: 'session-1',
    authTime: Date.UTC(2026, 11, 8, 1, 0, 0),
    ttl: 900,
    ...overrides,
  });

  /** Verifies as a relying party does: the published JWKS, the issuer, the client as audience. */
  async function verify(token: string) {
    const { createLocalJWKSet, jwtVerify } = await jose();
    const jwks = (await server.request.get('/.well-known/jwks.json').expect(200)).body;
    return jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'c_relying_party', typ: 'JWT' });
  }

  for (const alg of ['RS256', 'ES256'] as const) {
    it(`signs ${alg} id tokens that jose verifies against the JWKS, with every claim`, async () => {
      const { access_token: accessToken } = await login(server, 'alice');
      const now = Date.now();
      const token = signIdToken(server.tessera.services.keys, input({ alg, nonce: 'n-0S6_WzA2Mj', accessToken }), now);
      const { payload, protectedHeader } = await verify(token);
      expect(protectedHeader).to.include({ alg, typ: 'JWT' });
      const published = (await server.request.get('/.well-known/jwks.json')).body.keys as Array<{ kid: string; alg: string; use: string }>;
      expect(published.find((key) => key.kid === protectedHeader.kid)).to.include({ alg, use: 'sig' });
      expect(payload).to.deep.equal({
        iss: ISSUER,
        sub: alice.id,
        aud: 'c_relying_party',
        exp: Math.floor(now / 1000) + 900,
        iat: Math.floor(now / 1000),
        auth_time: Date.UTC(2026, 11, 8, 1, 0, 0) / 1000,
        nonce: 'n-0S6_WzA2Mj',
        azp: 'c_relying_party',
        sid: 'session-1',
        at_hash: accessTokenHash(accessToken),
      });
    });
  }

  it('computes at_hash as OIDC Core §3.1.3.6 says (the example of OIDC Core Appendix A.3)', () => {
    expect(accessTokenHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y')).to.equal('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('leaves out nonce and at_hash when there is none', async () => {
    const { payload } = await verify(signIdToken(server.tessera.services.keys, input()));
    expect(payload).to.not.have.any.keys('nonce', 'at_hash', 'preferred_username', 'email', 'email_verified');
  });

  it('releases preferred_username with profile, and email with email_verified with email', async () => {
    const profile = (await verify(signIdToken(server.tessera.services.keys, input({ scopes: ['openid', 'profile'] })))).payload;
    expect(profile).to.include({ preferred_username: 'alice' }).and.not.have.any.keys('email', 'email_verified');
    const email = (await verify(signIdToken(server.tessera.services.keys, input({ scopes: ['openid', 'email'] })))).payload;
    expect(email).to.include({ email: 'alice@example.test', email_verified: false }).and.not.have.property('preferred_username');
  });

  it('says the address is verified once a code mailed there came back, and gives no email claims to an account without one', async () => {
    await server.tessera.services.users.queries.update('default', alice.id, { email_verified_at: Date.now() });
    const verified = (await server.tessera.services.users.queries.findById('default', alice.id))!;
    const { payload } = await verify(signIdToken(server.tessera.services.keys, input({ user: verified, scopes: ['openid', 'email'] })));
    expect(payload).to.include({ email: 'alice@example.test', email_verified: true });
    const bob = (await server.tessera.services.users.queries.findByUsername('default', 'bob'))!;
    const none = (await verify(signIdToken(server.tessera.services.keys, input({ user: bob, scopes: ['openid', 'email', 'profile'] })))).payload;
    expect(none).to.include({ sub: bob.id, preferred_username: 'bob' }).and.not.have.any.keys('email', 'email_verified');
  });

  it("makes a token response's id token with the tenant's issuer, the client's algorithm and ACCESS_TOKEN_TTL", async () => {
    const { access_token: accessToken, scope } = await login(server, 'alice', 'correct horse battery', { scope: 'openid profile' });
    const now = Date.now();
    const client = { id: 'c_relying_party', id_token_signed_response_alg: 'ES256' as const };
    const token = idTokenFor(server.tessera.services, { client, user: alice, scopes: scope.split(' '), sessionId: 's-2', authTime: now, accessToken }, now);
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader.alg).to.equal('ES256');
    expect(payload).to.include({ iss: ISSUER, aud: 'c_relying_party', sid: 's-2', preferred_username: 'alice', at_hash: accessTokenHash(accessToken) });
    expect(payload.exp! - payload.iat!).to.equal(server.tessera.services.config.accessTokenTtl);
  });

  it('keeps id tokens verifiable across a key rotation, and signs new ones with the new key', async () => {
    const before = signIdToken(server.tessera.services.keys, input());
    await server.tessera.services.keys.rotate();
    const after = signIdToken(server.tessera.services.keys, input());
    const [old, next] = await Promise.all([verify(before), verify(after)]);
    expect(next.protectedHeader.kid).to.not.equal(old.protectedHeader.kid);
  });
});

import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { AccessTokenGrant } from '../../src/auth/access-tokens';
import { expectError, expectInvalidToken } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { bearer, newUser, type Tokens } from '../support/users';

const HOUR = 3_600_000;

/** base64url JSON of a JWT segment, and back. */
const decodeSegment = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
const encodeSegment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer token check (RFC 6750, RFC 9068)', () => {
  let server: TestServer;
  let tokens: Tokens;
  let claims: jwt.JwtPayload;

  const getMe = (authorization?: string) => {
    const req = server.request.get('/me');
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  /** A token with the real token's claims (changed by `overrides`), signed with the server's signing key. */
  function forge(overrides: jwt.JwtPayload = {}, header: Partial<jwt.JwtHeader> = {}): string {
    const key = server.tessera.services.keys.signingKey();
    return jwt.sign({ ...claims, ...overrides }, key.privateKey, {
      algorithm: key.alg,
      header: { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header },
    });
  }

  function grant(): AccessTokenGrant {
    return {
      subject: claims.sub!,
      username: claims.username as string,
      clientId: claims.client_id as string,
      scopes: (claims.scope as string).split(' '),
      roles: claims.roles as string[],
      sessionId: claims.sid as string,
    };
  }

  async function publicKeyPem(): Promise<string> {
    const kid = server.tessera.services.keys.signingKey().kid;
    const jwks = await server.request.get('/.well-known/jwks.json').expect(200);
    const jwk = (jwks.body.keys as JsonWebKey[]).find((candidate) => candidate.kid === kid);
    expect(jwk, 'the signing key is published').to.not.equal(undefined);
    return createPublicKey({ key: jwk!, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
  }

  before(async () => {
    server = await startServer();
    tokens = (await newUser(server, 'alice')).tokens;
    claims = jwt.decode(tokens.access_token) as jwt.JwtPayload;
  });
  after(() => server.close());

  it('accepts the issued token and a token made the same way by the test (control)', async () => {
    expect((await getMe(`Bearer ${tokens.access_token}`)).status).to.equal(200);
    expect((await getMe(`Bearer ${forge({ jti: 'forged-control' })}`)).status).to.equal(200);
    const fresh = server.tessera.services.accessTokens.issue(grant());
    expect((await getMe(`Bearer ${fresh.token}`)).status).to.equal(200);
  });

  it('answers a request with no token 401 unauthorized and a bare Bearer challenge', async () => {
    const res = await getMe();
    expectError(res, 401, 'unauthorized');
    expect(res.headers['www-authenticate']).to.equal('Bearer realm="tessera"');
  });

  it('treats another authorization scheme as no token at all', async () => {
    const res = await getMe(`Basic ${Buffer.from('alice:secret').toString('base64')}`);
    expectError(res, 401, 'unauthorized');
    expect(res.headers['www-authenticate']).to.equal('Bearer realm="tessera"');
  });

  const refusals: Array<[string, () => string | Promise<string>]> = [
    ['a token that is not a JWT', () => 'not-a-jwt'],
    ['a token that expired an hour ago', () => server.tessera.services.accessTokens.issue(grant(), Date.now() - HOUR).token],
    [
      'a token that expired 6 seconds ago (beyond the 5 s leeway)',
      () => server.tessera.services.accessTokens.issue(grant(), Date.now() - (server.tessera.services.config.accessTokenTtl + 6) * 1000).token,
    ],
    [
      'a token with one signature byte flipped',
      () => {
        const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
        const bytes = Buffer.from(signature, 'base64url');
        bytes[10] = bytes[10]! ^ 0x01;
        return `${header}.${payload}.${bytes.toString('base64url')}`;
      },
    ],
    [
      'a token whose payload was changed after signing',
      () => {
        const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
        const changed = { ...decodeSegment(payload), scope: `${claims.scope as string} admin`, roles: ['admin'] };
        return `${header}.${encodeSegment(changed)}.${signature}`;
      },
    ],
    [
      'a token signed with alg none',
      () => jwt.sign(claims, null, { algorithm: 'none', header: { alg: 'none', typ: 'at+jwt', kid: server.tessera.services.keys.signingKey().kid } }),
    ],
    [
      "an HS256 token keyed with the server's public key",
      async () =>
        jwt.sign(claims, await publicKeyPem(), {
          algorithm: 'HS256',
          header: { alg: 'HS256', typ: 'at+jwt', kid: server.tessera.services.keys.signingKey().kid },
        }),
    ],
    [
      "a token signed by another key under the server's key id",
      () => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return jwt.sign(claims, privateKey, { algorithm: 'ES256', header: { alg: 'ES256', typ: 'at+jwt', kid: server.tessera.services.keys.signingKey().kid } });
      },
    ],
    ['a token for another audience', () => forge({ aud: 'https://elsewhere.example' })],
    ['a token from another issuer', () => forge({ iss: 'https://elsewhere.example' })],
    ['a token of typ JWT instead of at+jwt', () => forge({}, { typ: 'JWT' })],
    ['a token with an unknown key id', () => forge({}, { kid: 'no-such-key' })],
    ['a token without a session id', () => forge({ sid: undefined })],
  ];

  for (const [name, make] of refusals) {
    it(`refuses ${name} with 401 invalid_token`, async () => {
      const token = await make();
      expect(token).to.not.equal(tokens.access_token);
      expectInvalidToken(await getMe(`Bearer ${token}`));
    });
  }

  it('refuses a token of a revoked session, though it was accepted a moment before', async () => {
    const { tokens: bob } = await newUser(server, 'bob');
    expect((await getMe(`Bearer ${bob.access_token}`)).status).to.equal(200);
    expect((await server.request.post('/logout').set(bearer(bob.access_token))).status).to.equal(204);
    const res = await getMe(`Bearer ${bob.access_token}`);
    expectInvalidToken(res);
    expect(res.headers['www-authenticate']).to.match(/error_description="[^"]+"/);
    expect((await getMe(`Bearer ${tokens.access_token}`)).status, 'another session').to.equal(200);
  });
});

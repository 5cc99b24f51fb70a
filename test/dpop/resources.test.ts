import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt } from '../support/oauth';
import { expectInvalidToken } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, signup, type Tokens } from '../support/users';
import { dpopHeaders, dpopLogin, expectDpopChallenge, jose, newKey, proof, type ProofKey } from './support';

describe('DPoP at resources: Authorization: DPoP with a proof per request (RFC 9449 §7, SPEC §11)', () => {
  let server: TestServer;
  let key: ProofKey;
  let tokens: Tokens;
  const now = () => Math.floor(Date.now() / 1000);
  const me = () => `${server.url}/me`;
  const getMe = (headers: Record<string, string | string[]>) => server.request.get('/me').set(headers);
  const withProof = async (options: Parameters<typeof proof>[1], proofKey = key) => getMe({ Authorization: `DPoP ${tokens.access_token}`, DPoP: await proof(proofKey, options) });

  before(async () => {
    server = await startServer();
    await signup(server, 'alice');
    key = await newKey();
    tokens = await dpopLogin(server, 'alice', key);
  });
  after(async () => {
    await server.close();
  });

  it('binds the access token to the key of the proof the token request carried (cnf.jkt)', () => {
    expect(tokens.token_type).to.equal('DPoP');
    expect(decodeJwt(tokens.access_token).claims.cnf).to.deep.equal({ jkt: key.jkt });
  });

  it('serves a bound token sent as DPoP with a fresh proof for the request', async () => {
    const res = await getMe(await dpopHeaders(server, key, tokens.access_token));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.username).to.equal('alice');
  });

  it('refuses a bound token sent as Bearer (no downgrade, RFC 9449 §7.2)', async () => {
    expectDpopChallenge(await getMe(bearer(tokens.access_token)), 'invalid_token');
    expectDpopChallenge(await getMe({ ...bearer(tokens.access_token), DPoP: await proof(key, { htu: me(), token: tokens.access_token }) }), 'invalid_token');
  });

  it('refuses a bound token without a proof', async () => {
    expectDpopChallenge(await getMe({ Authorization: `DPoP ${tokens.access_token}` }), 'invalid_dpop_proof');
  });

  it('refuses a proof replayed in the same process', async () => {
    const headers = await dpopHeaders(server, key, tokens.access_token);
    expect((await getMe(headers)).status).to.equal(200);
    expectDpopChallenge(await getMe(headers), 'invalid_dpop_proof');
  });

  it('refuses a proof signed by another key than the token is bound to', async () => {
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token }, await newKey()), 'invalid_dpop_proof');
  });

  it('refuses a proof for another method or another URL', async () => {
    expectDpopChallenge(await withProof({ htm: 'POST', htu: me(), token: tokens.access_token }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: `${server.url}/tasks`, token: tokens.access_token }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: `http://elsewhere.test/me`, token: tokens.access_token }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: me().replace('http:', 'https:'), token: tokens.access_token }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: 'not a url', token: tokens.access_token }), 'invalid_dpop_proof');
  });

  it('compares htu as RFC 9449 §4.3 says: without query and fragment, case-insensitive scheme and host, normalised path', async () => {
    const port = new URL(server.url).port;
    for (const htu of [`${me()}?a=1#frag`, `HTTP://127.0.0.1:${port}/me`, `http://127.0.0.1:${port}/./x/../me`, `http://127.0.0.1:${port}/%6De`]) {
      const res = await withProof({ htu, token: tokens.access_token });
      expect(res.status, `${htu}: ${JSON.stringify(res.body)}`).to.equal(200);
    }
  });

  it('refuses a stale proof and one from the future (iat more than 60 s away)', async () => {
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, iat: now() - 120 }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, iat: now() + 120 }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, claims: { iat: 'yesterday' } }), 'invalid_dpop_proof');
  });

  it('refuses a proof whose ath is of another token, or that has none', async () => {
    const other = await dpopLogin(server, 'alice', key);
    expectDpopChallenge(await withProof({ htu: me(), token: other.access_token }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: me() }), 'invalid_dpop_proof');
  });

  it('refuses a proof without jwk, with a private key in it, or of another typ', async () => {
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, header: { jwk: undefined } }), 'invalid_dpop_proof');
    const { exportJWK } = await jose();
    const privateJwk = await exportJWK(key.privateKey);
    const res = await withProof({ htu: me(), token: tokens.access_token, header: { jwk: privateJwk } });
    expectDpopChallenge(res, 'invalid_dpop_proof');
    expect(res.body.error_description).to.match(/public key/);
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, header: { typ: 'JWT' } }), 'invalid_dpop_proof');
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, claims: { jti: undefined } }), 'invalid_dpop_proof');
  });

  it('refuses alg none and HS256 proofs', async () => {
    const { SignJWT } = await jose();
    const claims = { jti: 'x', htm: 'GET', htu: me(), iat: now(), ath: undefined };
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.jwk }).sign(randomBytes(32));
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${segment({ alg: 'none', typ: 'dpop+jwt', jwk: key.jwk })}.${segment(claims)}.`;
    for (const dpop of [hs256, none, `${none}AAAA`]) expectDpopChallenge(await getMe({ Authorization: `DPoP ${tokens.access_token}`, DPoP: dpop }), 'invalid_dpop_proof');
  });

  it('refuses an oversized proof, two proofs and a proof that is no JWT, with 401 and never a 500', async () => {
    expectDpopChallenge(await withProof({ htu: me(), token: tokens.access_token, claims: { padding: 'x'.repeat(5_000) } }), 'invalid_dpop_proof');
    const headers = await dpopHeaders(server, key, tokens.access_token);
    expectDpopChallenge(await getMe({ ...headers, DPoP: [headers.DPoP, await proof(key, { htu: me(), token: tokens.access_token })] }), 'invalid_dpop_proof');
    expectDpopChallenge(await getMe({ ...headers, DPoP: 'a.b.c' }), 'invalid_dpop_proof');
  });

  it('refuses a tampered signature', async () => {
    const { DPoP, Authorization } = await dpopHeaders(server, key, tokens.access_token);
    const [head, body] = DPoP.split('.');
    const forged = `${head}.${body}.${Buffer.alloc(64, 1).toString('base64url')}`;
    expectDpopChallenge(await getMe({ Authorization, DPoP: forged }), 'invalid_dpop_proof');
  });

  it('keeps bearer tokens as they were, and refuses an unbound token sent as DPoP', async () => {
    const plain = await login(server, 'alice');
    expect(plain.token_type).to.equal('Bearer');
    expect((await getMe(bearer(plain.access_token))).status).to.equal(200);
    expectDpopChallenge(await getMe(await dpopHeaders(server, key, plain.access_token)), 'invalid_token');
    expectInvalidToken(await getMe(bearer('not-a-token')));
    expectDpopChallenge(await getMe({ Authorization: 'DPoP not-a-token', DPoP: await proof(key, { htu: me(), token: 'not-a-token' }) }), 'invalid_token');
  });

  it('checks the proof on every route that takes a token, POST /ws/ticket included', async () => {
    const path = '/ws/ticket';
    const ok = await server.request.post(path).set(await dpopHeaders(server, key, tokens.access_token, 'POST', path));
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    expectDpopChallenge(await server.request.post(path).set(bearer(tokens.access_token)), 'invalid_token');
    expectDpopChallenge(await server.request.post(path).set(await dpopHeaders(server, key, tokens.access_token, 'GET', path)), 'invalid_dpop_proof');
    const created = await server.request.post('/tasks').set(await dpopHeaders(server, key, tokens.access_token, 'POST', '/tasks')).send({ title: 'bound' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });

  for (const alg of ['ES384', 'EdDSA', 'RS256', 'PS256']) {
    it(`accepts proofs signed with ${alg}`, async () => {
      const other = await newKey(alg);
      const bound = await dpopLogin(server, 'alice', other);
      expect(decodeJwt(bound.access_token).claims.cnf).to.deep.equal({ jkt: other.jkt });
      expect((await getMe(await dpopHeaders(server, other, bound.access_token))).status).to.equal(200);
    });
  }
});

import { generateKeyPairSync, hash, randomUUID, sign } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { call, expectAlive, expectErrorShape, fuzzRuns, nastyJson, nastyString, reportSeedOnFailure, type Answer } from '../security/support';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

type Json = Record<string, unknown>;

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const segment = (value: unknown) => b64(JSON.stringify(value) ?? 'null');
const HEADER_KEYS = ['alg', 'typ', 'jwk', 'kid', 'crit', 'jku', 'x5c'];
const CLAIM_KEYS = ['jti', 'htm', 'htu', 'iat', 'ath', 'nonce'];

describe('fuzz: the DPoP header never gets a 5xx: a 200, or a 401 with a DPoP challenge', () => {
  let server: TestServer;
  let accessToken: string;
  // The key the token is bound to, held as a Node key so thousands of proofs sign fast.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  reportSeedOnFailure();

  const signed = (header: Json, claims: Json) => {
    const input = `${segment(header)}.${segment(claims)}`;
    return `${input}.${b64(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }))}`;
  };
  const realHeader = () => ({ alg: 'ES256', typ: 'dpop+jwt', jwk });
  const realClaims = (): Json => ({
    jti: randomUUID(), htm: 'GET', htu: `${server.url}/me`, iat: Math.floor(Date.now() / 1000), ath: hash('sha256', accessToken, 'base64url'),
  });
  const interesting = fc.oneof(
    fc.constantFrom<unknown>('none', 'HS256', 'RS256', 'ES256', 'EdDSA', '', 'dpop+jwt', 'JWT', 'GET', 'POST', 0, -1, 2 ** 53, 1e300, [], {}, null, true, { ...jwk, d: 'AAAA' }, { kty: 'oct', k: 'AAAA' }),
    nastyString,
    nastyJson,
  );
  const change = (keys: readonly string[]) => fc.record({ key: fc.constantFrom(...keys), value: fc.option(interesting, { freq: 4 }) });
  const applied = (base: Json, changes: Array<{ key: string; value: unknown }>) => {
    const result = { ...base };
    for (const { key, value } of changes) {
      if (value === null) delete result[key];
      else result[key] = value;
    }
    return result;
  };
  const headerValue = (value: string) => /^[\x20-\x7e]*$/.test(value);

  function expectRefusedOrServed(answer: Answer, dpop: string): void {
    const context = dpop.slice(0, 120);
    // 200 for a change that kept the proof valid; 431 from Node's HTTP parser for headers over its 16 KiB.
    if (answer.status === 200 || answer.status === 431) return;
    expect(answer.status, `${context}: ${answer.text.slice(0, 200)}`).to.equal(401);
    expectErrorShape(answer, context);
    expect(String(answer.headers['www-authenticate']), context).to.match(/^DPoP error="(invalid_dpop_proof|invalid_token)"/);
  }

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    await signup(server, 'alice');
    const dpop = signed(realHeader(), { jti: randomUUID(), htm: 'POST', htu: `${server.url}/token`, iat: Math.floor(Date.now() / 1000) });
    const res = await server.request.post('/token').type('form').set('DPoP', dpop).send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expect(res.body.token_type, JSON.stringify(res.body)).to.equal('DPoP');
    accessToken = res.body.access_token as string;
  });
  after(async () => {
    await server.close();
  });

  it('answers 401 invalid_dpop_proof to broken, bent and foreign proofs, and never a 5xx', async function () {
    this.timeout(60_000);
    const proofs = fc.oneof(
      fc.string({ maxLength: 300 }).filter(headerValue),
      fc.array(change(HEADER_KEYS), { minLength: 1, maxLength: 3 }).map((changes) => signed(applied(realHeader(), changes), realClaims())),
      fc.array(change(CLAIM_KEYS), { minLength: 1, maxLength: 3 }).map((changes) => signed(realHeader(), applied(realClaims(), changes))),
      fc.nat({ max: 511 }).map((bit) => {
        const [head, body, signature] = signed(realHeader(), realClaims()).split('.') as [string, string, string];
        const flipped = Buffer.from(signature, 'base64url');
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        return `${head}.${body}.${b64(flipped)}`;
      }),
      fc.constantFrom(3_500, 6_000).map((size) => signed(realHeader(), { ...realClaims(), pad: 'x'.repeat(size) })),
    );
    await fc.assert(
      fc.asyncProperty(proofs, async (dpop) => {
        fc.pre(headerValue(dpop));
        expectRefusedOrServed(await call(server, { path: '/me', headers: { Authorization: `DPoP ${accessToken}`, DPoP: dpop } }), dpop);
      }),
      fuzzRuns(300),
    );
    await expectAlive(server);
  });
});

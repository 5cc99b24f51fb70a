import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/server';
import { newUser } from '../support/users';
import { call, expectAlive, expectErrorShape, fuzzRuns, nastyJson, nastyKey, nastyString, reportSeedOnFailure, upgrade, type Answer } from './support';

type Json = Record<string, unknown>;

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url');
const segment = (value: unknown) => b64(JSON.stringify(value) ?? 'null');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;

/** Signs `header.claims` as the JOSE algorithm says (ES256 signatures in JWS's raw r||s form). */
function signJws(header: Json, claims: Json, key: KeyObject | Buffer | string): string {
  const input = `${segment(header)}.${segment(claims)}`;
  const alg = String(header.alg);
  const signature = alg.startsWith('HS')
    ? createHmac('sha256', key as Buffer | string).update(input).digest()
    : cryptoSign('sha256', Buffer.from(input), alg === 'ES256' ? { key: key as KeyObject, dsaEncoding: 'ieee-p1363' } : (key as KeyObject));
  return `${input}.${b64(signature)}`;
}

/** Header or claim values that have fooled verifiers: alg none, other algorithms, key URLs, traversal in kid, nested JSON. */
const interesting = (real: readonly unknown[]) =>
  fc.oneof(
    fc.constantFrom<unknown>(
      'none', 'None', 'NONE', 'HS256', 'RS256', 'ES256', 'ES512', 'PS256', '', 'at+jwt', 'JWT', 'application/at+jwt',
      'https://evil.example/jwks.json', '../../../../dev/null', "' OR '1'='1", 0, -1, 2 ** 53, 1e300, [], {}, null, true,
      ...real,
    ),
    nastyString,
    nastyJson,
  );

const HEADER_KEYS = ['alg', 'kid', 'typ', 'jku', 'x5u', 'jwk', 'x5c', 'crit', 'cty', 'b64', 'zip'];
const CLAIM_KEYS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope', 'sid', 'username', 'roles'];

/** A change to one member of a JSON object: set it (to anything) or remove it. */
const memberChange = (keys: readonly string[], real: readonly unknown[]) =>
  fc.record({ key: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: nastyKey }), value: fc.option(interesting(real), { freq: 6 }) });

function applyChanges(base: Json, changes: ReadonlyArray<{ key: string; value: unknown }>): Json {
  const out: Json = { ...base };
  for (const { key, value } of changes) {
    if (value === null) delete out[key];
    else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

for (const alg of ['ES256', 'RS256'] as const) {
  describe(`fuzzing access tokens (${alg}) against GET /me and the socket upgrade`, () => {
    let server: TestServer;
    let real: { token: string; header: Json; claims: Json; userId: string };
    let publicKey: KeyObject;
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    reportSeedOnFailure();

    before(async () => {
      server = await startServer({ JWT_ALG: alg, RATE_LIMITS: 'off', WS_UPGRADES_PER_MINUTE: '1000000', WS_MAX_CONNECTIONS_PER_USER: '1000' });
      const { id, tokens } = await newUser(server, 'alice');
      const [header, claims] = tokens.access_token.split('.') as [string, string];
      real = { token: tokens.access_token, header: decode(header), claims: decode(claims), userId: id };
      publicKey = server.tessera.services.keys.signingKey().verifyKey;
    });
    after(() => server.close());

    /** The token presented to /me and to the upgrade: headers and query alike. */
    async function present(token: string): Promise<{ me: Answer; socket: Answer }> {
      const me = await call(server, { path: '/me', headers: { Authorization: `Bearer ${token}` } });
      const viaQuery = token.length % 2 === 0;
      const socket = await upgrade(server, viaQuery ? `/ws/alice?token=${encodeURIComponent(token)}` : '/ws/alice', viaQuery ? {} : { Authorization: `Bearer ${token}` });
      return { me, socket };
    }

    function expectRefused({ me, socket }: { me: Answer; socket: Answer }, token: string): void {
      const context = `token ${token.slice(0, 400)}`;
      // 401, or 431 when the token alone is larger than the server's header limit.
      expect(me.status, `GET /me with a forged ${context}`).to.be.oneOf([401, 431]);
      expect(socket.status, `upgrade with a forged ${context}`).to.be.oneOf([401, 431]);
      expectErrorShape(me, `GET /me, ${context}`);
      expectErrorShape(socket, `upgrade, ${context}`);
    }

    const publicKeyForms = () => [
      publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      publicKey.export({ format: 'pem', type: 'spki' }).toString().trim(),
      publicKey.export({ format: 'der', type: 'spki' }),
      JSON.stringify(publicKey.export({ format: 'jwk' })),
    ];

    it('accepts the real token (control)', async () => {
      const { me, socket } = await present(real.token);
      expect(me.status).to.equal(200);
      expect(socket.status).to.equal(101);
    });

    it('refuses every forgery: changed header or claims, flipped signature bits, alg none, HS256 keyed with the public key, foreign keys, 100 KB tokens', async function () {
      this.timeout(40_000);
      const [headerPart, claimsPart, signaturePart] = real.token.split('.') as [string, string, string];
      const signature = Buffer.from(signaturePart, 'base64url');
      const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
      const forgery = fc.oneof(
        // Header or claims changed, the real signature kept.
        fc.array(memberChange(HEADER_KEYS, [real.header.kid, real.header.alg]), { minLength: 1, maxLength: 3 }).map((changes) => `${segment(applyChanges(real.header, changes))}.${claimsPart}.${signaturePart}`),
        fc.array(memberChange(CLAIM_KEYS, [real.userId, 'root', ['admin']]), { minLength: 1, maxLength: 3 }).map((changes) => `${headerPart}.${segment(applyChanges(real.claims, changes))}.${signaturePart}`),
        // Bits of the signature flipped, or the signature cut short or lengthened.
        fc.uniqueArray(fc.nat({ max: signature.length * 8 - 1 }), { minLength: 1, maxLength: 3 }).map((bits) => {
          const flipped = Buffer.from(signature);
          for (const bit of bits) flipped[bit >> 3]! ^= 1 << (bit & 7);
          return `${headerPart}.${claimsPart}.${b64(flipped)}`;
        }),
        fc.constantFrom(`${headerPart}.${claimsPart}.`, `${headerPart}.${claimsPart}`, `${headerPart}.${claimsPart}.${b64(signature.subarray(1))}`, `${headerPart}.${claimsPart}.${signaturePart}AA`),
        // alg none, with the claims of an admin.
        fc.tuple(fc.constantFrom('none', 'None', 'NONE', 'nOnE'), fc.constantFrom('', signaturePart)).map(([none, sig]) => `${segment({ ...real.header, alg: none })}.${segment({ ...real.claims, roles: ['admin'], scope: 'admin' })}.${sig}`),
        // HS256 keyed with the server's own public key (every serialisation of it).
        fc.tuple(fc.constantFrom(...publicKeyForms()), fc.constantFrom('HS256', 'HS384')).map(([secret, hs]) => signJws({ ...real.header, alg: hs }, real.claims, secret)),
        // Signed by the attacker, with a key the attacker names: embedded jwk, jku, x5u, a kid of its own or the server's.
        fc.record({ jwk: fc.constant(attackerJwk), jku: fc.constant('https://evil.example/jwks.json'), x5u: fc.constant('https://evil.example/cert.pem'), kid: fc.constantFrom(String(real.header.kid), 'attacker', '../keys/attacker', "x' OR '1'='1") }, { requiredKeys: ['kid'] })
          .map((extra) => signJws({ alg: 'ES256', typ: 'at+jwt', ...extra }, real.claims, attacker.privateKey)),
        // 100 KB of claims (or of nested arrays), signed by the attacker.
        fc.constantFrom(100_000, 20_000, 7_000).map((size) => signJws({ alg: 'ES256', typ: 'at+jwt', kid: real.header.kid }, { ...real.claims, pad: 'x'.repeat(size), nested: JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown }, attacker.privateKey)),
      );
      await fc.assert(fc.asyncProperty(forgery, async (token) => {
        fc.pre(token !== real.token);
        expectRefused(await present(token), token);
      }), fuzzRuns(300));
      await expectAlive(server);
    });

    it('accepts a token signed with its own key only when every claim checks out, and never fails on odd claims', async function () {
      this.timeout(40_000);
      const now = () => Math.floor(Date.now() / 1000);
      const timeValue = fc.oneof(fc.integer({ min: -10, max: 10 }).map((d) => now() + d), fc.constantFrom(0, -1, 2 ** 53, 8_640_000_000_001, 1e300, 1.5, '9999999999'), interesting([]));
      const claimChange = fc.oneof(
        fc.record({ key: fc.constantFrom('exp', 'nbf', 'iat'), value: fc.option(timeValue, { freq: 6 }) }),
        fc.record({ key: fc.constantFrom('iss', 'aud'), value: fc.option(fc.oneof(fc.constantFrom(real.claims.iss, [real.claims.aud], [real.claims.aud, 'other'], `${String(real.claims.iss)}/`, 'https://evil.example'), interesting([])), { freq: 6 }) }),
        memberChange(CLAIM_KEYS, [real.userId, 'root', ['admin'], 'messages:read', 'ALICE']),
      );
      const typ = fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', undefined);
      let accepted = 0;
      await fc.assert(fc.asyncProperty(fc.array(claimChange, { minLength: 1, maxLength: 3 }), typ, async (changes, typValue) => {
        const claims = applyChanges(real.claims, changes);
        const header = applyChanges(real.header, [{ key: 'typ', value: typValue ?? null }]);
        const token = signJws(header, claims, server.tessera.services.keys.signingKey().privateKey);
        const { me, socket } = await present(token);
        const context = `claims ${JSON.stringify(claims).slice(0, 400)} typ ${String(typValue)}`;
        for (const answer of [me, socket]) {
          expect(answer.status, context).to.be.below(500);
          if (answer.status >= 400) expectErrorShape(answer, context);
        }
        const t = now();
        const valid =
          typeof typValue === 'string' && ['at+jwt', 'application/at+jwt'].includes(typValue.toLowerCase()) &&
          claims.iss === real.claims.iss && (claims.aud === real.claims.aud || (Array.isArray(claims.aud) && claims.aud.includes(real.claims.aud))) &&
          Number.isSafeInteger(claims.exp) && (claims.exp as number) > t - 1 && Number.isSafeInteger(claims.iat) &&
          (claims.nbf === undefined || (typeof claims.nbf === 'number' && claims.nbf <= t + 1)) &&
          typeof claims.username === 'string' && ['sub', 'sid', 'client_id', 'scope', 'jti'].every((k) => typeof claims[k] === 'string') &&
          Array.isArray(claims.roles) && claims.roles.every((role) => typeof role === 'string');
        // GET /me also reads the user by `sub`; the socket trusts the signed claims as they are.
        if (me.status === 200) expect(valid && claims.sub === real.userId, `GET /me accepted ${context}`).to.equal(true);
        if (me.status === 200 || socket.status === 101) accepted += 1;
        if (socket.status === 101) {
          expect(valid && String(claims.username).toLowerCase() === 'alice' && String(claims.scope).split(' ').includes('messages:read'), `upgrade accepted ${context}`).to.equal(true);
        }
      }), fuzzRuns(250));
      expect(accepted, 'tokens accepted (the oracle saw successes)').to.be.above(0);
      await expectAlive(server);
    });
  });
}

import { parse as parseForm } from 'node:querystring';
import { expect } from 'chai';
import fc from 'fast-check';
import { basicAuth, createClient, secretOf, type TestClient } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { login, PASSWORD, signup } from '../support/users';
import { call, expectAlive, expectSpecAnswer, fuzzRuns, nastyJson, nastyKey, nastyString, reportSeedOnFailure, type Answer } from './support';

// RFC 6749 §5.2, plus the SPEC §2 codes any endpoint may answer, and SPEC §9's 403 for a cookie asked for cross-site.
const TOKEN_ERRORS = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'payload_too_large', 'unsupported_media_type', 'rate_limited', 'forbidden',
];
const FIELDS = ['grant_type', 'username', 'password', 'scope', 'refresh_token', 'client_id', 'client_secret', 'refresh_in_cookie'] as const;
type Field = (typeof FIELDS)[number];
type Pair = readonly [string, string];
type Encoding = 'form' | 'raw-form' | 'json' | 'typed-json';

/** What the fuzzer knows that an attacker would not: the real credentials, to tell a legitimate 200 from a forged one. */
interface Secrets {
  readonly client: TestClient;
  readonly refreshTokens: Set<string>;
}

// RFC 3986 unreserved characters stay; every other UTF-8 byte is percent-encoded (encodeURIComponent throws on lone surrogates).
const formEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');

function encode(pairs: readonly Pair[], encoding: Encoding, typed: readonly unknown[]): { type: string; text: string } {
  switch (encoding) {
    case 'form':
      return { type: 'application/x-www-form-urlencoded', text: pairs.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&') };
    case 'raw-form':
      return { type: 'application/x-www-form-urlencoded', text: pairs.map(([k, v]) => `${k}=${v}`).join('&') };
    case 'json':
      return { type: 'application/json', text: `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}` };
    case 'typed-json':
      return { type: 'application/json', text: `{${pairs.map(([k, v], i) => `${JSON.stringify(k)}:${JSON.stringify(typed[i] ?? v) ?? 'null'}`).join(',')}}` };
  }
}

/** The parameters the server sees, or undefined when they are not one string each (never a success then). */
function effectiveParameters(type: string, text: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = type === 'application/json' ? JSON.parse(text) : { ...parseForm(text) };
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const entries = Object.entries(parsed);
  return entries.every(([, value]) => typeof value === 'string') ? Object.fromEntries(entries) as Record<string, string> : undefined;
}

/** A 200 must be earned: the real password, a refresh token the server issued, or the client's real secret. */
function expectEarned(answer: Answer, params: Record<string, string> | undefined, headers: Record<string, string>, secrets: Secrets, server: TestServer): void {
  expect(params, 'a 200 for parameters that are not one string each').to.not.equal(undefined);
  const body = answer.body as Record<string, unknown>;
  expect(body.token_type).to.equal('Bearer');
  expect(body.access_token).to.be.a('string');
  expect(answer.headers['cache-control']).to.equal('no-store');
  const p = params!;
  if (p.grant_type === 'password') {
    expect(p.password, 'a 200 without the password').to.equal(PASSWORD);
    expect(p.username?.toLowerCase(), 'a 200 for another user').to.equal('alice');
  } else if (p.grant_type === 'refresh_token') {
    const cookie = /tessera_rt=([^;]*)/.exec(headers.Cookie ?? '')?.[1];
    const presented = p.refresh_token ?? cookie;
    expect(secrets.refreshTokens.has(presented ?? ''), 'a 200 for a refresh token the server never issued').to.equal(true);
    if (p.refresh_token === undefined) expect(headers.Origin, 'a cookie refresh from a foreign Origin').to.equal(server.url);
  } else {
    expect(p.grant_type).to.equal('client_credentials');
    const basic = headers.Authorization === basicAuth(secrets.client.id, secretOf(secrets.client)).Authorization;
    expect(basic || p.client_secret === secrets.client.secret, 'a client_credentials 200 without the secret').to.equal(true);
  }
  if (typeof body.refresh_token === 'string') secrets.refreshTokens.add(body.refresh_token);
}

function valueFor(field: Field, secrets: Secrets, pool: readonly string[]): fc.Arbitrary<string> {
  const plausible: Record<Field, fc.Arbitrary<string>> = {
    grant_type: fc.constantFrom('password', 'refresh_token', 'client_credentials', 'authorization_code', 'PASSWORD', 'password '),
    username: fc.constantFrom('alice', 'ALICE', 'bob', 'alice\u0000', 'a'),
    password: fc.constantFrom(PASSWORD, `${PASSWORD} `, ''),
    scope: fc.constantFrom('tasks:read', 'admin', 'push', 'tasks:read tasks:read', ' '),
    refresh_token: fc.constantFrom(...pool),
    client_id: fc.constantFrom(secrets.client.id, 'tessera', 'TESSERA'),
    client_secret: fc.constantFrom(secretOf(secrets.client), ''),
    refresh_in_cookie: fc.constantFrom('true', 'false', 'TRUE'),
  };
  return fc.oneof({ weight: 3, arbitrary: plausible[field] }, { weight: 2, arbitrary: nastyString });
}

function requestArbitrary(secrets: Secrets, pool: readonly string[], server: TestServer) {
  const field = fc.constantFrom(...FIELDS);
  const pair: fc.Arbitrary<Pair> = fc.oneof(
    { weight: 5, arbitrary: field.chain((name) => valueFor(name, secrets, pool).map((value): Pair => [name, value])) },
    { weight: 1, arbitrary: fc.tuple(nastyKey, nastyString) },
  );
  const headers = fc.record(
    {
      Authorization: fc.oneof(
        fc.constant(basicAuth(secrets.client.id, secretOf(secrets.client)).Authorization),
        fc.tuple(nastyString, nastyString).map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`),
        fc.constantFrom('Basic', 'Basic !!!', 'Bearer x', `Basic ${Buffer.from('no-colon').toString('base64')}`),
      ),
      Cookie: fc.constantFrom(...pool).map((token) => `tessera_rt=${token}`),
      Origin: fc.constantFrom(server.url, 'https://evil.example', 'null'),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    pairs: fc.array(pair, { maxLength: 9 }),
    encoding: fc.constantFrom<Encoding>('form', 'form', 'raw-form', 'json', 'typed-json'),
    typed: fc.array(nastyJson, { maxLength: 9 }),
    headers,
  });
}

onEachDatabase('fuzzing POST /token', (database) => {
  let server: TestServer;
  let secrets: Secrets;
  let pool: string[];
  let earned = 0;
  reportSeedOnFailure();

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
    await signup(server, 'alice');
    await signup(server, 'bob');
    const client = await createClient(server, { scope: 'push' });
    pool = [];
    for (let i = 0; i < 3; i += 1) pool.push((await login(server, 'alice')).refresh_token);
    pool.push('x'.repeat(43), '');
    secrets = { client, refreshTokens: new Set(pool.slice(0, 3)) };
  });
  after(() => server.close());

  async function send(request: { pairs: readonly Pair[]; encoding: Encoding; typed: readonly unknown[]; headers: Record<string, string> }): Promise<void> {
    const { type, text } = encode(request.pairs, request.encoding, request.typed);
    const context = `${request.encoding} ${text.slice(0, 300)}`;
    const answer = await call(server, { method: 'POST', path: '/token', headers: { 'Content-Type': type, ...request.headers }, body: text });
    expectSpecAnswer(answer, context);
    if (answer.status >= 400) expect(TOKEN_ERRORS, context).to.include((answer.body as { error: string }).error);
    else {
      expect(answer.status, context).to.equal(200);
      expectEarned(answer, effectiveParameters(type, text), request.headers, secrets, server);
      earned += 1;
    }
  }

  it('answers random parameter sets, in every encoding, with a SPEC error or an earned token, never a 5xx or a hang', async function () {
    this.timeout(30_000);
    await fc.assert(fc.asyncProperty(requestArbitrary(secrets, pool, server), send), fuzzRuns(400));
    await expectAlive(server);
  });

  it('answers mutations of valid requests (a field dropped, repeated, replaced or renamed) the same way', async function () {
    this.timeout(30_000);
    earned = 0;
    const valid: Pair[][] = [
      [['grant_type', 'password'], ['username', 'alice'], ['password', PASSWORD]],
      [['grant_type', 'refresh_token'], ['refresh_token', pool[0]!]],
      [['grant_type', 'client_credentials'], ['client_id', secrets.client.id], ['client_secret', secretOf(secrets.client)]],
    ];
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), value: nastyString }),
      fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nastyString }),
      fc.record({ op: fc.constant('rename' as const), at: fc.nat(), value: fc.oneof(nastyKey, fc.constantFrom('GRANT_TYPE', 'grant_type[]', 'grant_type ', '__proto__')) }),
    );
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(mutation, { maxLength: 3 })).map(([base, mutations]) => {
      const pairs: Pair[] = [...base];
      for (const m of mutations) {
        const at = m.at % Math.max(1, pairs.length);
        const target = pairs[at];
        if (!target) continue;
        if (m.op === 'drop') pairs.splice(at, 1);
        else if (m.op === 'repeat') pairs.push([target[0], m.value]);
        else if (m.op === 'replace') pairs[at] = [target[0], m.value];
        else pairs[at] = [m.value, target[1]];
      }
      return pairs;
    });
    const request = fc.record({
      pairs: mutated,
      encoding: fc.constantFrom<Encoding>('form', 'json'),
      typed: fc.constant([]),
      headers: fc.constant({}),
    });
    await fc.assert(fc.asyncProperty(request, send), fuzzRuns(400));
    expect(earned, 'unmutated requests got tokens (the oracle saw successes)').to.be.above(0);
    await expectAlive(server);
  });
});

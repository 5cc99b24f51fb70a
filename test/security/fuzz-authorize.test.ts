import { expect } from 'chai';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/server';
import { signup } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, pkce, REDIRECT_URI, type CodeClient } from '../authorize/support';
import { call, fuzzRuns, nastyKey, nastyString, reportSeedOnFailure } from './support';

const NAMES = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'login_hint', 'response_mode', 'request', 'request_uri'] as const;
type Pair = readonly [string, string];

// RFC 3986 unreserved characters stay; every other UTF-8 byte is percent-encoded (lone surrogates included).
const encode = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');

const REDIRECT_ATTEMPTS = [
  REDIRECT_URI, `${REDIRECT_URI}/`, `${REDIRECT_URI}?next=https://evil.example`, 'https://evil.example/callback', 'https://app.example.evil.example/callback',
  'https://app.example@evil.example/callback', '//evil.example/callback', 'javascript:alert(1)', 'http://127.0.0.1:1/callback', 'https://app.example/callback/../evil',
];

describe('fuzz: the authorization endpoint never answers 500 and never redirects to an unregistered URI (SPEC §10)', function () {
  this.timeout(120_000);
  reportSeedOnFailure();
  let server: TestServer;
  let app: CodeClient;
  let signedIn: BrowserAgent;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    app = await codeClient(server, { firstParty: true });
    await signup(server, 'fuzzer');
    signedIn = new BrowserAgent(server);
    const page = await signedIn.get('/authorize', authorizeParams(app, pkce().challenge));
    await signedIn.signIn(page.body, 'fuzzer');
  });
  after(() => server?.close());

  it('answers any query, with or without a browser session, with a page or a redirect to the registered URI', async () => {
    const good = authorizeParams(app, pkce().challenge);
    const value = (name: (typeof NAMES)[number]) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(good[name] ?? '') },
        { weight: 2, arbitrary: nastyString },
        { weight: name === 'redirect_uri' ? 3 : 0, arbitrary: fc.constantFrom(...REDIRECT_ATTEMPTS) },
        { weight: 1, arbitrary: fc.constantFrom('none', 'login', 'consent', 'form_post', 'query', 'plain', 'S256', 'code', 'token', '0', '-1', 'openid admin') },
      );
    const pairs: fc.Arbitrary<Pair[]> = fc
      .tuple(
        fc.subarray([...NAMES], { minLength: 0 }).chain((names) => fc.tuple(...names.map((name) => value(name).map((v): Pair => [name, v])))),
        fc.array(fc.tuple(fc.oneof(nastyKey, fc.constantFrom(...NAMES)), nastyString), { maxLength: 3 }),
      )
      .map(([named, extra]) => [...named, ...extra]);

    await fc.assert(
      fc.asyncProperty(pairs, fc.boolean(), async (query, withSession) => {
        const path = `/authorize?${query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`;
        const cookie = withSession ? [...signedIn.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
        const answer = await call(server, { path, headers: cookie ? { cookie } : {} });
        expect(answer.status, path).to.be.below(500);
        if (answer.status >= 300 && answer.status < 400) {
          expect(String(answer.headers.location), path).to.satisfy((location: string) => location.startsWith(`${REDIRECT_URI}?`));
        }
        for (const [, action] of answer.text.matchAll(/<form method="post" action="([^"]*)">/g)) {
          expect(action === REDIRECT_URI || action!.startsWith('/authorize/'), `${path} posts to ${action}`).to.equal(true);
        }
      }),
      fuzzRuns(300),
    );
  });
});

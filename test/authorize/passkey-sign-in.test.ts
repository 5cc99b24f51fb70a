import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { enableTwoFactor, otpAt, TestClock } from '../accounts/account-security-support';
import { enrol } from '../accounts/passkey-support';
import { basicAuth, tokenRequest } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import type { SoftwareAuthenticator } from '../support/software-authenticator';
import { login, signup } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, formOf, pkce, REDIRECT_URI, redirectParams, type Answer, type CodeClient } from './support';

/** A person at the login page of a first-party app: the agent, the page, and its interaction's fields. */
async function loginPage(server: TestServer, app: CodeClient, challenge = pkce().challenge) {
  const agent = new BrowserAgent(server);
  const page = await agent.get('/authorize', authorizeParams(app, challenge));
  expect(page.status).to.equal(200);
  return { agent, page, fields: formOf(page.body).fields };
}

/** What the login page's script does: ask for options, sign them, post the assertion. */
async function passkeyOptions(agent: BrowserAgent, fields: Record<string, string>) {
  const answer = await agent.post('/authorize/passkey/options', fields, { accept: 'application/json' });
  expect(answer.status, answer.body).to.equal(200);
  return (JSON.parse(answer.body) as { options: { challenge: string; rpId: string; userVerification: string; allowCredentials?: unknown[] } }).options;
}
const postAssertion = (agent: BrowserAgent, fields: Record<string, string>, response: unknown): Promise<Answer> =>
  agent.post('/authorize/passkey', { ...fields, response: JSON.stringify(response) });

const expectLoginPageRefusal = (answer: Answer) => {
  expect(answer.status, answer.body).to.equal(400);
  expect(answer.body).to.match(/role="alert"[^>]*>The passkey sign-in failed/);
  expect(answer.headers.get('set-cookie') ?? '').to.not.include('tessera_session=');
};

describe('sign-in pages: a passkey on the login page (issue 21, SPEC §10)', function () {
  this.timeout(30_000);
  const clock = new TestClock();
  let server: TestServer;
  let app: CodeClient;
  let token: string;
  let authenticator: SoftwareAuthenticator;

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
    app = await codeClient(server, { firstParty: true, scope: 'openid profile tasks:read' });
    await signup(server, 'pia');
    token = (await login(server, 'pia')).access_token;
    ({ authenticator } = await enrol(server, token));
  });
  after(() => server?.close());

  /** The claims of the id token the code in a redirect to the app exchanges for. */
  async function idTokenAfter(done: Answer, verifier: string): Promise<Record<string, unknown>> {
    const code = redirectParams(done).get('code')!;
    const tokens = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).set(basicAuth(app.id, app.secret!));
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    return jwt.decode(tokens.body.id_token as string) as Record<string, unknown>;
  }

  it('signs in with a discoverable passkey only: options, assertion, code, and an id_token whose amr is hwk and user', async () => {
    const { verifier, challenge } = pkce();
    const { agent, fields } = await loginPage(server, app, challenge);
    const options = await passkeyOptions(agent, fields);
    expect(options).to.include({ rpId: 'id.example.test', userVerification: 'required' });
    expect(options.allowCredentials ?? []).to.deep.equal([]);
    const done = await postAssertion(agent, fields, authenticator.assert(options));
    expect(agent.cookies.has('tessera_session')).to.equal(true);
    expect(await idTokenAfter(done, verifier)).to.include({ preferred_username: 'pia' }).and.deep.include({ amr: ['hwk', 'user'] });
  });

  it('says amr pwd after a password, in the id_token', async () => {
    const { verifier, challenge } = pkce();
    const agent = new BrowserAgent(server);
    const done = await agent.signIn((await agent.get('/authorize', authorizeParams(app, challenge))).body, 'pia');
    expect((await idTokenAfter(done, verifier)).amr).to.deep.equal(['pwd']);
  });

  it('refuses a challenge used once already, with the login page and its alert (400)', async () => {
    const { agent, fields } = await loginPage(server, app);
    const options = await passkeyOptions(agent, fields);
    const genuine = authenticator.assert(options);
    expectLoginPageRefusal(await postAssertion(agent, fields, authenticator.assert(options, { unverified: true })));
    expectLoginPageRefusal(await postAssertion(agent, fields, genuine));
  });

  it('refuses the challenge of another interaction, and an older challenge of the same one', async () => {
    const first = await loginPage(server, app);
    const theirs = await passkeyOptions(first.agent, first.fields);
    const second = await loginPage(server, app);
    await passkeyOptions(second.agent, second.fields);
    expectLoginPageRefusal(await postAssertion(second.agent, second.fields, authenticator.assert(theirs)));

    const again = await loginPage(server, app);
    const older = await passkeyOptions(again.agent, again.fields);
    await passkeyOptions(again.agent, again.fields);
    expectLoginPageRefusal(await postAssertion(again.agent, again.fields, authenticator.assert(older)));
  });

  it('refuses a post with no challenge asked for, and malformed responses, as the login page (never a 500)', async () => {
    const { agent, fields } = await loginPage(server, app);
    expectLoginPageRefusal(await postAssertion(agent, fields, authenticator.assert({ challenge: 'bm90LWFza2Vk' })));
    expectLoginPageRefusal(await agent.post('/authorize/passkey', fields));
    for (const response of ['not json', '{}', '[1,2]', 'null', 'x'.repeat(20_000)]) {
      await passkeyOptions(agent, fields);
      expectLoginPageRefusal(await agent.post('/authorize/passkey', { ...fields, response }));
    }
  });

  it('refuses options and assertions without the CSRF token or from another browser (403), without using the challenge up', async () => {
    const { agent, fields } = await loginPage(server, app);
    const { csrf_token: _csrf, ...withoutCsrf } = fields;
    expect((await agent.post('/authorize/passkey/options', withoutCsrf)).status).to.equal(403);
    const json = await agent.post('/authorize/passkey/options', withoutCsrf, { accept: 'application/json' });
    expect(JSON.parse(json.body)).to.have.property('error');
    const options = await passkeyOptions(agent, fields);
    expect((await postAssertion(agent, withoutCsrf, authenticator.assert(options))).status).to.equal(403);
    const stranger = new BrowserAgent(server);
    expect((await stranger.post('/authorize/passkey/options', fields)).status).to.equal(403);
    expect((await postAssertion(stranger, fields, authenticator.assert(options))).status).to.equal(403);
    // The refused attempts did not use the challenge up: the person can still finish.
    expect(redirectParams(await postAssertion(agent, fields, authenticator.assert(options))).get('code')).to.be.a('string');
  });

  it('asks a user with two-factor sign-in on for no code after a passkey (amr hwk user), and for one after a password (amr pwd otp)', async () => {
    await signup(server, 'tom');
    const tom = (await login(server, 'tom')).access_token;
    const { authenticator: tomsKey } = await enrol(server, tom);
    const { secret } = await enableTwoFactor(server, tom, clock);
    const amrOf = async (verifier: string, done: Answer) => (await idTokenAfter(done, verifier)).amr;
    const byPasskey = pkce();
    const { agent, fields } = await loginPage(server, app, byPasskey.challenge);
    expect(await amrOf(byPasskey.verifier, await postAssertion(agent, fields, tomsKey.assert(await passkeyOptions(agent, fields))))).to.deep.equal(['hwk', 'user']);

    const byPassword = pkce();
    const other = await loginPage(server, app, byPassword.challenge);
    const second = await other.agent.signIn(other.page.body, 'tom');
    expect(second.body).to.include('<h1>Two-step verification</h1>');
    clock.advance(30_000);
    expect(await amrOf(byPassword.verifier, await other.agent.submit(second.body, { otp: otpAt(secret, clock.now()) }))).to.deep.equal(['pwd', 'otp']);
  });
});

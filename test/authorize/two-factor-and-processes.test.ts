import { expect } from 'chai';
import { AuthorizationCodes } from '../../src/authorize/authorization-codes';
import { enableTwoFactor, TestClock } from '../accounts/account-security-support';
import { basicAuth, tokenRequest } from '../support/oauth';
import { startSecondProcess, startServer, type TestServer } from '../support/server';
import { bearer, login, signup } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, pkce, REDIRECT_URI, redirectParams, type CodeClient } from './support';

describe('sign-in pages: recovery codes, and codes shared by processes (SPEC §8, §10)', function () {
  this.timeout(20_000);
  const clock = new TestClock();
  let server: TestServer;
  let second: TestServer;
  let app: CodeClient;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
    second = await startSecondProcess(server, { RATE_LIMITS: 'off' }, { clock: clock.now });
    app = await codeClient(server, { firstParty: true, scope: 'openid profile tasks:read' });
  });
  after(async () => {
    await second?.close();
    await server?.close();
  });

  it('takes a recovery code at the second step, once, and refuses a wrong code with an alert', async () => {
    await signup(server, 'dora');
    const { recoveryCodes } = await enableTwoFactor(server, (await login(server, 'dora')).access_token, clock);
    const agent = new BrowserAgent(server);
    const challenge = await agent.signIn((await agent.get('/authorize', authorizeParams(app, pkce().challenge))).body, 'dora');
    expect(challenge.status).to.equal(200);
    expect(challenge.body).to.include('<h1>Two-step verification</h1>').and.include('<span>Code</span>');
    expect(agent.cookies.has('tessera_session'), 'no session before the second factor').to.equal(false);
    const wrong = await agent.submit(challenge.body, { otp: '000000' });
    expect(wrong.status).to.equal(400);
    expect(wrong.body).to.match(/role="alert"[^>]*>The code is wrong/);
    const done = await agent.submit(wrong.body, { otp: recoveryCodes[0]! });
    expect(redirectParams(done).get('code')).to.be.a('string');

    const again = new BrowserAgent(server);
    const next = await again.signIn((await again.get('/authorize', authorizeParams(app, pkce().challenge))).body, 'dora');
    expect((await again.submit(next.body, { otp: recoveryCodes[0]! })).status, 'a used recovery code').to.equal(400);
  });

  it('redeems a code issued by one process at another, once', async () => {
    await signup(server, 'eve');
    const { verifier, challenge } = pkce();
    const agent = new BrowserAgent(server);
    const code = redirectParams(await agent.signIn((await agent.get('/authorize', authorizeParams(app, challenge, { scope: 'openid tasks:read' }))).body, 'eve')).get('code')!;
    const exchange = (target: TestServer) =>
      tokenRequest(target, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).set(basicAuth(app.id, app.secret!));
    const first = await exchange(second);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect((await exchange(server)).body.error).to.equal('invalid_grant');
    // The replay on the first process revoked the session the second process started, on both.
    const deadline = Date.now() + 5_000;
    let status = 200;
    while (status !== 401 && Date.now() < deadline) status = (await second.request.get('/tasks').set(bearer(first.body.access_token as string))).status;
    expect(status).to.equal(401);
  });

  it('revokes the session of a first use that was still starting when the replay came (no race lets it live)', async () => {
    const services = server.tessera.services;
    const codes = new AuthorizationCodes(services);
    const eve = (await services.users.queries.findByUsername(services.tenantId, 'eve'))!;
    const { verifier, challenge } = pkce();
    const code = await codes.issue({
      clientId: app.id, userId: eve.id, redirectUri: REDIRECT_URI, codeChallenge: challenge, nonce: undefined, scopes: ['tasks:read'], browserSessionId: 'b', authTime: clock.now(), amr: 'pwd',
    });
    const first = await codes.redeem(code, app.id, REDIRECT_URI, verifier);
    const replay = await codes.redeem(code, app.id, REDIRECT_URI, verifier).catch((error: unknown) => error);
    expect((replay as { code?: string }).code).to.equal('invalid_grant');
    // Only now does the first use's session start, under the id the code recorded.
    await services.sessions.start({ id: first.sessionId, tenantId: services.tenantId, userId: eve.id, clientId: app.id, scope: 'tasks:read', ip: null, userAgent: null, lifetime: 60 });
    const confirmed = await codes.confirm(first).catch((error: unknown) => error);
    expect((confirmed as { code?: string }).code).to.equal('invalid_grant');
    expect((await services.sessions.find(first.sessionId))?.revoked_reason).to.equal('authorization_code_reuse');
  });
});

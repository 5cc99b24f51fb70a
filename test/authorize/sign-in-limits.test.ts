import { expect } from 'chai';
import { emailOf, Mailbox, TestClock } from '../accounts/account-security-support';
import { basicAuth, tokenRequest } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, pkce, REDIRECT_URI, redirectParams, type CodeClient } from './support';

describe('sign-in pages: failed-login limits, e-mail verification pending, code lifetime (SPEC §7, §8, §10)', function () {
  this.timeout(20_000);
  const clock = new TestClock();
  let mailbox: Mailbox;
  let server: TestServer;
  let app: CodeClient;

  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ RATE_LIMIT_LOGIN_FAILURES: '3', REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url }, 'sqlite', { clock: clock.now });
    app = await codeClient(server, { firstParty: true, grantTypes: ['authorization_code', 'refresh_token', 'password'] });
    const { users, tenantId } = server.tessera.services;
    await users.create({ tenantId, username: 'alice', password: PASSWORD });
  });
  after(async () => {
    await server?.close();
    await mailbox?.close();
  });

  it('counts wrong passwords on the login page with the password grant: past the limit both answer 429', async () => {
    const agent = new BrowserAgent(server);
    let page = (await agent.get('/authorize', authorizeParams(app, pkce().challenge))).body;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const wrong = await agent.signIn(page, 'alice', 'not the password');
      expect(wrong.status).to.equal(400);
      page = wrong.body;
    }
    const grant = await tokenRequest(server, { grant_type: 'password', username: 'alice', password: 'still not it' });
    expect(grant.status).to.equal(400);
    const limited = await agent.signIn(page, 'alice', 'not the password either');
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('content-type')).to.match(/^text\/html/);
    expect(limited.body).to.include('Too many attempts');
    expect((await tokenRequest(server, { grant_type: 'password', username: 'alice', password: PASSWORD })).status).to.equal(429);
  });

  it('tells a person whose e-mail address waits for its code to verify it first, and starts no session', async () => {
    const signup = await server.request.post('/signup').send({ username: 'erin', password: PASSWORD, email: emailOf('erin') });
    expect(signup.status).to.equal(201);
    const agent = new BrowserAgent(server);
    const pending = await agent.signIn((await agent.get('/authorize', authorizeParams(app, pkce().challenge))).body, 'erin');
    expect(pending.status).to.equal(403);
    expect(pending.body).to.include('Verify your e-mail address');
    expect(agent.cookies.has('tessera_session')).to.equal(false);
  });

  it('refuses a code older than 60 seconds', async () => {
    await server.request.post('/signup').send({ username: 'frank', password: PASSWORD, email: emailOf('frank') });
    const { users, tenantId, db } = server.tessera.services;
    const frank = (await users.queries.findByUsername(tenantId, 'frank'))!;
    await db('pending_verifications').where({ user_id: frank.id }).delete();
    const { verifier, challenge } = pkce();
    const agent = new BrowserAgent(server);
    const code = redirectParams(await agent.signIn((await agent.get('/authorize', authorizeParams(app, challenge))).body, 'frank')).get('code')!;
    clock.advance(61_000);
    const late = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).set(basicAuth(app.id, app.secret!));
    expect(late.status).to.equal(400);
    expect(late.body.error).to.equal('invalid_grant');
  });
});

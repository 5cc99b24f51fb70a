import { expect } from 'chai';
import { codeIn, emailOf, Mailbox } from '../accounts/account-security-support';
import { expectError, expectInvalidToken } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, type Tokens } from '../support/users';
import { addTenant, asTenant } from '../tenants/support';
import { discover, openIdClient, RP_ISSUER } from './relying-party';

const NEW_PASSWORD = 'a brand new secret';

onEachDatabase('UserInfo (OIDC Core §5.3)', (database) => {
  let mailbox: Mailbox;
  let server: TestServer;
  let aliceId: string;

  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ ISSUER: RP_ISSUER, SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, database);
    aliceId = (await server.request.post('/signup').send({ username: 'alice', password: PASSWORD, email: emailOf('alice') }).expect(201)).body.id;
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  const userInfo = async (tokens: Tokens, subject = aliceId) => {
    const client = await openIdClient();
    return client.fetchUserInfo(await discover(server, 'tessera'), tokens.access_token, subject);
  };

  it("answers openid-client's fetchUserInfo with the claims of openid profile email", async () => {
    const tokens = await login(server, 'alice', PASSWORD, { scope: 'openid profile email' });
    expect(await userInfo(tokens)).to.deep.equal({ sub: aliceId, preferred_username: 'alice', email: emailOf('alice'), email_verified: false });
  });

  it('releases only what the scopes allow: sub alone with openid, no e-mail without email', async () => {
    expect(await userInfo(await login(server, 'alice', PASSWORD, { scope: 'openid' }))).to.deep.equal({ sub: aliceId });
    expect(await userInfo(await login(server, 'alice', PASSWORD, { scope: 'openid profile tasks:read' }))).to.deep.equal({ sub: aliceId, preferred_username: 'alice' });
  });

  it('answers POST as GET, with no-store', async () => {
    const tokens = await login(server, 'alice', PASSWORD, { scope: 'openid profile' });
    for (const res of [
      await server.request.post('/userinfo').set(bearer(tokens.access_token)),
      await server.request.post('/userinfo').set(bearer(tokens.access_token)).type('form').send(''),
      await server.request.get('/userinfo').set(bearer(tokens.access_token)),
    ]) {
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.deep.equal({ sub: aliceId, preferred_username: 'alice' });
    }
  });

  it('refuses a token without openid with 403 insufficient_scope naming it', async () => {
    const tokens = await login(server, 'alice');
    for (const method of ['get', 'post'] as const) {
      const res = await server.request[method]('/userinfo').set(bearer(tokens.access_token));
      expectError(res, 403, 'insufficient_scope');
      expect(res.headers['www-authenticate']).to.include('error="insufficient_scope"').and.include('scope="openid"');
    }
  });

  it('answers 401 as SPEC §2 says: no token, a bad one, a revoked one', async () => {
    const none = await server.request.get('/userinfo');
    expectError(none, 401, 'unauthorized');
    expect(none.headers['www-authenticate']).to.equal('Bearer realm="tessera"');
    expectInvalidToken(await server.request.get('/userinfo').set(bearer('not.a.token')));
    const tokens = await login(server, 'alice', PASSWORD, { scope: 'openid' });
    await server.request.post('/revoke').type('form').send({ token: tokens.refresh_token }).expect(200);
    expectInvalidToken(await server.request.get('/userinfo').set(bearer(tokens.access_token)));
    const error = await userInfo(tokens).then(
      () => undefined,
      (caught: unknown) => caught as { status?: number },
    );
    expect(error?.status, 'openid-client sees the 401').to.equal(401);
  });

  it('says email_verified once a code mailed to the address came back (a password reset)', async () => {
    await server.request.post('/password/forgot').send({ username: 'alice' }).expect(202);
    const code = codeIn(await mailbox.next(emailOf('alice')));
    await server.request.post('/password/reset').send({ username: 'alice', code, new_password: NEW_PASSWORD }).expect(204);
    const tokens = await login(server, 'alice', NEW_PASSWORD, { scope: 'openid email' });
    expect(await userInfo(tokens)).to.deep.equal({ sub: aliceId, email: emailOf('alice'), email_verified: true });
  });
});

onEachDatabase('UserInfo after e-mail verification', (database) => {
  let mailbox: Mailbox;
  let server: TestServer;
  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ ISSUER: RP_ISSUER, SMTP_URL: mailbox.url, REQUIRE_EMAIL_VERIFICATION: 'true', RATE_LIMITS: 'off' }, database);
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  it('says email_verified: true for an account whose sign-up code came back', async () => {
    const id = (await server.request.post('/signup').send({ username: 'carol', password: PASSWORD, email: emailOf('carol') }).expect(201)).body.id as string;
    const code = codeIn(await mailbox.next(emailOf('carol')));
    await server.request.post('/signup/verify').send({ username: 'carol', code }).expect(204);
    const tokens = await login(server, 'carol', PASSWORD, { scope: 'openid email' });
    const res = await server.request.get('/userinfo').set(bearer(tokens.access_token)).expect(200);
    expect(res.body).to.deep.equal({ sub: id, email: emailOf('carol'), email_verified: true });
  });
});

describe('UserInfo of a tenant', () => {
  it('is at the tenant issuer and answers for its users only', async () => {
    const server = await startServer({ ISSUER: RP_ISSUER });
    try {
      await addTenant(server, 'acme', 'open');
      const acme = await asTenant(server, 'acme');
      const id = (await acme.request.post('/signup').send({ username: 'dave', password: PASSWORD }).expect(201)).body.id as string;
      const tokens = await login(acme, 'dave', PASSWORD, { scope: 'openid profile' });
      const client = await openIdClient();
      const config = await discover(server, 'tessera', '/t/acme');
      expect(config.serverMetadata().userinfo_endpoint).to.equal(`${RP_ISSUER}/t/acme/userinfo`);
      expect(await client.fetchUserInfo(config, tokens.access_token, id)).to.deep.equal({ sub: id, preferred_username: 'dave' });
      expectInvalidToken(await server.request.get('/userinfo').set(bearer(tokens.access_token)));
    } finally {
      await server.close();
    }
  });
});

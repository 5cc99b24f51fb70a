import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD } from '../support/users';
import { addTenant, asTenant } from '../tenants/support';
import { codeIn, emailOf, enableTwoFactor, Mailbox, mfaGrant, mfaToken, otpAt, TestClock } from './account-security-support';

const STEP_MS = 30_000;

describe('verification codes and mfa tokens stay in their tenant (SPEC §8)', () => {
  let mailbox: Mailbox;
  let server: TestServer;
  let acme: TestServer;
  const clock = new TestClock();

  before(async () => {
    clock.freeze(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
    mailbox = await Mailbox.start();
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
    await addTenant(server, 'acme');
    acme = await asTenant(server, 'acme');
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  /** Signs `username` up in `at` with `email` and returns the mailed code. */
  async function signedUp(at: TestServer, username: string, email: string): Promise<string> {
    const res = await at.request.post('/signup').send({ username, password: PASSWORD, email });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return codeIn(await mailbox.next(email));
  }

  it("verifies an account with its own tenant's code, not with the namesake's of another tenant", async () => {
    const acmeCode = await signedUp(acme, 'alice', emailOf('alice.acme'));
    const rootCode = await signedUp(server, 'alice', emailOf('alice.root'));
    // Two codes drawn alike once in a million: then there is nothing to tell apart.
    if (acmeCode !== rootCode) expectError(await server.request.post('/signup/verify').send({ username: 'alice', code: acmeCode }), 400, 'invalid_code');
    expect((await acme.request.post('/signup/verify').send({ username: 'alice', code: acmeCode })).status).to.equal(204);
    await login(acme, 'alice');
    expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD }), 400, 'invalid_grant');
    expect((await server.request.post('/signup/verify').send({ username: 'alice', code: rootCode })).status).to.equal(204);
  });

  it("refuses a reset code of one tenant in another, for a namesake with the same address", async () => {
    await signedUp(acme, 'carl', emailOf('carl'));
    await signedUp(server, 'carl', emailOf('carl'));
    clock.advance(60_000);
    expect((await acme.request.post('/password/forgot').send({ username: 'carl' })).status).to.equal(202);
    const code = codeIn(await mailbox.next(emailOf('carl')));
    const reset = (at: TestServer) => at.request.post('/password/reset').send({ username: 'carl', code, new_password: 'a brand new secret' });
    expectError(await reset(server), 400, 'invalid_code');
    expect((await reset(acme)).status).to.equal(204);
  });

  it("labels the authenticator entry with the tenant's issuer", async () => {
    const code = await signedUp(acme, 'dina', emailOf('dina.acme'));
    expect((await acme.request.post('/signup/verify').send({ username: 'dina', code })).status).to.equal(204);
    const enrol = await acme.request.post('/me/2fa').set(bearer((await login(acme, 'dina')).access_token)).send({ password: PASSWORD });
    const uri = new URL(enrol.body.otpauth_uri as string);
    expect(decodeURIComponent(uri.pathname)).to.equal('/localhost:0/t/acme:dina');
    expect(uri.searchParams.get('issuer')).to.equal('localhost:0/t/acme');
  });

  it("refuses an mfa_token of one tenant at another tenant's token endpoint", async () => {
    const code = await signedUp(acme, 'bob', emailOf('bob.acme'));
    expect((await acme.request.post('/signup/verify').send({ username: 'bob', code })).status).to.equal(204);
    const { secret } = await enableTwoFactor(acme, (await login(acme, 'bob')).access_token, clock);
    clock.advance(STEP_MS);
    const token = await mfaToken(acme, 'bob', PASSWORD);
    expectError(await mfaGrant(server, token, otpAt(secret, clock.now())), 400, 'invalid_grant');
    expect((await mfaGrant(acme, token, otpAt(secret, clock.now()))).status).to.equal(200);
  });
});

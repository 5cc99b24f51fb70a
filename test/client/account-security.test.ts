import { expect } from 'chai';
import { TesseraError } from '../../client/src/index';
import { codeIn, emailOf, Mailbox, otpAt, secretOf, TestClock, wrongCode } from '../accounts/account-security-support';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { clientOf, collect } from './support';

const STEP_MS = 30_000;

/** What a promise rejected with; fails the test when it resolved. */
async function failure(promise: Promise<unknown>): Promise<TesseraError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).to.be.instanceOf(TesseraError);
  return outcome as TesseraError;
}

describe('client: verification, password reset and two-factor sign-in', () => {
  let mailbox: Mailbox;
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    clock.freeze(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
    mailbox = await Mailbox.start();
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  /** A verified account, signed up and released through the client. */
  async function verifiedAccount(username: string) {
    const { client } = clientOf(server);
    expect(await client.signup({ username, password: PASSWORD, email: emailOf(username) })).to.deep.include({ username, verification_pending: true });
    await client.verifySignup(username, codeIn(await mailbox.next(emailOf(username))));
    return client;
  }

  it('signs up, is told verification is pending at login, verifies with the mailed code and logs in', async () => {
    const { client } = clientOf(server);
    await client.signup({ username: 'alice', password: PASSWORD, email: emailOf('alice') });
    const pending = await failure(client.login('alice', PASSWORD));
    expect(pending.code).to.equal('invalid_grant');
    expect(pending.body.verification_pending).to.equal(true);
    await client.resendVerification('alice');
    await client.verifySignup('alice', codeIn(await mailbox.next(emailOf('alice'))));
    const logins = collect(client, 'login');
    expect((await client.login('alice', PASSWORD)).username).to.equal('alice');
    expect(logins).to.deep.equal([{ username: 'alice' }]);
  });

  it('resets a forgotten password: the other device is logged out, the new password works', async () => {
    const phone = await verifiedAccount('bob');
    await phone.login('bob', PASSWORD);
    const logouts = collect(phone, 'logout');
    const { client } = clientOf(server);
    await client.forgotPassword({ email: emailOf('bob') });
    await client.resetPassword('bob', codeIn(await mailbox.next(emailOf('bob'))), 'a brand new secret');
    expect((await failure(phone.me())).code).to.equal('invalid_grant');
    expect(logouts).to.deep.equal([{ reason: 'expired' }]);
    await client.login('bob', 'a brand new secret');
  });

  it('resolves forgotPassword alike for an unknown user', async () => {
    const { client } = clientOf(server);
    expect(await client.forgotPassword({ username: 'nobody-at-all' })).to.equal(undefined);
  });

  it('manages the account with the default scope of login, and is refused (insufficient_scope) with a narrower one', async () => {
    const client = await verifiedAccount('dina');
    expect((await client.login('dina', PASSWORD)).scope.split(' ')).to.include('account');
    expect(await client.sessions.list()).to.have.length(1);
    expect((await failure(client.twoFactor.enrol('not the password'))).code).to.equal('forbidden');
    await client.changePassword(PASSWORD, 'a brand new secret');

    const { client: widget } = clientOf(server);
    await widget.login('dina', 'a brand new secret', { scope: 'tasks:read' });
    const refused = await failure(widget.sessions.list());
    expect({ status: refused.status, code: refused.code }).to.deep.equal({ status: 403, code: 'insufficient_scope' });
    expect((await failure(widget.twoFactor.enrol('a brand new secret'))).code).to.equal('insufficient_scope');
    expect((await widget.me()).username).to.equal('dina');
  });

  it('enrols and confirms two-factor sign-in; login then surfaces mfa_required and loginMfa completes it', async () => {
    const client = await verifiedAccount('carol');
    await client.login('carol', PASSWORD);
    const enrolment = await client.twoFactor.enrol(PASSWORD);
    expect(enrolment.recovery_codes).to.have.length(10);
    const secret = secretOf(enrolment.otpauth_uri);
    await client.twoFactor.confirm(otpAt(secret, clock.now()));
    expect(await client.twoFactor.status()).to.deep.equal({ enabled: true, pending: false, recovery_codes_left: 10 });
    clock.advance(STEP_MS);

    const { client: laptop } = clientOf(server);
    const logins = collect(laptop, 'login');
    const challenge = await failure(laptop.login('carol', PASSWORD));
    expect(challenge.code).to.equal('mfa_required');
    expect(challenge.status).to.equal(400);
    expect(await laptop.loggedIn()).to.equal(false);
    const otp = otpAt(secret, clock.now());
    expect((await failure(laptop.loginMfa(wrongCode(otp)))).code).to.equal('invalid_grant');
    expect((await laptop.loginMfa(otp)).username).to.equal('carol');
    expect(logins).to.deep.equal([{ username: 'carol' }]);
    expect((await laptop.me()).username).to.equal('carol');
    expect((await failure(laptop.loginMfa(otp))).code).to.equal('mfa_not_pending');

    const { client: tablet } = clientOf(server);
    await failure(tablet.login('carol', PASSWORD));
    await tablet.loginMfa(enrolment.recovery_codes[0]!);
    await tablet.twoFactor.disable(enrolment.recovery_codes[1]!);
    expect((await clientOf(server).client.login('carol', PASSWORD)).username).to.equal('carol');
  });
});

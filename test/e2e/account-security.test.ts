import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { base32Decode } from '../../src/accounts/two-factor-totp';
import { codeIn, emailOf, Mailbox, otpAt, TestClock, wrongCode } from '../accounts/account-security-support';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { prepareBrowser, openBrowser, screenshot, type Person } from './browser';

const STEP_MS = 30_000;

describe('web client: e-mail verification and two-step sign-in (Chromium)', function () {
  this.timeout(30_000);
  let mailbox: Mailbox;
  let server: TestServer;
  let browser: Browser;
  let dora: Person;
  let secret: Buffer;
  const clock = new TestClock();

  before(async function () {
    browser = await prepareBrowser(this);
    mailbox = await Mailbox.start();
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await mailbox?.close();
  });

  it('creates an account: asks for the e-mail address, then for the mailed code, then signs in', async () => {
    dora = await openBrowser(browser, server);
    const { page } = dora;
    await page.getByLabel('Username').fill('dora');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Your e-mail address' }).waitFor();
    await page.getByLabel('E-mail', { exact: true }).fill(emailOf('dora'));
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    await screenshot(page, '9-verify-email');

    const code = codeIn(await mailbox.next(emailOf('dora')));
    await page.getByLabel('Code', { exact: true }).fill(wrongCode(code));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'The code is wrong' }).waitFor();
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
  });

  it('turns two-step sign-in on in the devices view with the current password and a code from the app', async () => {
    const { page } = dora;
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor();
    // The Passkeys section asks for the current password too: this one is two-step sign-in's.
    const currentPassword = page.getByRole('region', { name: 'Two-step sign-in' }).getByLabel('Current password');
    await currentPassword.fill('not the password');
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByText('The current password is wrong.').waitFor();
    expect(await page.locator('code.secret').count()).to.equal(0);
    await currentPassword.fill(PASSWORD);
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    const key = (await page.locator('code.secret').textContent())!.replace(/\s/g, '');
    expect(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()).to.equal(10);
    expect(await page.getByRole('link', { name: 'open it in the app' }).getAttribute('href')).to.match(/^otpauth:\/\/totp\//);
    await screenshot(page, '10-two-step-enrol');
    secret = base32Decode(key);
    await page.getByLabel('Code from the app').fill(otpAt(secret, clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('On · 10 recovery codes left.').waitFor();
  });

  it('asks for the code at the next sign-in, and refuses a wrong one', async () => {
    const { page } = dora;
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByLabel('Username').fill('dora');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await screenshot(page, '11-two-step-challenge');
    clock.advance(STEP_MS);
    const otp = otpAt(secret, clock.now());
    await page.getByLabel('Code', { exact: true }).fill(wrongCode(otp));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();
    await page.getByLabel('Code', { exact: true }).fill(otp);
    await page.getByRole('button', { name: 'Verify' }).click();
    // Back where the app was when signed out.
    await page.getByRole('heading', { name: 'Your devices' }).waitFor();
    await page.getByText('On · 10 recovery codes left.').waitFor();
  });
});

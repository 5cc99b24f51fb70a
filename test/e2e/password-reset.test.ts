import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { codeIn, emailOf, Mailbox, wrongCode } from '../accounts/account-security-support';
import { expectError } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { login, PASSWORD } from '../support/users';
import { prepareBrowser, openBrowser, screenshot, type Person } from './browser';

const NEW_PASSWORD = 'a password after the reset';
const KEYBOARD_PASSWORD = 'a password typed at the keyboard';

describe('web client: forgot password (Chromium)', function () {
  this.timeout(30_000);
  let mailbox: Mailbox;
  let server: TestServer;
  let browser: Browser;
  const people: Person[] = [];

  before(async function () {
    browser = await prepareBrowser(this);
    mailbox = await Mailbox.start();
    server = await startServer({ SMTP_URL: mailbox.url, RATE_LIMITS: 'off' });
    for (const username of ['erin', 'fred']) {
      const res = await server.request.post('/signup').send({ username, password: PASSWORD, email: emailOf(username) });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await mailbox?.close();
  });

  it('resets a forgotten password with the mailed code, refusing a wrong one, and signs in with the new password', async () => {
    const erin = await openBrowser(browser, server);
    people.push(erin);
    const { page } = erin;
    await page.getByLabel('Username').fill('erin');
    await page.getByRole('button', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    expect(await page.getByLabel('Username or e-mail').inputValue()).to.equal('erin');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await screenshot(page, '12-reset-password');

    const code = codeIn(await mailbox.next(emailOf('erin')));
    expect(await page.getByLabel('Username', { exact: true }).inputValue()).to.equal('erin');
    await page.getByLabel('Code', { exact: true }).fill(wrongCode(code));
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').filter({ hasText: 'The code is wrong' }).waitFor();
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();

    expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'erin', password: PASSWORD }), 400, 'invalid_grant');
    await login(server, 'erin', NEW_PASSWORD);
  });

  it('works with the keyboard alone, starting from an e-mail address', async () => {
    const fred = await openBrowser(browser, server);
    people.push(fred);
    const { page } = fred;
    const { keyboard } = page;
    await page.getByLabel('Username').focus();
    for (const _ of ['password', 'Sign in', 'Create account', 'Forgot password?']) await keyboard.press('Tab');
    await keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    // The field has the focus; Enter sends the code.
    await keyboard.type(emailOf('fred'));
    await keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();

    const code = codeIn(await mailbox.next(emailOf('fred')));
    // Without a username given, the username field is the first to fill (the mail names the account).
    await keyboard.type('fred');
    await keyboard.press('Tab');
    await keyboard.type(code);
    await keyboard.press('Tab');
    await keyboard.type(KEYBOARD_PASSWORD);
    await keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    await login(server, 'fred', KEYBOARD_PASSWORD);
  });

  it('breaks no rule of the Content Security Policy on the way', () => {
    expect(people.flatMap((person) => person.cspViolations)).to.deep.equal([]);
  });
});

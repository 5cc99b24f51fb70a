import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { startServer, type TestServer } from '../support/server';
import { bearer, login } from '../support/users';
import { prepareBrowser, messageTexts, openBrowser, screenshot, signIn, type Person } from './browser';

const LOGGED_OUT_WITHIN_MS = 2_000;
const HOUR = 3_600_000;

/** Drops a user's sockets on the server side: with the browser offline, the app cannot get back until it is online. */
function cutSockets(server: TestServer, userId: string): void {
  for (const connection of server.tessera.gateway.registry.ofUser('default', userId)) connection.terminate();
}

describe('web client at GET / (Chromium)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let aliceElsewhere: Person;
  const people = () => [alice, bob, aliceElsewhere].filter(Boolean);

  before(async function () {
    browser = await prepareBrowser(this);
    server = await startServer({ RATE_LIMITS: 'off' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs up with the keyboard on a phone-sized page', async () => {
    bob = await openBrowser(browser, server);
    await signIn(bob.page, 'bob', { signup: true });
    alice = await openBrowser(browser, server);
    await screenshot(alice.page, '1-sign-in');
    await alice.page.getByLabel('Username').focus();
    await alice.page.keyboard.type('alice');
    await alice.page.keyboard.press('Tab');
    await alice.page.keyboard.type('correct horse battery');
    await alice.page.keyboard.press('Tab'); // "Sign in"
    await alice.page.keyboard.press('Tab'); // "Create account"
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('heading', { name: 'Chats' }).waitFor();
    expect(await alice.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).to.deep.equal(['Chats', 'Tasks', 'Calendar', 'Devices']);
  });

  it('keeps the refresh token out of script (cookie mode) and stays signed in across a reload', async () => {
    const cookies = await alice.context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'tessera_rt')).to.include({ httpOnly: true, sameSite: 'Strict' });
    expect(await alice.page.evaluate('document.cookie')).to.be.a('string').and.not.include('tessera_rt');
    const refresh = alice.page.waitForResponse((res) => res.url().endsWith('/token') && res.request().method() === 'POST');
    await alice.page.reload();
    const body = (await (await refresh).json()) as Record<string, unknown>;
    expect(body).to.have.property('access_token').and.not.have.property('refresh_token');
    // DPoP (SPEC §11): the session is bound to a key kept in IndexedDB, which the reloaded page still has.
    expect(body.token_type).to.equal('DPoP');
    await alice.page.getByRole('heading', { name: 'Chats' }).waitFor();
  });

  it('chats live between two browsers, with a delivery tick once the server acknowledges', async () => {
    await alice.page.getByLabel('With (usernames, comma-separated)').fill('bob');
    await alice.page.getByRole('button', { name: 'Start' }).click();
    await alice.page.getByRole('heading', { name: 'bob' }).waitFor();
    await alice.page.getByRole('textbox', { name: 'Message' }).fill('Hi Bob!');
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('img', { name: 'Delivered' }).waitFor();

    // Bob's list updates from the socket; he opens the conversation and answers.
    await bob.page.getByRole('link', { name: /alice/ }).click();
    await bob.page.getByText('Hi Bob!').waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('Hello Alice');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await alice.page.getByText('Hello Alice').waitFor();
    expect(await messageTexts(alice.page)).to.deep.equal(['Hi Bob!', 'Hello Alice']);
    await screenshot(alice.page, '3-chat');
    await bob.page.getByRole('link', { name: '← Chats' }).click();
    await bob.page.getByRole('link', { name: /alice/ }).waitFor();
    await screenshot(bob.page, '2-chats');
    await bob.page.getByRole('link', { name: /alice/ }).click();
    await bob.page.getByText('Hello Alice').waitFor();
  });

  it("brings back bob's cut socket: he gets what he missed, in order", async () => {
    const bobUser = await server.tessera.services.users.queries.findByUsername('default', 'bob');
    await bob.context.setOffline(true);
    cutSockets(server, bobUser!.id);
    await bob.page.getByRole('status').filter({ hasText: 'Offline, reconnecting…' }).waitFor();
    for (const content of ['missed one', 'missed two', 'missed three']) {
      await alice.page.getByRole('textbox', { name: 'Message' }).fill(content);
      await alice.page.keyboard.press('Enter');
    }
    await alice.page.getByRole('img', { name: 'Delivered' }).nth(3).waitFor();
    await screenshot(bob.page, '4-chat-offline');
    expect(await messageTexts(bob.page)).to.deep.equal(['Hi Bob!', 'Hello Alice']);

    await bob.context.setOffline(false);
    await bob.page.getByText('missed three').waitFor();
    expect(await messageTexts(bob.page)).to.deep.equal(['Hi Bob!', 'Hello Alice', 'missed one', 'missed two', 'missed three']);
    await bob.page.getByRole('status').filter({ hasText: 'Online' }).waitFor();
    await screenshot(bob.page, '4-chat-back-online');
  });

  it('adds, completes and deletes tasks', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Tasks' }).click();
    for (const title of ['Buy milk', 'Call mum', 'File taxes']) {
      await page.getByLabel('New task').fill(title);
      await page.keyboard.press('Enter');
      await page.getByText(title).waitFor();
    }
    await page.getByRole('checkbox', { name: 'Call mum' }).check();
    await page.locator('li.done', { hasText: 'Call mum' }).waitFor();
    await page.getByRole('button', { name: 'Delete File taxes' }).click();
    await page.getByText('File taxes').waitFor({ state: 'detached' });
    await screenshot(page, '5-tasks');
    const { access_token: token } = await login(server, 'alice');
    const stored = (await server.request.get('/tasks').set(bearer(token))).body as Array<{ title: string; completed: boolean }>;
    expect(stored.map((task) => [task.title, task.completed])).to.deep.equal([['Call mum', true], ['Buy milk', false]]);
  });

  it('lists the coming week of the calendar', async () => {
    const { access_token: token } = await login(server, 'alice');
    const at = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString();
    for (const [title, start] of [['Dentist', 26], ['Team lunch', 50], ['Holiday', 24 * 10]] as const) {
      const res = await server.request.post('/calendar/events').set(bearer(token)).send({ title, start_time: at(start), end_time: at(start + 1), location: 'Town' });
      expect(res.status).to.equal(201);
    }
    await alice.page.getByRole('link', { name: 'Calendar' }).click();
    await alice.page.getByRole('heading', { name: 'This week' }).waitFor();
    await alice.page.getByText('Team lunch').waitFor();
    expect(await alice.page.locator('.days strong').allTextContents()).to.deep.equal(['Dentist', 'Team lunch']);
    await screenshot(alice.page, '6-calendar');
  });

  it('lists your devices; "log out everywhere" signs the other browser out within 2 s', async () => {
    aliceElsewhere = await openBrowser(browser, server);
    await signIn(aliceElsewhere.page, 'alice');
    await alice.page.getByRole('link', { name: 'Devices' }).click();
    await alice.page.getByRole('heading', { name: 'Your devices' }).waitFor();
    // Two browser sessions (the reload refreshed the first, it did not start another) and the tests' own logins
    const browsers = alice.page.locator('.list li', { hasText: 'Chrome on Linux' });
    await browsers.nth(1).waitFor();
    expect(await browsers.count()).to.equal(2);
    expect(await alice.page.getByText('This device').count()).to.equal(1);
    await screenshot(alice.page, '7-devices');

    await alice.page.getByRole('button', { name: 'Log out everywhere' }).click();
    await alice.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await aliceElsewhere.page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: LOGGED_OUT_WITHIN_MS });
    expect(await aliceElsewhere.page.getByRole('alert').textContent()).to.include('You were signed out');
    await screenshot(aliceElsewhere.page, '8-signed-out');
  });

  it('raised no Content Security Policy violation on any page (the same-origin socket included)', () => {
    expect(people().flatMap((person) => person.cspViolations)).to.deep.equal([]);
  });
});

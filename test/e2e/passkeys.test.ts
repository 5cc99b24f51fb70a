import { createServer } from 'node:net';
import { expect } from 'chai';
import type { Browser, CDPSession } from 'playwright-core';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import jwt from 'jsonwebtoken';
import { expectRefused } from '../accounts/passkey-support';
import { authorizeParams, codeClient, pkce } from '../authorize/support';
import { basicAuth, tokenRequest } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { signup, PASSWORD } from '../support/users';
import { openBrowser, prepareBrowser, screenshot, signIn, type Person } from './browser';
import { RelyingPartyPages } from './relying-party';

/** A port free right now: the ISSUER must name it before the server listens on it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** A CDP virtual authenticator like a phone's or laptop's built-in one (WebAuthn §5.4.6 "platform", resident keys, user verification). */
async function addVirtualAuthenticator(cdp: CDPSession): Promise<string> {
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return authenticatorId;
}

describe('web client: passkeys on the devices page (Chromium, CDP virtual authenticator)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let cdp: CDPSession;
  let authenticatorId: string;
  let origin: string;
  let rp: RelyingPartyPages;

  before(async function () {
    browser = await prepareBrowser(this);
    // WebAuthn needs a secure context and an RP ID that is the page's host: http://localhost is both
    // (an IP address is never an RP ID), so the issuer, and the page, are http://localhost:<port>.
    const port = await freePort();
    origin = `http://localhost:${port}`;
    rp = await RelyingPartyPages.start();
    server = await startServer({ ISSUER: `http://localhost:${port}`, RATE_LIMITS: 'off' }, 'sqlite', { port });
    await signup(server, 'alice');
    alice = await openBrowser(browser, { ...server, url: `http://localhost:${port}` });
    cdp = await alice.context.newCDPSession(alice.page);
    authenticatorId = await addVirtualAuthenticator(cdp);
    await signIn(alice.page, 'alice');
  });
  after(async () => {
    await browser?.close();
    await rp?.close();
    await server?.close();
  });

  /**
   * The discoverable sign-in the login page will run: options from the ceremony, `navigator.credentials.get`
   * in the page (no username given: the authenticator picks its resident credential), then the check.
   */
  async function signInFromPage() {
    const ceremony = new PasskeySignInCeremony(server.tessera.services);
    const { challengeId, options } = await ceremony.authenticationOptions();
    const response: unknown = await alice.page.evaluate(`(async () => {
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(${JSON.stringify(options)}) });
      return credential.toJSON();
    })()`);
    return ceremony.verifyAuthentication(response, challengeId);
  }

  const passkeys = () => alice.page.getByRole('list', { name: 'Passkeys' }).getByRole('listitem');

  it('adds a passkey after the current password: the authenticator holds a resident credential the server can verify', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    await page.getByLabel('Current password').last().fill(PASSWORD);
    await page.getByLabel('Name (optional)').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await passkeys().filter({ hasText: 'Laptop' }).waitFor();
    await screenshot(page, 'passkeys-1-added');

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).to.have.length(1);
    expect(credentials[0]!.isResidentCredential).to.equal(true);
    expect(credentials[0]!.rpId).to.equal('localhost');
    const [row] = await server.tessera.services.db('passkeys').select('credential_id', 'name');
    expect(row).to.deep.equal({ credential_id: credentials[0]!.credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'), name: 'Laptop' });
  });

  it('signs in with it through the sign-in ceremony, no username given, and shows when it was last used', async () => {
    const signedIn = await signInFromPage();
    expect(signedIn.user.username).to.equal('alice');
    await alice.page.reload();
    await passkeys().filter({ hasText: 'used' }).filter({ hasNotText: 'not used yet' }).waitFor();
  });

  it('signs in to a third-party app through /authorize with the passkey only: no username, no password, amr hwk user', async () => {
    const { page } = alice;
    // A loopback redirect URI matches on any port (RFC 8252 §7.3).
    const app = await codeClient(server, { redirectUris: ['http://127.0.0.1/callback'] });
    const { verifier, challenge } = pkce();
    const params = authorizeParams(app, challenge, { redirect_uri: rp.redirectUri, prompt: 'login' });
    await page.goto(`${origin}/authorize?${new URLSearchParams(params).toString()}`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    const back = await rp.next();
    expect(back.url.searchParams.get('state')).to.equal('st-123');
    const code = back.url.searchParams.get('code')!;
    const tokens = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier }).set(basicAuth(app.id, app.secret!));
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect(jwt.decode(tokens.body.id_token as string)).to.deep.include({ preferred_username: 'alice', amr: ['hwk', 'user'] });
    // Back to the web client's devices page, where the next steps happen.
    await page.goto(`${origin}/`);
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
  });

  it('renames and removes it from the page; then it signs in no more', async () => {
    const { page } = alice;
    page.once('dialog', (dialog) => void dialog.accept('Work laptop'));
    await page.getByRole('button', { name: 'Rename Laptop' }).click();
    await passkeys().filter({ hasText: 'Work laptop' }).waitFor();
    await page.getByRole('button', { name: 'Remove Work laptop' }).click();
    await passkeys().first().waitFor({ state: 'detached' });
    expect(await server.tessera.services.db('passkeys').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    await expectRefused(signInFromPage());
  });

  it('refuses the wrong current password without asking the authenticator', async () => {
    const { page } = alice;
    await page.getByLabel('Current password').last().fill('not the password');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('The current password is wrong.').waitFor();
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).to.have.length(1);
  });
});

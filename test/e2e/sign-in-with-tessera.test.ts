import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type * as OpenId from 'openid-client' with { 'resolution-mode': 'import' };
import type { Browser, Page } from 'playwright-core';
import { enableTwoFactor, otpAt, TestClock } from '../accounts/account-security-support';
import { onEachDatabase, startServer, type DatabaseKind, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, signup } from '../support/users';
import { addTenant, asTenant } from '../tenants/support';
import { codeClient, type CodeClient } from '../authorize/support';
import { prepareBrowser, screenshot } from './browser';
import { RelyingPartyPages } from './relying-party';

const STEP_MS = 10_000;

/**
 * A URL of tessera's issuer on the address the test server listens on: the server starts on port 0,
 * so ISSUER (`http://localhost:0`) names no reachable address, while every URL it publishes hangs under it.
 */
function reachable(server: TestServer, url: string | URL): string {
  const { issuer } = server.tessera.services.config;
  const root = new URL(issuer).origin;
  const href = String(url);
  return href.startsWith(root) ? `${new URL(server.url).origin}${href.slice(root.length)}` : href;
}

/** The relying party: openid-client configured from tessera's discovery document at the tenant's issuer. */
async function relyingParty(oidc: typeof OpenId, server: TestServer, client: CodeClient): Promise<OpenId.Configuration> {
  const auth = client.secret === undefined ? oidc.None() : oidc.ClientSecretBasic(client.secret);
  const customFetch: OpenId.CustomFetch = (url, options) => fetch(reachable(server, url), options as RequestInit);
  return oidc.discovery(new URL(server.tessera.services.config.issuer), client.id, undefined, auth, { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: customFetch });
}

/** One authorization request's secrets, kept by the relying party. */
interface Attempt {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

async function attempt(oidc: typeof OpenId, config: OpenId.Configuration, redirectUri: string, extra: Record<string, string> = {}): Promise<Attempt> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email tasks:read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** Signs in on tessera's login page with the keyboard, as a person would. */
async function signInOnPage(page: Page, username: string): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const atHash = (accessToken: string) => createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');

function suite(database: DatabaseKind) {
  let oidc: typeof OpenId;
  let jose: typeof Jose;
  let browser: Browser;
  let server: TestServer;
  let rp: RelyingPartyPages;
  const clock = new TestClock();

  before(async function () {
    browser = await prepareBrowser(this);
    oidc = await import('openid-client');
    jose = await import('jose');
    server = await startServer({ RATE_LIMITS: 'off' }, database, { clock: clock.now });
    rp = await RelyingPartyPages.start();
    await signup(server, 'alice');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await rp?.close();
  });

  /** A fresh browser (its own cookies) with one page. */
  async function newPage() {
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP_MS);
    return { context, page: await context.newPage() };
  }

  // On PostgreSQL only the full code flows run: the rest is the same code over the same queries.
  const onSqlite = (title: string, test: () => Promise<void>) => {
    if (database === 'sqlite') it(title, test);
  };
  const registered = (target: TestServer, options: Parameters<typeof codeClient>[1] = {}) =>
    codeClient(target, { redirectUris: [`http://127.0.0.1/callback`], postLogoutRedirectUris: [rp.signedOutUri], ...options });

  /** The id token verified against the JWKS, with the claims SPEC §10 names. */
  async function verifiedIdToken(target: TestServer, config: OpenId.Configuration, idToken: string, accessToken: string, nonce: string, clientId: string) {
    const jwks = jose.createRemoteJWKSet(new URL(reachable(target, config.serverMetadata().jwks_uri!)));
    const { payload, protectedHeader } = await jose.jwtVerify(idToken, jwks, { issuer: target.tessera.services.config.issuer, audience: clientId });
    expect(protectedHeader.alg).to.equal('RS256');
    expect(payload.nonce).to.equal(nonce);
    expect(payload.at_hash).to.equal(atHash(accessToken));
    expect(payload.azp).to.equal(clientId);
    expect(payload.auth_time).to.be.a('number');
    expect(payload.sid).to.be.a('string');
    return payload;
  }

  it('signs a person in for a confidential client: login, consent, code, tokens and an id token verified against the JWKS', async () => {
    const client = await registered(server);
    const config = await relyingParty(oidc, server, client);
    const request = await attempt(oidc, config, rp.redirectUri);
    const { context, page } = await newPage();
    await page.goto(reachable(server, request.url));
    await screenshot(page, 'oidc-1-login');
    await signInOnPage(page, 'alice');
    await page.getByRole('heading', { name: 'Allow Example App?' }).waitFor();
    expect(await page.getByRole('listitem').allTextContents()).to.include.members(['Know who you are on tessera (openid)', 'See your tasks (tasks:read)']);
    await screenshot(page, 'oidc-2-consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    const back = await rp.next();
    expect(back.url.searchParams.get('iss')).to.equal(server.tessera.services.config.issuer);

    const tokens = await oidc.authorizationCodeGrant(config, back.url, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true });
    const claims = await verifiedIdToken(server, config, tokens.id_token!, tokens.access_token, request.nonce, client.id);
    expect(claims.preferred_username).to.equal('alice');
    expect(tokens.refresh_token, 'a third-party client without offline_access gets no refresh token').to.equal(undefined);
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(200);

    // With the browser session and the consent, prompt=none comes straight back with a code.
    const silent = await attempt(oidc, config, rp.redirectUri, { prompt: 'none' });
    await page.goto(reachable(server, silent.url));
    const again = await rp.next();
    const more = await oidc.authorizationCodeGrant(config, again.url, { pkceCodeVerifier: silent.verifier, expectedState: silent.state, expectedNonce: silent.nonce });
    expect(more.access_token).to.be.a('string');
    await context.close();
  });

  it('answers prompt=none without a browser session with login_required, and Deny with access_denied', async () => {
    const client = await registered(server, { confidential: false });
    const config = await relyingParty(oidc, server, client);
    const { context, page } = await newPage();
    const silent = await attempt(oidc, config, rp.redirectUri, { prompt: 'none' });
    await page.goto(reachable(server, silent.url));
    const refused = await rp.next();
    expect(refused.url.searchParams.get('error')).to.equal('login_required');
    expect(refused.url.searchParams.get('state')).to.equal(silent.state);

    const request = await attempt(oidc, config, rp.redirectUri);
    await page.goto(reachable(server, request.url));
    await signInOnPage(page, 'alice');
    await page.getByRole('button', { name: 'Deny' }).click();
    const denied = await rp.next();
    const error = await oidc.authorizationCodeGrant(config, denied.url, { pkceCodeVerifier: request.verifier, expectedState: request.state }).catch((e: unknown) => e);
    expect((error as { error?: string }).error).to.equal('access_denied');
    await context.close();
  });

  it('lets a public client with PKCE sign in; its code works once, and a replay ends what the first use issued', async () => {
    const client = await registered(server, { confidential: false, firstParty: true, scope: 'openid profile offline_access tasks:read' });
    const config = await relyingParty(oidc, server, client);
    const { context, page } = await newPage();
    const request = await attempt(oidc, config, rp.redirectUri, { scope: 'openid offline_access tasks:read', response_mode: 'form_post' });
    await page.goto(reachable(server, request.url));
    await signInOnPage(page, 'alice');
    const back = await rp.next();
    expect(back.method).to.equal('POST');
    const callback = new URL(`${rp.redirectUri}?${back.form.toString()}`);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.refresh_token).to.be.a('string');
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(200);
    const replay = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }).catch((e: unknown) => e);
    expect((replay as { error?: string }).error).to.equal('invalid_grant');
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(401);
    await context.close();
  });

  onSqlite('asks a two-factor user for the authenticator code, and for the password again with prompt=login and max_age', async () => {
    await signup(server, 'bob');
    const { secret } = await enableTwoFactor(server, (await login(server, 'bob')).access_token, clock);
    const client = await registered(server, { firstParty: true });
    const config = await relyingParty(oidc, server, client);
    const { context, page } = await newPage();
    const request = await attempt(oidc, config, rp.redirectUri);
    await page.goto(reachable(server, request.url));
    await signInOnPage(page, 'bob');
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await screenshot(page, 'oidc-3-two-factor');
    clock.advance(30_000);
    const otp = otpAt(secret, clock.now());
    await page.getByLabel('Code').fill(otp === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();
    await page.getByLabel('Code').fill(otp);
    await page.getByRole('button', { name: 'Verify' }).click();
    const back = await rp.next();
    const first = await oidc.authorizationCodeGrant(config, back.url, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    const firstAuthTime = first.claims()!.auth_time!;

    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
      const fresh = await attempt(oidc, config, rp.redirectUri, extra);
      await page.goto(reachable(server, fresh.url));
      await signInOnPage(page, 'bob');
      clock.advance(30_000);
      await page.getByLabel('Code').fill(otpAt(secret, clock.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      const again = await rp.next();
      const tokens = await oidc.authorizationCodeGrant(config, again.url, { pkceCodeVerifier: fresh.verifier, expectedState: fresh.state, expectedNonce: fresh.nonce, ...(extra.max_age ? { maxAge: 0 } : {}) });
      expect(tokens.claims()!.auth_time).to.be.at.least(firstAuthTime);
    }
    await context.close();
  });

  onSqlite('signs the person out at end_session_endpoint: back to the registered URI with state, and the tokens stop working', async () => {
    const client = await registered(server, { firstParty: true });
    const config = await relyingParty(oidc, server, client);
    const { context, page } = await newPage();
    const request = await attempt(oidc, config, rp.redirectUri);
    await page.goto(reachable(server, request.url));
    await signInOnPage(page, 'alice');
    const tokens = await oidc.authorizationCodeGrant(config, (await rp.next()).url, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });

    await page.goto(reachable(server, oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: rp.signedOutUri, state: 'bye' })));
    const out = await rp.next();
    expect(out.url.pathname).to.equal('/signed-out');
    expect(out.url.searchParams.get('state')).to.equal('bye');
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(401);
    const silent = await attempt(oidc, config, rp.redirectUri, { prompt: 'none' });
    await page.goto(reachable(server, silent.url));
    expect((await rp.next()).url.searchParams.get('error')).to.equal('login_required');

    // An unregistered post_logout_redirect_uri is not followed: the person sees a signed-out page instead.
    await page.goto(reachable(server, oidc.buildEndSessionUrl(config, { client_id: client.id, post_logout_redirect_uri: 'https://evil.example/' })));
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    expect(page.url()).to.match(/\/end-session\?/);
    await context.close();
  });

  onSqlite('serves a tenant at its own issuer (/t/acme)', async () => {
    await addTenant(server, 'acme');
    const acme = await asTenant(server, 'acme');
    await signup(acme, 'carol');
    const client = await registered(acme, { firstParty: true });
    const config = await relyingParty(oidc, acme, client);
    expect(config.serverMetadata().issuer).to.equal(`${server.tessera.services.config.issuer}/t/acme`);
    const { context, page } = await newPage();
    const request = await attempt(oidc, config, rp.redirectUri);
    expect(request.url.pathname).to.equal('/t/acme/authorize');
    await page.goto(reachable(server, request.url));
    await signInOnPage(page, 'carol');
    const back = await rp.next();
    expect(back.url.searchParams.get('iss')).to.equal(`${server.tessera.services.config.issuer}/t/acme`);
    const tokens = await oidc.authorizationCodeGrant(config, back.url, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    await verifiedIdToken(acme, config, tokens.id_token!, tokens.access_token, request.nonce, client.id);
    expect((await acme.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(200);
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token))).status).to.equal(401);
    await context.close();
  });
}

onEachDatabase('Sign in with tessera: openid-client as the relying party, a person in Chromium (SPEC §10)', (database) => {
  describe('flows', function () {
    this.timeout(60_000);
    suite(database);
  });
});

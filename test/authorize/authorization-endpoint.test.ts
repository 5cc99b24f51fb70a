import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { PASSKEY_SCRIPT } from '../../src/pages/passkey-script';
import { startServer, type TestServer } from '../support/server';
import { basicAuth, tokenRequest } from '../support/oauth';
import { bearer, login, signup } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, formOf, pkce, REDIRECT_URI, redirectParams, type CodeClient } from './support';

describe('authorization endpoint: requests, errors and pages (SPEC §10)', function () {
  this.timeout(20_000);
  let server: TestServer;
  let app: CodeClient;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    app = await codeClient(server);
    await signup(server, 'alice');
  });
  after(() => server?.close());

  describe('requests it cannot answer at the redirect URI', () => {
    it('shows an error page (400), never a redirect, for an unknown client_id', async () => {
      const res = await new BrowserAgent(server).get('/authorize', authorizeParams({ id: 'c_nobody', secret: undefined }, pkce().challenge));
      expect(res.status).to.equal(400);
      expect(res.location).to.equal(undefined);
      expect(res.body).to.include('Unknown application');
    });

    it('shows an error page for a redirect_uri that is not registered, and does not send the person there', async () => {
      for (const redirectUri of ['https://evil.example/callback', `${REDIRECT_URI}/extra`, `${REDIRECT_URI}?x=1`, 'https://app.example/callback#frag', 'HTTPS://APP.EXAMPLE/callback']) {
        const res = await new BrowserAgent(server).get('/authorize', authorizeParams(app, pkce().challenge, { redirect_uri: redirectUri }));
        expect(res.status, redirectUri).to.equal(400);
        expect(res.location, redirectUri).to.equal(undefined);
        expect(res.body).to.include('Wrong return address').and.not.include('evil.example');
      }
    });

    it('answers a client that does not ask for HTML with the SPEC §2 JSON error body instead of the page', async () => {
      const res = await server.request.get('/authorize').query(authorizeParams(app, pkce().challenge, { redirect_uri: 'https://evil.example/' }));
      expect(res.status).to.equal(400);
      expect(res.headers.location).to.equal(undefined);
      expect(res.body).to.deep.include({ error: 'invalid_request' });
      expect(res.body.error_description).to.include('not registered');
    });

    it('shows an error page when client_id or redirect_uri is repeated', async () => {
      const url = new URL('/authorize', server.url);
      for (const [name, value] of Object.entries(authorizeParams(app, pkce().challenge))) url.searchParams.append(name, value);
      url.searchParams.append('redirect_uri', 'https://evil.example/');
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
    });
  });

  describe('errors redirected to the client (RFC 6749 §4.1.2.1), with state and iss', () => {
    const errorOf = async (extra: Record<string, string>, omit: string[] = []) => {
      const params = authorizeParams(app, pkce().challenge, extra);
      for (const name of omit) delete params[name];
      const answer = await new BrowserAgent(server).get('/authorize', params);
      const query = redirectParams(answer);
      expect(answer.location!.startsWith(`${REDIRECT_URI}?`)).to.equal(true);
      expect(query.get('state')).to.equal('st-123');
      expect(query.get('iss')).to.equal(server.tessera.services.config.issuer);
      return query;
    };

    it('refuses a request without PKCE, or with plain PKCE: invalid_request', async () => {
      expect((await errorOf({}, ['code_challenge', 'code_challenge_method'])).get('error')).to.equal('invalid_request');
      expect((await errorOf({ code_challenge_method: 'plain' })).get('error')).to.equal('invalid_request');
      expect((await errorOf({}, ['code_challenge_method'])).get('error')).to.equal('invalid_request');
      expect((await errorOf({ code_challenge: 'short' })).get('error')).to.equal('invalid_request');
    });

    it('supports response_type=code only', async () => {
      expect((await errorOf({ response_type: 'token' })).get('error')).to.equal('unsupported_response_type');
      expect((await errorOf({}, ['response_type'])).get('error')).to.equal('invalid_request');
    });

    it('refuses scopes the client may not have: invalid_scope', async () => {
      expect((await errorOf({ scope: 'openid admin' })).get('error')).to.equal('invalid_scope');
    });

    it('refuses a client not registered for the code flow: unauthorized_client', async () => {
      const other = await codeClient(server, { grantTypes: ['client_credentials'] });
      const answer = await new BrowserAgent(server).get('/authorize', authorizeParams(other, pkce().challenge));
      expect(redirectParams(answer).get('error')).to.equal('unauthorized_client');
    });

    it('answers prompt=none without a browser session with login_required', async () => {
      expect((await errorOf({ prompt: 'none' })).get('error')).to.equal('login_required');
    });

    it('refuses a state too long to echo, leaving it out of the answer', async () => {
      const answer = await new BrowserAgent(server).post('/authorize', authorizeParams(app, pkce().challenge, { state: 's'.repeat(5_000) }));
      const query = redirectParams(answer);
      expect(query.get('error')).to.equal('invalid_request');
      expect(query.has('state')).to.equal(false);
    });

    it('refuses unknown prompt values and a bad max_age', async () => {
      expect((await errorOf({ prompt: 'select_everything' })).get('error')).to.equal('invalid_request');
      expect((await errorOf({ max_age: '-1' })).get('error')).to.equal('invalid_request');
    });

    it('posts the error with response_mode=form_post: an auto-submitting form with a button, its script allowed by hash', async () => {
      const params = authorizeParams(app, pkce().challenge, { response_mode: 'form_post', prompt: 'none' });
      const answer = await new BrowserAgent(server).get('/authorize', params);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include(`<form method="post" action="${REDIRECT_URI}">`);
      expect(answer.body).to.include('name="error" value="login_required"').and.include('name="state" value="st-123"').and.include('name="iss"');
      expect(answer.body).to.match(/<button type="submit">Continue<\/button>/);
      expect(answer.headers.get('content-security-policy')).to.match(/script-src 'sha256-[A-Za-z0-9+/=]+'/).and.include('form-action \'self\' https://app.example');
    });
  });

  describe('the login page', () => {
    it('is a page with labelled fields, no-store, never framed, and sets no session before the password', async () => {
      const agent = new BrowserAgent(server);
      const page = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { login_hint: 'alice' }));
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.headers.get('cache-control')).to.equal('no-store');
      expect(page.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      expect(page.body).to.include('<span>Username</span><input name="username"').and.include('value="alice"');
      expect(page.body).to.include('<span>Password</span><input name="password" type="password"');
      expect(page.body).to.include('Forgot password?').and.include('Example App');
      // The one script is the passkey button's, allowed by its hash and by nothing broader.
      expect(page.body.split('<script>').slice(1).map((part) => part.split('</script>')[0])).to.deep.equal([PASSKEY_SCRIPT]);
      const passkeyHash = `'sha256-${createHash('sha256').update(PASSKEY_SCRIPT).digest('base64')}'`;
      expect(page.headers.get('content-security-policy')).to.match(/script-src 'sha256-[^;]*;/).and.include(passkeyHash).and.not.match(/script-src[^;]*'(self|unsafe-inline)'/);
      expect(agent.cookies.has('tessera_session')).to.equal(false);
    });

    it('announces a wrong password with role=alert and puts focus on the password field', async () => {
      const agent = new BrowserAgent(server);
      const page = await agent.get('/authorize', authorizeParams(app, pkce().challenge));
      const wrong = await agent.signIn(page.body, 'alice', 'wrong password');
      expect(wrong.status).to.equal(400);
      expect(wrong.body).to.match(/role="alert"[^>]*>The username or password is wrong/);
      expect(wrong.body).to.match(/name="password" type="password"[^>]*autofocus/);
      const retried = await agent.signIn(wrong.body, 'alice');
      expect(retried.status).to.equal(200);
      expect(retried.body).to.include('Allow Example App?');
    });

    it('refuses a login form posted without the CSRF token, with a wrong one, or from a browser without the interaction cookie', async () => {
      const agent = new BrowserAgent(server);
      const page = await agent.get('/authorize', authorizeParams(app, pkce().challenge));
      const { fields } = formOf(page.body);
      const without = await agent.post('/authorize/login', { interaction: fields.interaction!, username: 'alice', password: 'correct horse battery' });
      expect(without.status).to.equal(403);
      const wrong = await agent.post('/authorize/login', { interaction: fields.interaction!, csrf_token: 'x'.repeat(43), username: 'alice', password: 'correct horse battery' });
      expect(wrong.status).to.equal(403);
      // Another site's page cannot make this browser post with its own interaction (login CSRF): its cookie is not this browser's.
      const attacker = new BrowserAgent(server);
      const attackerPage = await attacker.get('/authorize', authorizeParams(app, pkce().challenge));
      const forged = await agent.submit(attackerPage.body, { username: 'alice', password: 'correct horse battery' });
      expect(forged.status).to.equal(403);
      expect(agent.cookies.has('tessera_session')).to.equal(false);
    });
  });

  describe('consent', () => {
    it('names the client and each scope in plain words; Deny redirects access_denied', async () => {
      const agent = new BrowserAgent(server);
      const login = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid email tasks:read' }));
      const consent = await agent.signIn(login.body, 'alice');
      expect(consent.body).to.include('Allow Example App?').and.include('href="https://app.example/"');
      expect(consent.body).to.include('See your e-mail address').and.include('See your tasks');
      const denied = redirectParams(await agent.submit(consent.body, { decision: 'deny' }));
      expect(denied.get('error')).to.equal('access_denied');
      expect(denied.get('state')).to.equal('st-123');
    });

    it('refuses a consent form without the right CSRF token', async () => {
      const agent = new BrowserAgent(server);
      const consent = await agent.signIn((await agent.get('/authorize', authorizeParams(app, pkce().challenge))).body, 'alice');
      const { fields } = formOf(consent.body);
      const forged = await agent.post('/authorize/consent', { interaction: fields.interaction!, csrf_token: 'nope', decision: 'allow' });
      expect(forged.status).to.equal(403);
      expect(forged.location).to.equal(undefined);
    });

    it('is remembered for the scopes granted; more scopes ask again; prompt=none then says consent_required', async () => {
      const agent = new BrowserAgent(server);
      const consent = await agent.signIn((await agent.get('/authorize', authorizeParams(app, pkce().challenge))).body, 'alice');
      expect(redirectParams(await agent.submit(consent.body, { decision: 'allow' })).get('code')).to.be.a('string');
      const again = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { prompt: 'none' }));
      expect(redirectParams(again).get('code')).to.be.a('string');
      const more = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid profile tasks:write', prompt: 'none' }));
      expect(redirectParams(more).get('error')).to.equal('consent_required');
      const asked = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid profile tasks:write' }));
      expect(asked.body).to.include('Add, change and delete your tasks');
    });

    it('is asked again with prompt=consent although it was given', async () => {
      const agent = new BrowserAgent(server);
      const consent = await agent.signIn((await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid' }))).body, 'alice');
      const first = consent.status === 200 ? await agent.submit(consent.body, { decision: 'allow' }) : consent;
      expect(redirectParams(first).get('code')).to.be.a('string');
      const asked = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid', prompt: 'consent' }));
      expect(asked.status).to.equal(200);
      expect(asked.body).to.include('Allow Example App?');
    });

    it('is skipped for first-party clients', async () => {
      const own = await codeClient(server, { firstParty: true });
      const agent = new BrowserAgent(server);
      const answer = await agent.signIn((await agent.get('/authorize', authorizeParams(own, pkce().challenge))).body, 'alice');
      expect(redirectParams(answer).get('code')).to.be.a('string');
    });
  });

  describe('the browser session', () => {
    it('is an HttpOnly, SameSite=Lax cookie, listed in GET /sessions, and its revocation signs the browser out', async () => {
      const own = await codeClient(server, { firstParty: true });
      const agent = new BrowserAgent(server);
      const raw = await fetch(new URL('/authorize?' + new URLSearchParams(authorizeParams(own, pkce().challenge)).toString(), server.url), { redirect: 'manual' });
      expect(raw.headers.getSetCookie().join('\n')).to.match(/tessera_browser=[^;]+;.*HttpOnly.*SameSite=Lax/i);
      const page = await agent.get('/authorize', authorizeParams(own, pkce().challenge));
      const signedIn = await agent.signIn(page.body, 'alice');
      expect(signedIn.headers.getSetCookie().find((c) => c.startsWith('tessera_session='))).to.match(/HttpOnly/i).and.match(/SameSite=Lax/i).and.not.match(/Secure/i);
      expect(redirectParams(await agent.get('/authorize', authorizeParams(own, pkce().challenge, { prompt: 'none' }))).get('code')).to.be.a('string');

      const tokens = await login(server, 'alice');
      const sessions = (await server.request.get('/sessions').set(bearer(tokens.access_token))).body as Array<{ id: string; client_id: string; current: boolean }>;
      const browser = sessions.filter((s) => s.client_id === 'tessera' && !s.current);
      expect(browser.length).to.be.greaterThan(0);
      for (const session of browser) expect((await server.request.delete(`/sessions/${session.id}`).set(bearer(tokens.access_token))).status).to.equal(204);
      expect(redirectParams(await agent.get('/authorize', authorizeParams(own, pkce().challenge, { prompt: 'none' }))).get('error')).to.equal('login_required');
    });

    it('is asked for again with prompt=login and when older than max_age', async () => {
      const own = await codeClient(server, { firstParty: true });
      const agent = new BrowserAgent(server);
      await agent.signIn((await agent.get('/authorize', authorizeParams(own, pkce().challenge))).body, 'alice');
      const forced = await agent.get('/authorize', authorizeParams(own, pkce().challenge, { prompt: 'login' }));
      expect(forced.body).to.include('<h1>Sign in</h1>');
      const aged = await agent.get('/authorize', authorizeParams(own, pkce().challenge, { max_age: '0' }));
      expect(aged.body).to.include('<h1>Sign in</h1>');
      const recent = await agent.get('/authorize', authorizeParams(own, pkce().challenge, { max_age: '3600' }));
      expect(redirectParams(recent).get('code')).to.be.a('string');
    });
  });

  describe('the code at the token endpoint', () => {
    const codeFor = async (client: CodeClient, challenge: string, extra: Record<string, string> = {}) => {
      const agent = new BrowserAgent(server);
      const answer = await agent.signIn((await agent.get('/authorize', authorizeParams(client, challenge, extra))).body, 'alice');
      return redirectParams(answer).get('code')!;
    };
    const exchange = (client: CodeClient, code: string, verifier: string, extra: Record<string, string> = {}) =>
      tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...extra }).set(basicAuth(client.id, client.secret!));

    it('gives tokens once; a second use is invalid_grant and revokes the tokens of the first', async () => {
      const own = await codeClient(server, { firstParty: true });
      const { verifier, challenge } = pkce();
      const code = await codeFor(own, challenge, { scope: 'openid profile tasks:read' });
      const first = await exchange(own, code, verifier);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body).to.include.keys('access_token', 'refresh_token', 'id_token');
      expect((await server.request.get('/tasks').set(bearer(first.body.access_token))).status).to.equal(200);
      const second = await exchange(own, code, verifier);
      expect(second.status).to.equal(400);
      expect(second.body.error).to.equal('invalid_grant');
      expect((await server.request.get('/tasks').set(bearer(first.body.access_token))).status).to.equal(401);
      expect((await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }).set(basicAuth(own.id, own.secret!))).body.error).to.equal('invalid_grant');
    });

    it('lets the built-in public client tessera sign in at <issuer>/ with PKCE and its client_id alone', async () => {
      const { issuer } = server.tessera.services.config;
      const { verifier, challenge } = pkce();
      const builtIn = { id: 'tessera', secret: undefined };
      const agent = new BrowserAgent(server);
      const page = await agent.get('/authorize', authorizeParams(builtIn, challenge, { redirect_uri: `${issuer}/`, scope: 'openid tasks:read' }));
      const answer = await agent.signIn(page.body, 'alice');
      expect(answer.location!.startsWith(`${issuer}/?code=`)).to.equal(true);
      const code = redirectParams(answer).get('code')!;
      const res = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: `${issuer}/`, code_verifier: verifier, client_id: 'tessera' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include.keys('access_token', 'refresh_token', 'id_token');
    });

    it('refuses a wrong verifier, another redirect_uri and another client', async () => {
      const { verifier, challenge } = pkce();
      const own = await codeClient(server, { firstParty: true });
      expect((await exchange(own, await codeFor(own, challenge), pkce().verifier)).body.error).to.equal('invalid_grant');
      const code = await codeFor(own, challenge);
      expect((await exchange(own, code, verifier, { redirect_uri: 'https://app.example/other' })).body.error).to.equal('invalid_grant');
      const code2 = await codeFor(own, challenge);
      expect((await exchange(app, code2, verifier)).body.error).to.equal('invalid_grant');
    });

    it('gives a third-party client a refresh token only with offline_access', async () => {
      const third = await codeClient(server);
      const { verifier, challenge } = pkce();
      const agent = new BrowserAgent(server);
      const consent = await agent.signIn((await agent.get('/authorize', authorizeParams(third, challenge, { scope: 'openid tasks:read' }))).body, 'alice');
      const code = redirectParams(await agent.submit(consent.body, { decision: 'allow' })).get('code')!;
      const without = await exchange(third, code, verifier);
      expect(without.status).to.equal(200);
      expect(without.body).to.not.have.property('refresh_token');
      const consent2 = await agent.get('/authorize', authorizeParams(third, challenge, { scope: 'openid tasks:read offline_access' }));
      const code2 = redirectParams(await agent.submit(consent2.body, { decision: 'allow' })).get('code')!;
      expect((await exchange(third, code2, verifier)).body).to.have.property('refresh_token');
    });
  });
});

import { expect } from 'chai';
import { basicAuth, tokenRequest } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { bearer, signup } from '../support/users';
import { authorizeParams, BrowserAgent, codeClient, pkce, REDIRECT_URI, redirectParams, type CodeClient } from './support';

describe('connected apps and RP-initiated logout (SPEC §10)', function () {
  this.timeout(20_000);
  let server: TestServer;
  let app: CodeClient;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    app = await codeClient(server, { logoUri: 'https://app.example/logo.png' });
    await signup(server, 'alice');
  });
  after(() => server?.close());

  /** Signs alice in through the pages, allows `scope` when asked, and exchanges the code; returns the tokens and the browser. */
  async function connect(scope: string): Promise<{ agent: BrowserAgent; tokens: Record<string, string> }> {
    const agent = new BrowserAgent(server);
    const { verifier, challenge } = pkce();
    const signedIn = await agent.signIn((await agent.get('/authorize', authorizeParams(app, challenge, { scope }))).body, 'alice');
    // The consent page, unless an earlier test's consent covers these scopes.
    const answer = signedIn.status === 200 ? await agent.submit(signedIn.body, { decision: 'allow' }) : signedIn;
    const code = redirectParams(answer).get('code')!;
    const res = await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).set(basicAuth(app.id, app.secret!));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return { agent, tokens: res.body as Record<string, string> };
  }

  /** A token of alice's with scope `account` (SPEC §9), issued by the server's own token service. */
  async function account(): Promise<string> {
    const { sessions, accessTokens, tenantId, users } = server.tessera.services;
    const alice = (await users.queries.findByUsername(tenantId, 'alice'))!;
    const session = await sessions.start({ tenantId, userId: alice.id, clientId: 'tessera', scope: 'account', ip: null, userAgent: null, lifetime: 600 });
    return accessTokens.issue({ subject: alice.id, username: 'alice', clientId: 'tessera', scopes: ['account'], roles: [], sessionId: session.id }).token;
  }

  it('lists the apps a user allowed, with what they may do, and removes one: consent withdrawn, its sessions ended', async () => {
    const { tokens, agent } = await connect('openid tasks:read offline_access');
    const own = await account();
    const apps = (await server.request.get('/me/apps').set(bearer(own))).body as Array<Record<string, unknown>>;
    const listed = apps.find((entry) => entry.client_id === app.id);
    expect(listed).to.deep.include({ name: 'Example App', client_uri: 'https://app.example/', logo_uri: 'https://app.example/logo.png' });
    expect(listed!.scopes).to.have.members(['openid', 'tasks:read', 'offline_access']);
    expect(listed!.consented_at).to.be.a('string');

    expect((await server.request.delete(`/me/apps/${app.id}`).set(bearer(own))).status).to.equal(204);
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token!))).status).to.equal(401);
    expect((await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }).set(basicAuth(app.id, app.secret!))).body.error).to.equal('invalid_grant');
    expect(((await server.request.get('/me/apps').set(bearer(own))).body as Array<{ client_id: string }>).map((entry) => entry.client_id)).to.not.include(app.id);
    // The consent is gone: the next sign-in asks again.
    const asked = await agent.get('/authorize', authorizeParams(app, pkce().challenge, { scope: 'openid tasks:read', prompt: 'none' }));
    expect(redirectParams(asked).get('error')).to.equal('consent_required');
    expect((await server.request.delete(`/me/apps/${app.id}`).set(bearer(own))).status).to.equal(404);
  });

  it('lists a first-party app the user holds a live session of, without a consent', async () => {
    const own = await codeClient(server, { firstParty: true, name: 'Own App' });
    const agent = new BrowserAgent(server);
    const { verifier, challenge } = pkce();
    const code = redirectParams(await agent.signIn((await agent.get('/authorize', authorizeParams(own, challenge, { scope: 'openid tasks:read' }))).body, 'alice')).get('code')!;
    await tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).set(basicAuth(own.id, own.secret!)).expect(200);
    const apps = (await server.request.get('/me/apps').set(bearer(await account()))).body as Array<Record<string, unknown>>;
    expect(apps.find((entry) => entry.client_id === own.id)).to.deep.include({ name: 'Own App', consented_at: null, scopes: ['openid', 'tasks:read'] });
  });

  it('refuses /me/apps without a token (401) or with a token lacking the account scope (403)', async () => {
    expect((await server.request.get('/me/apps')).status).to.equal(401);
    const { tokens } = await connect('openid tasks:read');
    const res = await server.request.get('/me/apps').set(bearer(tokens.access_token!));
    expect(res.status).to.equal(403);
    expect(res.body.error).to.equal('insufficient_scope');
  });

  it('ends the browser session and its tokens at /end-session, returning only to a registered URI with state', async () => {
    const { agent, tokens } = await connect('openid tasks:read');
    const out = await agent.get('/end-session', { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://app.example/signed-out', state: 'bye' });
    expect(out.status).to.equal(303);
    expect(out.location).to.equal('https://app.example/signed-out?state=bye');
    expect(agent.cookies.has('tessera_session')).to.equal(false);
    expect((await server.request.get('/tasks').set(bearer(tokens.access_token!))).status).to.equal(401);
    expect(redirectParams(await agent.get('/authorize', authorizeParams(app, pkce().challenge, { prompt: 'none' }))).get('error')).to.equal('login_required');
  });

  it('asks before signing out when nothing proves the request comes from the person, refusing a forged confirmation', async () => {
    const { agent } = await connect('openid');
    const asked = await agent.post('/end-session', { client_id: app.id, post_logout_redirect_uri: 'https://app.example/signed-out', state: 's' });
    expect(asked.status).to.equal(200);
    expect(asked.body).to.include('<h1>Sign out?</h1>').and.include('alice');
    expect(asked.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
    const forged = await agent.post('/end-session', { csrf_token: 'x'.repeat(43), client_id: app.id });
    expect(forged.body).to.include('<h1>Sign out?</h1>');
    expect(agent.cookies.has('tessera_session')).to.equal(true);
    const out = await agent.submit(asked.body);
    expect(out.location).to.equal('https://app.example/signed-out?state=s');
    expect(agent.cookies.has('tessera_session')).to.equal(false);
  });

  it('shows a signed-out page instead of following an unregistered post_logout_redirect_uri, and refuses a forged hint', async () => {
    const { agent, tokens } = await connect('openid');
    const out = await agent.get('/end-session', { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' });
    expect(out.status).to.equal(200);
    expect(out.location).to.equal(undefined);
    expect(out.body).to.include('Signed out');
    const forged = await agent.get('/end-session', { id_token_hint: 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.', post_logout_redirect_uri: 'https://app.example/signed-out' });
    expect(forged.status).to.equal(400);
    expect(forged.location).to.equal(undefined);
  });
});

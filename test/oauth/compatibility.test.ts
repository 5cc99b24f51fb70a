import { expect } from 'chai';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type * as OAuth from 'oauth4webapi' with { 'resolution-mode': 'import' };
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

// The issuer must be fixed before the server binds its port, so it is a
// name; loopbackFetch routes every request for it to the server on 127.0.0.1.
const ISSUER = 'http://tessera.test';
const REQUEST_TIMEOUT_MS = 5_000;
const publicClient: OAuth.Client = { client_id: 'tessera' };

/** Expects `promise` to reject, and returns the error for inspection. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; error?: string; status?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

for (const alg of ['ES256', 'RS256'] as const) describe(`an off-the-shelf OAuth client (oauth4webapi) and jose against tessera (${alg})`, () => {
  let oauth: typeof OAuth;
  let jose: typeof Jose;
  let server: TestServer;
  let as: OAuth.AuthorizationServer;
  let aliceId: string;
  let bot: { client: OAuth.Client; auth: OAuth.ClientAuth; secret: string };

  const loopbackFetch = (url: string, init: RequestInit): Promise<Response> => {
    const target = url.startsWith(`${ISSUER}/`) ? `${server.url}${url.slice(ISSUER.length)}` : url;
    if (!target.startsWith(`${server.url}/`)) throw new Error(`refusing to fetch ${url}: not the test server`);
    return fetch(target, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  };
  const http = () => ({ [oauth.customFetch]: loopbackFetch, [oauth.allowInsecureRequests]: true });

  const passwordGrant = async (password = PASSWORD, scope?: string) => {
    const parameters: Record<string, string> = { username: 'alice', password, ...(scope === undefined ? {} : { scope }) };
    const response = await oauth.genericTokenEndpointRequest(as, publicClient, oauth.None(), 'password', parameters, http());
    return oauth.processGenericTokenEndpointResponse(as, publicClient, response);
  };
  const refreshGrant = async (refreshToken: string) =>
    oauth.processRefreshTokenResponse(as, publicClient, await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), refreshToken, http()));
  const introspect = async (token: string) =>
    oauth.processIntrospectionResponse(as, bot.client, await oauth.introspectionRequest(as, bot.client, bot.auth, token, http()));
  const bearerRequest = (token: string) => new Request(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    oauth = await import('oauth4webapi');
    jose = await import('jose');
    server = await startServer({ ISSUER, JWT_ALG: alg });
    aliceId = await signup(server, 'alice');
    const { client, secret } = await server.tessera.services.clients.create({
      tenantId: server.tessera.services.tenantId,
      name: 'bot',
      scope: 'push',
      grantTypes: ['client_credentials'],
      confidential: true,
    });
    bot = { client: { client_id: client.id }, auth: oauth.ClientSecretBasic(secret!), secret: secret! };
    as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...http() }));
  });
  after(() => server.close());

  it('publishes RFC 8414 metadata that processDiscoveryResponse accepts', () => {
    expect(as.issuer).to.equal(ISSUER);
    expect(as.token_endpoint).to.equal(`${ISSUER}/token`);
    expect(as.jwks_uri).to.equal(`${ISSUER}/.well-known/jwks.json`);
    expect(as.revocation_endpoint).to.equal(`${ISSUER}/revoke`);
    expect(as.introspection_endpoint).to.equal(`${ISSUER}/introspect`);
    expect(as.grant_types_supported).to.include.members(['password', 'refresh_token', 'client_credentials']);
    expect(as.token_endpoint_auth_methods_supported).to.include.members(['client_secret_basic', 'client_secret_post', 'none']);
  });

  it('issues tokens for a password grant sent with genericTokenEndpointRequest', async () => {
    const tokens = await passwordGrant();
    expect(tokens.token_type).to.equal('bearer');
    expect(tokens.expires_in).to.equal(900);
    expect(tokens.scope).to.equal('tasks:read tasks:write calendar:read calendar:write messages:read messages:write account');
    expect(tokens.refresh_token).to.be.a('string');
  });

  it('gives the client library a ResponseBodyError with invalid_grant for a wrong password', async () => {
    const error = await rejection(passwordGrant('not the password'));
    expect(error).to.be.instanceOf(oauth.ResponseBodyError);
    expect(error.error).to.equal('invalid_grant');
    expect(error.status).to.equal(400);
  });

  it('rotates the refresh token through refreshTokenGrantRequest', async () => {
    const first = await passwordGrant();
    const second = await refreshGrant(first.refresh_token!);
    expect(second.token_type).to.equal('bearer');
    expect(second.refresh_token).to.be.a('string').and.not.equal(first.refresh_token);
    expect(second.scope).to.equal(first.scope);
    const third = await refreshGrant(second.refresh_token!);
    expect(third.refresh_token).to.not.equal(second.refresh_token);
  });

  it('issues client_credentials tokens to a confidential client using ClientSecretBasic', async () => {
    // The client id and secret contain "_" and "-", which the library form-encodes (RFC 6749 §2.3.1).
    const response = await oauth.clientCredentialsGrantRequest(as, bot.client, bot.auth, { scope: 'push' }, http());
    const tokens = await oauth.processClientCredentialsResponse(as, bot.client, response);
    expect(tokens.token_type).to.equal('bearer');
    expect(tokens.scope).to.equal('push');
    expect(tokens.refresh_token).to.equal(undefined);
    const claims = jose.decodeJwt(tokens.access_token);
    expect(claims.sub).to.equal(bot.client.client_id);
  });

  it('answers a wrong client secret with a Basic challenge the library recognises', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, bot.client, oauth.ClientSecretBasic(`${bot.secret}x`), {}, http());
    const error = await rejection(oauth.processClientCredentialsResponse(as, bot.client, response));
    expect(error).to.be.instanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error.status).to.equal(401);
    expect((error.cause as OAuth.WWWAuthenticateChallenge[])[0]?.scheme).to.equal('basic');
  });

  it('describes live access and refresh tokens through introspectionRequest', async () => {
    const tokens = await passwordGrant();
    const access = await introspect(tokens.access_token);
    expect(access).to.include({ active: true, sub: aliceId, client_id: 'tessera', username: 'alice', iss: ISSUER, scope: tokens.scope });
    const refresh = await introspect(tokens.refresh_token!);
    expect(refresh).to.include({ active: true, sub: aliceId, client_id: 'tessera' });
    expect(await introspect('no-such-token')).to.deep.equal({ active: false });
  });

  it('revokes a session through revocationRequest, after which its tokens are inactive and its refresh token refused', async () => {
    const tokens = await passwordGrant();
    const response = await oauth.revocationRequest(as, publicClient, oauth.None(), tokens.refresh_token!, http());
    expect(await oauth.processRevocationResponse(response)).to.equal(undefined);
    expect(await introspect(tokens.access_token)).to.deep.equal({ active: false });
    const error = await rejection(refreshGrant(tokens.refresh_token!));
    expect(error).to.be.instanceOf(oauth.ResponseBodyError);
    expect(error.error).to.equal('invalid_grant');
  });

  it('accepts an unknown token at the revocation endpoint', async () => {
    const response = await oauth.revocationRequest(as, publicClient, oauth.None(), 'never-issued', http());
    expect(await oauth.processRevocationResponse(response)).to.equal(undefined);
  });

  it('issues access tokens that validateJwtAccessToken accepts as RFC 9068 tokens', async () => {
    const tokens = await passwordGrant(PASSWORD, 'tasks:read');
    const claims = await oauth.validateJwtAccessToken(as, bearerRequest(tokens.access_token), ISSUER, http());
    expect(claims).to.include({ iss: ISSUER, aud: ISSUER, sub: aliceId, client_id: 'tessera', scope: 'tasks:read' });
    expect(claims.exp - claims.iat).to.equal(900);
    const me = await fetch(bearerRequest(tokens.access_token), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(me.status).to.equal(200);
  });

  it('issues client_credentials access tokens that validateJwtAccessToken accepts', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, bot.client, bot.auth, {}, http());
    const tokens = await oauth.processClientCredentialsResponse(as, bot.client, response);
    const claims = await oauth.validateJwtAccessToken(as, bearerRequest(tokens.access_token), ISSUER, http());
    expect(claims).to.include({ sub: bot.client.client_id, client_id: bot.client.client_id, scope: 'push' });
  });

  it('lets validateJwtAccessToken refuse a token meant for another audience', async () => {
    const tokens = await passwordGrant();
    const error = await rejection(oauth.validateJwtAccessToken(as, bearerRequest(tokens.access_token), 'https://other.example', http()));
    expect(error.code).to.equal(oauth.JWT_CLAIM_COMPARISON);
  });

  it('sends RFC 6750 challenges that protectedResourceRequest parses', async () => {
    const tokens = await passwordGrant();
    const url = new URL(`${server.url}/me`);
    const ok = await oauth.protectedResourceRequest(tokens.access_token, 'GET', url, undefined, null, http());
    expect(ok.status).to.equal(200);
    const error = await rejection(oauth.protectedResourceRequest(`${tokens.access_token}x`, 'GET', url, undefined, null, http()));
    expect(error).to.be.instanceOf(oauth.WWWAuthenticateChallengeError);
    const [challenge] = error.cause as OAuth.WWWAuthenticateChallenge[];
    expect(challenge?.scheme).to.equal('bearer');
    expect(challenge?.parameters).to.include({ realm: 'tessera', error: 'invalid_token' });
  });

  it('signs access tokens that jose verifies against the published JWKS with typ at+jwt', async () => {
    const tokens = await passwordGrant();
    const jwks = jose.createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`), { timeoutDuration: REQUEST_TIMEOUT_MS });
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
      issuer: ISSUER,
      audience: ISSUER,
      typ: 'at+jwt',
      algorithms: [alg],
    });
    expect(protectedHeader.alg).to.equal(alg);
    expect(protectedHeader.kid).to.be.a('string');
    expect(payload).to.include({ sub: aliceId, client_id: 'tessera', username: 'alice' });
    expect(payload.jti).to.be.a('string');
    expect(payload.sid).to.be.a('string');
    expect(payload.roles).to.deep.equal([]);
  });

  it('signs access tokens whose signature jose refuses once the payload is altered', async () => {
    const tokens = await passwordGrant();
    const [header, , signature] = tokens.access_token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...jose.decodeJwt(tokens.access_token), roles: ['admin'] })).toString('base64url');
    const jwks = jose.createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`), { timeoutDuration: REQUEST_TIMEOUT_MS });
    const error = await rejection(jose.jwtVerify(`${header}.${forged}.${signature}`, jwks, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt' }));
    expect(error.code).to.equal('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });
});

import { expect } from 'chai';
import type * as OAuth from 'oauth4webapi' with { 'resolution-mode': 'import' };
import { decodeJwt } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

// A name, fixed before the server binds its port; loopbackFetch sends its requests to the server on 127.0.0.1.
const ISSUER = 'http://tessera.test';
const REQUEST_TIMEOUT_MS = 5_000;
const publicClient: OAuth.Client = { client_id: 'tessera' };

async function rejection(promise: Promise<unknown>): Promise<Error & { error?: string; status?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

for (const nonces of ['off', 'on'] as const) describe(`DPoP with an off-the-shelf client (oauth4webapi), DPOP_NONCES=${nonces}`, () => {
  let oauth: typeof OAuth;
  let server: TestServer;
  let as: OAuth.AuthorizationServer;
  let bot: { client: OAuth.Client; auth: OAuth.ClientAuth };

  const loopbackFetch = (url: string, init: RequestInit): Promise<Response> => {
    const target = url.startsWith(`${ISSUER}/`) ? `${server.url}${url.slice(ISSUER.length)}` : url;
    if (!target.startsWith(`${server.url}/`)) throw new Error(`refusing to fetch ${url}: not the test server`);
    return fetch(target, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  };
  const http = (DPoP?: OAuth.DPoPHandle) => ({ [oauth.customFetch]: loopbackFetch, [oauth.allowInsecureRequests]: true, ...(DPoP ? { DPoP } : {}) });
  const newHandle = async (client: OAuth.Client = publicClient) => oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

  /** Runs a request once and, as RFC 9449 §8 has a client do, once more when the server asks for a nonce. */
  async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (nonces === 'off' || !oauth.isDPoPNonceError(error)) throw error;
      return attempt();
    }
  }
  const passwordGrant = (DPoP: OAuth.DPoPHandle) =>
    withNonceRetry(async () =>
      oauth.processGenericTokenEndpointResponse(as, publicClient, await oauth.genericTokenEndpointRequest(as, publicClient, oauth.None(), 'password', { username: 'alice', password: PASSWORD }, http(DPoP))),
    );
  const refreshGrant = (DPoP: OAuth.DPoPHandle | undefined, refreshToken: string) =>
    withNonceRetry(async () => oauth.processRefreshTokenResponse(as, publicClient, await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), refreshToken, http(DPoP))));
  const getMe = (DPoP: OAuth.DPoPHandle | undefined, token: string) =>
    withNonceRetry(() => oauth.protectedResourceRequest(token, 'GET', new URL(`${ISSUER}/me`), new Headers(), null, http(DPoP)));
  /** The challenge of a refused resource request (the library throws 401 challenges). */
  const challengeOf = async (promise: Promise<unknown>) => {
    const error = await rejection(promise);
    expect(error).to.be.instanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error.status).to.equal(401);
    return (error.cause as OAuth.WWWAuthenticateChallenge[])[0]!;
  };

  before(async () => {
    oauth = await import('oauth4webapi');
    server = await startServer({ ISSUER, DPOP_NONCES: nonces });
    await signup(server, 'alice');
    const { client, secret } = await server.tessera.services.clients.create({
      tenantId: server.tessera.services.tenantId, name: 'bot', scope: 'push', grantTypes: ['client_credentials'], confidential: true,
    });
    bot = { client: { client_id: client.id }, auth: oauth.ClientSecretBasic(secret!) };
    as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...http() }));
  });
  after(() => server.close());

  it('names its proof algorithms in the metadata (dpop_signing_alg_values_supported)', () => {
    expect(as.dpop_signing_alg_values_supported).to.include.members(['ES256', 'EdDSA', 'RS256']);
  });

  it('binds the tokens of a password grant, and serves GET /me to proofs of the same key', async () => {
    const DPoP = await newHandle();
    const tokens = await passwordGrant(DPoP);
    expect(tokens.token_type).to.equal('dpop');
    expect(decodeJwt(tokens.access_token).claims.cnf).to.deep.equal({ jkt: await DPoP.calculateThumbprint() });
    const res = await getMe(DPoP, tokens.access_token);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { username: string }).username).to.equal('alice');
    if (nonces === 'on') expect(res.headers.get('dpop-nonce')).to.be.a('string');
  });

  it('refuses the bound access token to a client without the key', async () => {
    const tokens = await passwordGrant(await newHandle());
    const challenge = await challengeOf(getMe(undefined, tokens.access_token));
    expect(challenge.scheme).to.equal('dpop');
    expect(challenge.parameters.error).to.equal('invalid_token');
  });

  it('rotates a public client\'s bound refresh token only with a proof by the same key', async () => {
    const DPoP = await newHandle();
    const first = await passwordGrant(DPoP);
    const second = await refreshGrant(DPoP, first.refresh_token!);
    expect(second.token_type).to.equal('dpop');
    expect(decodeJwt(second.access_token).claims.cnf).to.deep.equal({ jkt: await DPoP.calculateThumbprint() });
    for (const thief of [await newHandle(), undefined]) {
      const error = await rejection(refreshGrant(thief, second.refresh_token!));
      expect(error).to.be.instanceOf(oauth.ResponseBodyError);
      expect(error.error).to.equal('invalid_grant');
    }
    expect((await refreshGrant(DPoP, second.refresh_token!)).refresh_token).to.be.a('string');
  });

  it('binds client_credentials tokens, and introspection shows their cnf', async () => {
    const DPoP = await newHandle(bot.client);
    const tokens = await withNonceRetry(async () =>
      oauth.processClientCredentialsResponse(as, bot.client, await oauth.clientCredentialsGrantRequest(as, bot.client, bot.auth, { scope: 'push' }, http(DPoP))),
    );
    expect(tokens.token_type).to.equal('dpop');
    const introspection = await oauth.processIntrospectionResponse(as, bot.client, await oauth.introspectionRequest(as, bot.client, bot.auth, tokens.access_token, http()));
    expect(introspection).to.include({ active: true, token_type: 'DPoP' });
    expect(introspection.cnf).to.deep.equal({ jkt: await DPoP.calculateThumbprint() });
  });

  if (nonces === 'on') {
    it('asks for a nonce with use_dpop_nonce and DPoP-Nonce, at the token endpoint (400) and at resources (401)', async () => {
      const DPoP = await newHandle();
      const first = await rejection(
        oauth.genericTokenEndpointRequest(as, publicClient, oauth.None(), 'password', { username: 'alice', password: PASSWORD }, http(DPoP))
          .then((response) => oauth.processGenericTokenEndpointResponse(as, publicClient, response)),
      );
      expect(oauth.isDPoPNonceError(first)).to.equal(true);
      expect(first.status).to.equal(400);
      // The handle kept the nonce of that answer: the retry carries it and gets tokens.
      const tokens = await passwordGrant(DPoP);
      const otherKey = await newHandle();
      const error = await rejection(oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${ISSUER}/me`), new Headers(), null, http(otherKey)));
      expect(oauth.isDPoPNonceError(error)).to.equal(true);
      expect((error as OAuth.WWWAuthenticateChallengeError).response.headers.get('dpop-nonce')).to.be.a('string').and.not.be.empty;
      // The handle took the nonce from that answer: its next proof carries it, and is checked for its key.
      const challenge = await challengeOf(oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${ISSUER}/me`), new Headers(), null, http(otherKey)));
      expect(challenge.parameters.error).to.equal('invalid_dpop_proof');
    });
  }
});

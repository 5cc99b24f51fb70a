import { expect } from 'chai';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { addTenant } from '../tenants/support';
import { discover, openIdClient, relyingPartyOptions, RP_ISSUER } from './relying-party';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };

onEachDatabase('OpenID Connect discovery', (database) => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ ...ADMIN, ISSUER: RP_ISSUER }, database);
    await addTenant(server, 'acme');
  });
  after(() => server.close());

  it("is what openid-client's discovery() reads: the issuer, its endpoints and what it supports", async () => {
    const metadata = (await discover(server, 'tessera')).serverMetadata();
    expect(metadata).to.deep.include({
      issuer: RP_ISSUER,
      authorization_endpoint: `${RP_ISSUER}/authorize`,
      token_endpoint: `${RP_ISSUER}/token`,
      userinfo_endpoint: `${RP_ISSUER}/userinfo`,
      end_session_endpoint: `${RP_ISSUER}/end-session`,
      jwks_uri: `${RP_ISSUER}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'form_post'],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
    expect(metadata.scopes_supported).to.include.members(['openid', 'profile', 'email', 'offline_access', 'tasks:read']);
    expect(metadata.grant_types_supported).to.include.members(['authorization_code', 'refresh_token']);
    expect(metadata.claims_supported).to.include.members(['sub', 'iss', 'auth_time', 'nonce', 'preferred_username', 'email', 'email_verified']);
    expect(metadata).to.not.have.property('registration_endpoint');
    // openid-client only trusts a server for PKCE when it says S256 is supported.
    expect((await discover(server, 'tessera')).serverMetadata().supportsPKCE()).to.equal(true);
  });

  it('serves the same document as RFC 8414 metadata, cacheable', async () => {
    const [oidc, oauth] = await Promise.all([server.request.get('/.well-known/openid-configuration'), server.request.get('/.well-known/oauth-authorization-server')]);
    expect(oidc.status).to.equal(200);
    expect(oidc.headers['cache-control']).to.match(/^public, max-age=\d+$/);
    expect(oauth.body).to.deep.equal(oidc.body);
    const client = await openIdClient();
    const viaRfc8414 = await client.discovery(new URL(RP_ISSUER), 'tessera', undefined, undefined, { ...(await relyingPartyOptions(server)), algorithm: 'oauth2' });
    expect(viaRfc8414.serverMetadata().issuer).to.equal(RP_ISSUER);
  });

  it("describes each tenant at its own issuer: /t/<id>/.well-known/openid-configuration", async () => {
    const metadata = (await discover(server, 'tessera', '/t/acme')).serverMetadata();
    expect(metadata).to.deep.include({
      issuer: `${RP_ISSUER}/t/acme`,
      authorization_endpoint: `${RP_ISSUER}/t/acme/authorize`,
      token_endpoint: `${RP_ISSUER}/t/acme/token`,
      userinfo_endpoint: `${RP_ISSUER}/t/acme/userinfo`,
      jwks_uri: `${RP_ISSUER}/t/acme/.well-known/jwks.json`,
    });
    const rfc8414 = await server.request.get('/.well-known/oauth-authorization-server/t/acme');
    expect(rfc8414.body.issuer).to.equal(`${RP_ISSUER}/t/acme`);
    // The path-inserted form of the OpenID Connect document, which MCP clients try first.
    const inserted = await server.request.get('/.well-known/openid-configuration/t/acme');
    expect(inserted.body).to.deep.equal(rfc8414.body);
    expect((await server.request.get('/.well-known/openid-configuration/t/nobody')).status).to.equal(404);
  });
});

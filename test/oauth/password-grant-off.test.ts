import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { basicAuth, createClient, secretOf } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

const MFA_GRANT = 'urn:tessera:params:oauth:grant-type:mfa';

describe('PASSWORD_GRANT=off', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ PASSWORD_GRANT: 'off', RATE_LIMITS: 'off' });
    await signup(server, 'alice');
  });
  after(() => server.close());

  const passwordGrant = { grant_type: 'password', username: 'alice', password: PASSWORD };

  it('answers the password grant with unsupported_grant_type, for the built-in client and a client registered for it', async () => {
    expectError(await server.request.post('/token').type('form').send(passwordGrant), 400, 'unsupported_grant_type');
    const app = await createClient(server, { grantTypes: ['password', 'refresh_token'], scope: 'tasks:read' });
    expectError(await server.request.post('/token').set(basicAuth(app.id, secretOf(app))).type('form').send(passwordGrant), 400, 'unsupported_grant_type');
    expectError(await server.request.post('/token').type('form').send({ grant_type: MFA_GRANT, mfa_token: 'x', otp: '123456' }), 400, 'unsupported_grant_type');
  });

  it('leaves the password and mfa grants out of the metadata', async () => {
    const { body } = await server.request.get('/.well-known/openid-configuration').expect(200);
    expect(body.grant_types_supported).to.include.members(['authorization_code', 'refresh_token', 'client_credentials']).and.not.include.members(['password']);
    expect(body.grant_types_supported).to.not.include(MFA_GRANT);
    expect((await server.request.get('/.well-known/oauth-authorization-server')).body.grant_types_supported).to.deep.equal(body.grant_types_supported);
  });

  it('keeps the other grants', async () => {
    const bot = await createClient(server);
    const res = await server.request.post('/token').set(basicAuth(bot.id, secretOf(bot))).type('form').send({ grant_type: 'client_credentials' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  });
});

import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { signup } from '../support/users';
import { addTenant, asTenant, ISSUER } from '../tenants/support';
import { dpopHeaders, dpopLogin, expectDpopChallenge, newKey, proof } from './support';

describe('DPoP under a tenant (SPEC §8, §11): proofs name the tenant\'s URLs', () => {
  let server: TestServer;
  let acme: TestServer;

  before(async () => {
    server = await startServer({ ISSUER });
    await addTenant(server, 'acme', 'open');
    acme = await asTenant(server, 'acme');
    await signup(acme, 'alice');
  });
  after(async () => {
    await server.close();
  });

  it('binds and serves under /t/acme, with htu as the request reached the server or under the tenant issuer', async () => {
    const key = await newKey();
    const tokens = await dpopLogin(acme, 'alice', key);
    expect((await acme.request.get('/me').set(await dpopHeaders(acme, key, tokens.access_token))).status).to.equal(200);
    const underIssuer = { Authorization: `DPoP ${tokens.access_token}`, DPoP: await proof(key, { htu: `${ISSUER}/t/acme/me`, token: tokens.access_token }) };
    expect((await acme.request.get('/me').set(underIssuer)).status).to.equal(200);
    const rootPath = { Authorization: `DPoP ${tokens.access_token}`, DPoP: await proof(key, { htu: `${ISSUER}/me`, token: tokens.access_token }) };
    expectDpopChallenge(await acme.request.get('/me').set(rootPath), 'invalid_dpop_proof');
  });
});

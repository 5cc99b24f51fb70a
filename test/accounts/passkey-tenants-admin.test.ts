import { expect } from 'chai';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import { expectError } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser } from '../support/users';
import { ADMIN, addTenant, asTenant } from '../tenants/support';
import { enrol, expectRefused, passkeyOptions, signInWith } from './passkey-support';

onEachDatabase('passkeys across tenants, and for admins (issue 21)', (database) => {
  let server: TestServer;
  let acme: TestServer;
  let admin: string;

  before(async () => {
    server = await startServer({ ...ADMIN, ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' }, database);
    await addTenant(server, 'acme', 'open');
    acme = await asTenant(server, 'acme');
    admin = (await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' })).access_token;
  });
  after(() => server.close());

  it('gives a tenant under /t/acme the same RP ID and origin, yet never signs in with a credential of another tenant', async () => {
    const options = await passkeyOptions(acme, (await newUser(acme, 'alice')).tokens.access_token);
    expect(options.body.rp.id).to.equal('id.example.test');

    const { tokens } = await newUser(server, 'alice');
    const { authenticator } = await enrol(server, tokens.access_token);
    await expectRefused(signInWith(acme, authenticator));
    expect((await signInWith(server, authenticator)).user.username).to.equal('alice');
  });

  it("refuses a challenge issued in another tenant", async () => {
    const { tokens } = await newUser(acme, 'bob');
    const { authenticator } = await enrol(acme, tokens.access_token);
    const elsewhere = await new PasskeySignInCeremony(server.tessera.services).authenticationOptions();
    const here = new PasskeySignInCeremony(acme.tessera.services);
    await expectRefused(here.verifyAuthentication(authenticator.assert(elsewhere.options), elsewhere.challengeId));
    expect((await signInWith(acme, authenticator)).user.username).to.equal('bob');
  });

  it("lets an admin list and remove a user's passkeys: the removed one stops working at once, the user's sessions go on", async () => {
    const { id, tokens } = await newUser(server, 'carol');
    const { authenticator, passkey } = await enrol(server, tokens.access_token, undefined, 'Phone');
    const listed = await server.request.get(`/admin/users/${id}/passkeys`).set(bearer(admin));
    expect(listed.status).to.equal(200);
    expect(listed.body.map((p: { id: string; name: string }) => [p.id, p.name])).to.deep.equal([[passkey.id, 'Phone']]);

    expect((await server.request.delete(`/admin/users/${id}/passkeys/${passkey.id}`).set(bearer(admin))).status).to.equal(204);
    await expectRefused(signInWith(server, authenticator));
    expect((await server.request.get('/me/passkeys').set(bearer(tokens.access_token))).body).to.deep.equal([]);
    expectError(await server.request.delete(`/admin/users/${id}/passkeys/${passkey.id}`).set(bearer(admin)), 404, 'not_found');
  });

  it("answers 404 for an unknown user or another user's passkey, and needs the admin scope", async () => {
    const { id: daveId, tokens: dave } = await newUser(server, 'dave');
    const { id: erinId } = await newUser(server, 'erin');
    const { passkey } = await enrol(server, dave.access_token);
    expectError(await server.request.get('/admin/users/00000000-0000-4000-8000-000000000000/passkeys').set(bearer(admin)), 404, 'not_found');
    expectError(await server.request.delete(`/admin/users/${erinId}/passkeys/${passkey.id}`).set(bearer(admin)), 404, 'not_found');
    expectError(await server.request.get(`/admin/users/${daveId}/passkeys`).set(bearer(dave.access_token)), 403, 'insufficient_scope');
    expectError(await server.request.delete(`/admin/users/${daveId}/passkeys/${passkey.id}`).set(bearer(dave.access_token)), 403, 'insufficient_scope');
  });
});

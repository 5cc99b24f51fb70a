import { expect } from 'chai';
import { closeAll, connectAs, type TestSocket } from '../gateway/support';
import { detailFields, expectError, expectInvalidToken } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, refresh } from '../support/users';
import { enableTwoFactor, mfaToken, TestClock } from './account-security-support';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const REVOKED = 4003;
const CLOSE_WAIT_MS = 5_000; // what is under test is that the sockets close, not how fast (SPEC §6 has its own tests)

onEachDatabase('DELETE /admin/users/:id/2fa (SPEC §9)', (database) => {
  let server: TestServer;
  let admin: string;
  const clock = new TestClock();
  const opened: TestSocket[] = [];

  before(async () => {
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off' }, database, { clock: clock.now });
    admin = (await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' })).access_token;
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(() => server.close());

  const turnOff = (id: string, token = admin) => server.request.delete(`/admin/users/${encodeURIComponent(id)}/2fa`).set(bearer(token));
  const rowsOf = async (userId: string) => ({
    twoFactor: await server.tessera.services.db('two_factor').where({ user_id: userId }),
    recoveryCodes: await server.tessera.services.db('recovery_codes').where({ user_id: userId }),
  });

  it('turns two-factor sign-in off, removes the secret and recovery codes, and ends every session of the user, closing its sockets with 4003', async () => {
    const { id, tokens } = await newUser(server, 'alice');
    await enableTwoFactor(server, tokens.access_token, clock);
    await mfaToken(server, 'alice', PASSWORD);
    const socket = await connectAs(server, 'alice', tokens.access_token);
    opened.push(socket);
    expect((await rowsOf(id)).recoveryCodes).to.have.length(10);

    const res = await turnOff(id);
    expect(res.status, JSON.stringify(res.body)).to.equal(204);
    expect((await socket.waitForClose(CLOSE_WAIT_MS)).code).to.equal(REVOKED);
    expectInvalidToken(await server.request.get('/me').set(bearer(tokens.access_token)));
    expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
    expect(await rowsOf(id)).to.deep.equal({ twoFactor: [], recoveryCodes: [] });

    // The password alone signs in again, and the user may enrol anew.
    const fresh = await login(server, 'alice');
    expect((await server.request.get('/me/2fa').set(bearer(fresh.access_token))).body).to.deep.equal({ enabled: false, pending: false, recovery_codes_left: 0 });
    await enableTwoFactor(server, fresh.access_token, clock);
  });

  it('answers 204 for a user without two-factor sign-in, and still ends their sessions', async () => {
    const { id, tokens } = await newUser(server, 'bob');
    expect((await turnOff(id)).status).to.equal(204);
    expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
  });

  it('answers 404 for an unknown user, 400 for a malformed id, and needs the admin scope', async () => {
    expectError(await turnOff('00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    const malformed = await turnOff('x'.repeat(65));
    expectError(malformed, 400, 'validation_failed');
    expect(detailFields(malformed)).to.include('id');
    const { id, tokens } = await newUser(server, 'carol');
    expectError(await turnOff(id, tokens.access_token), 403, 'insufficient_scope');
    const rootWithoutAdminScope = await login(server, 'root', ADMIN.ADMIN_PASSWORD);
    expectError(await turnOff(id, rootWithoutAdminScope.access_token), 403, 'insufficient_scope');
  });

  it("leaves other users' two-factor sign-in and sessions alone", async () => {
    const { id } = await newUser(server, 'dave');
    const { tokens: erin } = await newUser(server, 'erin');
    await enableTwoFactor(server, erin.access_token, clock);
    expect((await turnOff(id)).status).to.equal(204);
    expect((await server.request.get('/me/2fa').set(bearer(erin.access_token))).body).to.include({ enabled: true });
  });
});

import { expect } from 'chai';
import type WebSocket from 'ws';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, refresh, signup, type Tokens } from '../support/users';
import { call, expectErrorShape, openSocket } from './support';

const REVOCATION_DEADLINE_MS = 1_000; // SPEC §3.3
const POLL_MS = 25;

/** Polls GET /me with the token until it is refused; fails when it is still accepted after the SPEC's 1 s. */
async function expectRefusedWithin(server: TestServer, accessToken: string): Promise<void> {
  const deadline = Date.now() + REVOCATION_DEADLINE_MS;
  for (;;) {
    const answer = await call(server, { path: '/me', headers: bearer(accessToken) });
    if (answer.status === 401) {
      expectErrorShape(answer, 'revoked token');
      expect((answer.body as { error: string }).error).to.equal('invalid_token');
      return;
    }
    expect(answer.status, 'an accepted token answers 200 until it is refused').to.equal(200);
    expect(Date.now(), `the token still works ${REVOCATION_DEADLINE_MS} ms after its session ended`).to.be.below(deadline);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The close code of a socket, which must close within the SPEC's 1 s. */
function closedWithin(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the socket is still open ${REVOCATION_DEADLINE_MS} ms after its session ended`)), REVOCATION_DEADLINE_MS);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function expectInvalidGrant(server: TestServer, refreshToken: string): Promise<void> {
  const res = await refresh(server, refreshToken);
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.equal('invalid_grant');
}

onEachDatabase('attack: replaying tokens after their session ended', (database) => {
  let server: TestServer;
  let admin: Tokens;

  before(async () => {
    server = await startServer({ REFRESH_REUSE_GRACE: '0', ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD }, database);
    admin = await login(server, 'root', PASSWORD, { scope: 'admin' });
  });
  after(() => server.close());

  it('revokes the whole session when a rotated refresh token is replayed: successor refused, access tokens and sockets refused within 1 s', async () => {
    await signup(server, 'replayed');
    const first = await login(server, 'replayed');
    const rotation = await refresh(server, first.refresh_token);
    expect(rotation.status, JSON.stringify(rotation.body)).to.equal(200);
    const rotated = rotation.body as Tokens;
    const ws = await openSocket(server, 'replayed', rotated.access_token);
    const closed = closedWithin(ws);
    await expectInvalidGrant(server, first.refresh_token);
    expect(await closed).to.equal(4003);
    await expectRefusedWithin(server, rotated.access_token);
    await expectRefusedWithin(server, first.access_token);
    await expectInvalidGrant(server, rotated.refresh_token);
  });

  it('refuses the access token and the refresh token after logout', async () => {
    await signup(server, 'leaver');
    const tokens = await login(server, 'leaver');
    const ws = await openSocket(server, 'leaver', tokens.access_token);
    const closed = closedWithin(ws);
    expect((await server.request.post('/logout').set(bearer(tokens.access_token))).status).to.equal(204);
    expect(await closed).to.equal(4003);
    await expectRefusedWithin(server, tokens.access_token);
    await expectInvalidGrant(server, tokens.refresh_token);
  });

  it("refuses the other sessions' tokens after a password change, and keeps the session that changed it", async () => {
    await signup(server, 'changer');
    const stolen = await login(server, 'changer');
    const own = await login(server, 'changer');
    const change = await server.request.post('/me/password').set(bearer(own.access_token)).send({ current_password: PASSWORD, new_password: 'a brand new password' });
    expect(change.status).to.equal(204);
    await expectRefusedWithin(server, stolen.access_token);
    await expectInvalidGrant(server, stolen.refresh_token);
    expect((await server.request.get('/me').set(bearer(own.access_token))).status).to.equal(200);
    const old = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'changer', password: PASSWORD });
    expect(old.body.error).to.equal('invalid_grant');
  });

  it('refuses every token and socket of a user an admin disables, and their password', async () => {
    const id = await signup(server, 'disabled');
    const tokens = await login(server, 'disabled');
    const ws = await openSocket(server, 'disabled', tokens.access_token);
    const closed = closedWithin(ws);
    const patch = await server.request.patch(`/admin/users/${id}`).set(bearer(admin.access_token)).send({ disabled: true });
    expect(patch.status, JSON.stringify(patch.body)).to.equal(200);
    expect(await closed).to.equal(4003);
    await expectRefusedWithin(server, tokens.access_token);
    await expectInvalidGrant(server, tokens.refresh_token);
    const again = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'disabled', password: PASSWORD });
    expect(again.body.error).to.equal('invalid_grant');
  });

  it('refuses the tokens of a session revoked through POST /revoke with its refresh token', async () => {
    await signup(server, 'revoker');
    const tokens = await login(server, 'revoker');
    expect((await server.request.post('/revoke').type('form').send({ token: tokens.refresh_token })).status).to.equal(200);
    await expectRefusedWithin(server, tokens.access_token);
    await expectInvalidGrant(server, tokens.refresh_token);
  });
});

import { expect } from 'chai';
import { sessionIdOf } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, refresh, signup, type Tokens } from '../support/users';
import { closeAll, connect, connectAs, type TestSocket } from './support';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const REVOKED = 4003;
const REVOCATION_MS = 1_000; // SPEC §6: a revoked session's sockets close within 1 s

onEachDatabase('gateway: revoked sessions close their sockets (SPEC §6)', (database) => {
  let server: TestServer;
  let admin: Tokens;
  let bystander: TestSocket;
  const opened: TestSocket[] = [];

  before(async () => {
    server = await startServer({ ...ADMIN, REFRESH_REUSE_GRACE: '0' }, database);
    admin = await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
    await signup(server, 'bystander');
    bystander = await connectAs(server, 'bystander', (await login(server, 'bystander')).access_token);
  });
  afterEach(async () => {
    // Another user's socket lives through every revocation.
    await bystander.expectServed();
    await closeAll(server, opened.splice(0), 1);
  });
  after(async () => {
    await server.close();
  });

  /** A new user signed in twice (two sessions), with a socket on each session. */
  async function userWithTwoSessions(username: string) {
    const id = await signup(server, username);
    const sessions = [await login(server, username), await login(server, username)];
    const sockets = [await connectAs(server, username, sessions[0]!.access_token), await connectAs(server, username, sessions[1]!.access_token)];
    opened.push(...sockets);
    return { id, sessions, sockets };
  }

  async function expectRevoked(socket: TestSocket): Promise<void> {
    const closed = await socket.waitForClose(REVOCATION_MS);
    expect(closed.code).to.equal(REVOKED);
  }

  it('closes the sockets of the session ended by POST /logout with 4003, and no others', async () => {
    const { sessions, sockets } = await userWithTwoSessions('logout_user');
    expect((await server.request.post('/logout').set(bearer(sessions[0]!.access_token))).status).to.equal(204);
    await expectRevoked(sockets[0]!);
    await sockets[1]!.expectServed();
  });

  it('closes every socket of the user after POST /logout {all: true}', async () => {
    const { sessions, sockets } = await userWithTwoSessions('logout_all_user');
    expect((await server.request.post('/logout').set(bearer(sessions[0]!.access_token)).send({ all: true })).status).to.equal(204);
    await Promise.all(sockets.map(expectRevoked));
  });

  it('closes the sockets of a session ended with DELETE /sessions/:id', async () => {
    const { sessions, sockets } = await userWithTwoSessions('delete_session_user');
    const res = await server.request.delete(`/sessions/${sessionIdOf(sessions[1]!.access_token)}`).set(bearer(sessions[0]!.access_token));
    expect(res.status).to.equal(204);
    await expectRevoked(sockets[1]!);
    await sockets[0]!.expectServed();
  });

  it("closes the sockets of the user's other sessions after POST /me/password, and keeps the caller's", async () => {
    const { sessions, sockets } = await userWithTwoSessions('password_user');
    const res = await server.request.post('/me/password').set(bearer(sessions[0]!.access_token)).send({ current_password: PASSWORD, new_password: 'a brand new secret' });
    expect(res.status).to.equal(204);
    await expectRevoked(sockets[1]!);
    await sockets[0]!.expectServed();
  });

  it('closes every socket of a user an admin disables', async () => {
    const { id, sockets } = await userWithTwoSessions('disabled_user');
    const res = await server.request.patch(`/admin/users/${id}`).set(bearer(admin.access_token)).send({ disabled: true });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    await Promise.all(sockets.map(expectRevoked));
  });

  it('closes every socket of a user an admin forces out with DELETE /admin/users/:id/sessions', async () => {
    const { id, sockets } = await userWithTwoSessions('forced_user');
    expect((await server.request.delete(`/admin/users/${id}/sessions`).set(bearer(admin.access_token))).status).to.equal(204);
    await Promise.all(sockets.map(expectRevoked));
  });

  it('closes the sockets of a session whose rotated refresh token is replayed (reuse)', async () => {
    const { sessions, sockets } = await userWithTwoSessions('reuse_user');
    const rotated = await refresh(server, sessions[0]!.refresh_token);
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    await sockets[0]!.expectServed();
    const replayed = await refresh(server, sessions[0]!.refresh_token);
    expect(replayed.status).to.equal(400);
    expect(replayed.body.error).to.equal('invalid_grant');
    await expectRevoked(sockets[0]!);
    await sockets[1]!.expectServed();
  });

  it('closes a socket opened with a one-time ticket when its session ends', async () => {
    await signup(server, 'ticket_user');
    const tokens = await login(server, 'ticket_user');
    const { body } = await server.request.post('/ws/ticket').set(bearer(tokens.access_token)).expect(201);
    const socket = await connect(server, `/ws/ticket_user?ticket=${body.ticket as string}`);
    opened.push(socket);
    expect((await server.request.post('/logout').set(bearer(tokens.access_token))).status).to.equal(204);
    await expectRevoked(socket);
  });
});

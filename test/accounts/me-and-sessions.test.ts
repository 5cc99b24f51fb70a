import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { expectError, expectInvalidToken, RFC3339_UTC } from '../support/expectations';
import { basicAuth, createClient, secretOf } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, refresh, signup, type Tokens } from '../support/users';

const sessionOf = (tokens: Tokens) => (jwt.decode(tokens.access_token) as jwt.JwtPayload).sid as string;

onEachDatabase('/me, password change, sessions and logout', (database) => {
  let server: TestServer;
  const me = (tokens: Tokens) => server.request.get('/me').set(bearer(tokens.access_token));
  const listSessions = (tokens: Tokens) => server.request.get('/sessions').set(bearer(tokens.access_token));
  const changePassword = (tokens: Tokens, body: Record<string, unknown>) =>
    server.request.post('/me/password').set(bearer(tokens.access_token)).send(body);

  async function expectSessionEnded(tokens: Tokens): Promise<void> {
    expectInvalidToken(await me(tokens));
    expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
  }

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
  });
  after(() => server.close());

  it('shows the caller on GET /me: id, username, email, roles, created_at', async () => {
    const res = await server.request.post('/signup').send({ username: 'alice', password: PASSWORD, email: 'alice@example.com' });
    const tokens = await login(server, 'alice');
    const body = (await me(tokens).expect(200)).body;
    expect(body).to.have.all.keys('id', 'username', 'email', 'roles', 'created_at');
    expect(body).to.deep.include({ id: res.body.id, username: 'alice', email: 'alice@example.com', roles: [] });
    expect(body.created_at).to.match(RFC3339_UTC);
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).to.be.below(60_000);
  });

  it('refuses a password change with a wrong current password (403) and keeps the old password', async () => {
    const { tokens } = await newUser(server, 'bob');
    const res = await changePassword(tokens, { current_password: 'not my password', new_password: 'brand new password' });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.be.a('string').and.not.be.empty;
    await login(server, 'bob', PASSWORD);
    expect((await me(tokens)).status).to.equal(200);
  });

  it('refuses a new password shorter than 8 characters', async () => {
    const { tokens } = await newUser(server, 'bobby');
    const res = await changePassword(tokens, { current_password: PASSWORD, new_password: 'short' });
    expectError(res, 400, 'validation_failed');
  });

  it('changes the password, keeps the calling session and ends every other one at once', async () => {
    const { tokens: current } = await newUser(server, 'carol');
    const other = await login(server, 'carol');
    const third = await login(server, 'carol');
    expect((await me(other)).status).to.equal(200);

    const res = await changePassword(current, { current_password: PASSWORD, new_password: 'a whole new secret' });
    expect(res.status).to.equal(204);
    expect(res.text).to.equal('');

    expect((await me(current)).status).to.equal(200);
    expect((await refresh(server, current.refresh_token)).status).to.equal(200);
    await expectSessionEnded(other);
    await expectSessionEnded(third);
    await login(server, 'carol', 'a whole new secret');
    const old = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'carol', password: PASSWORD });
    expectError(old, 400, 'invalid_grant');
  });

  it('lists the live sessions with the calling one marked current', async () => {
    await signup(server, 'dave');
    const first = await login(server, 'dave');
    const agent = 'session-test/1.0 (the second one)';
    const secondRes = await server.request
      .post('/token')
      .type('form')
      .set('User-Agent', agent)
      .send({ grant_type: 'password', username: 'dave', password: PASSWORD })
      .expect(200);
    const second = secondRes.body as Tokens;

    const res = await listSessions(second).expect(200);
    expect(res.body).to.be.an('array').with.lengthOf(2);
    for (const session of res.body) {
      expect(session).to.include.all.keys('id', 'client_id', 'created_at', 'last_used_at', 'ip', 'user_agent', 'current');
      expect(session.client_id).to.equal('tessera');
      expect(session.created_at).to.match(RFC3339_UTC);
      expect(session.last_used_at).to.match(RFC3339_UTC);
      expect(session.ip).to.match(/127\.0\.0\.1$/);
    }
    const byId = new Map((res.body as Array<{ id: string }>).map((session) => [session.id, session]));
    expect([...byId.keys()].sort()).to.deep.equal([sessionOf(first), sessionOf(second)].sort());
    expect(byId.get(sessionOf(second))).to.include({ current: true, user_agent: agent });
    expect(byId.get(sessionOf(first))).to.include({ current: false });

    const fromFirst = await listSessions(first).expect(200);
    const current = (fromFirst.body as Array<{ id: string; current: boolean }>).filter((session) => session.current);
    expect(current.map((session) => session.id)).to.deep.equal([sessionOf(first)]);
  });

  it('ends one session with DELETE /sessions/:id and leaves the caller signed in', async () => {
    const { tokens: caller } = await newUser(server, 'erin');
    const victim = await login(server, 'erin');
    const res = await server.request.delete(`/sessions/${sessionOf(victim)}`).set(bearer(caller.access_token));
    expect(res.status).to.equal(204);
    await expectSessionEnded(victim);
    const listed = (await listSessions(caller).expect(200)).body as Array<{ id: string }>;
    expect(listed.map((session) => session.id)).to.deep.equal([sessionOf(caller)]);
    expectError(await server.request.delete(`/sessions/${sessionOf(victim)}`).set(bearer(caller.access_token)), 404, 'not_found');
  });

  it("answers 404 for another user's session and leaves that session alone", async () => {
    const { tokens: frank } = await newUser(server, 'frank');
    const { tokens: gina } = await newUser(server, 'gina');
    const res = await server.request.delete(`/sessions/${sessionOf(gina)}`).set(bearer(frank.access_token));
    expectError(res, 404, 'not_found');
    expect((await me(gina)).status).to.equal(200);
  });

  it('answers 404 for a session id that does not exist', async () => {
    const { tokens } = await newUser(server, 'hank');
    expectError(await server.request.delete('/sessions/no-such-session').set(bearer(tokens.access_token)), 404, 'not_found');
  });

  it('logs out the calling session only with POST /logout', async () => {
    const { tokens } = await newUser(server, 'ivan');
    const other = await login(server, 'ivan');
    const res = await server.request.post('/logout').set(bearer(tokens.access_token));
    expect(res.status).to.equal(204);
    await expectSessionEnded(tokens);
    expect((await me(other)).status).to.equal(200);
  });

  it('logs out every session of the user with {"all": true}', async () => {
    const sessions = [(await newUser(server, 'judy')).tokens, await login(server, 'judy'), await login(server, 'judy')];
    const { tokens: bystander } = await newUser(server, 'kate');
    const res = await server.request.post('/logout').set(bearer(sessions[0]!.access_token)).send({ all: true });
    expect(res.status).to.equal(204);
    for (const tokens of sessions) await expectSessionEnded(tokens);
    expect((await me(bystander)).status).to.equal(200);
  });

  it('answers 403 to a client_credentials token on the user endpoints', async () => {
    const client = await createClient(server, { scope: '' });
    const grant = await server.request
      .post('/token')
      .type('form')
      .set(basicAuth(client.id, secretOf(client)))
      .send({ grant_type: 'client_credentials' })
      .expect(200);
    const token = grant.body.access_token as string;
    for (const path of ['/me', '/sessions']) {
      const res = await server.request.get(path).set(bearer(token));
      expect(res.status, path).to.equal(403);
      expect(res.body.error).to.be.a('string').and.not.be.empty;
    }
  });
});

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { expectError, expectInvalidToken } from '../support/expectations';
import { createClient, decodeJwt, refreshTokenRows, sessionIdOf, sessionRow, tokenRequest } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD, refresh, signup, type Tokens } from '../support/users';

/** A refresh that must succeed. */
async function rotate(server: TestServer, refreshToken: string, fields: Record<string, string> = {}): Promise<Tokens> {
  const res = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: refreshToken, ...fields });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body as Tokens;
}

/** A chain of `count` rotations after a login: the login's tokens first, the newest last. */
async function rotations(server: TestServer, count: number): Promise<Tokens[]> {
  const chain = [await login(server, 'alice')];
  for (let i = 0; i < count; i += 1) chain.push(await rotate(server, chain[chain.length - 1]!.refresh_token));
  return chain;
}

async function expectInvalidGrant(server: TestServer, refreshToken: string): Promise<void> {
  expectError(await refresh(server, refreshToken), 400, 'invalid_grant');
}

const me = (server: TestServer, accessToken: string) => server.request.get('/me').set(bearer(accessToken));

/** After reuse: every access token of the session is refused at once, the newest refresh token too, and the row says why. */
async function expectRevokedForReuse(server: TestServer, issued: Tokens[]): Promise<void> {
  for (const tokens of issued) expectInvalidToken(await me(server, tokens.access_token));
  const newest = issued[issued.length - 1]!;
  await expectInvalidGrant(server, newest.refresh_token);
  const session = await sessionRow(server, sessionIdOf(newest.access_token));
  expect(session.revoked_at).to.be.a('number');
  expect(session.revoked_reason).to.equal('refresh_token_reuse');
}

onEachDatabase('refresh_token grant', (database) => {
  let server: TestServer; // REFRESH_REUSE_GRACE at its default, 10 s
  let strict: TestServer; // REFRESH_REUSE_GRACE=0: any replay is reuse
  before(async () => {
    [server, strict] = await Promise.all([startServer({}, database), startServer({ REFRESH_REUSE_GRACE: '0' }, database)]);
    await Promise.all([signup(server, 'alice'), signup(strict, 'alice')]);
  });
  after(async () => {
    await Promise.all([server.close(), strict.close()]);
  });

  it('rotates the refresh token and leaves the earlier access token working', async () => {
    const [first, second] = (await rotations(server, 1)) as [Tokens, Tokens];
    expect(second).to.include({ token_type: 'Bearer', expires_in: 900, scope: first.scope });
    expect(second.refresh_token).to.match(/^[A-Za-z0-9_-]{43}$/).and.not.equal(first.refresh_token);
    expect(sessionIdOf(second.access_token)).to.equal(sessionIdOf(first.access_token));
    expect((await me(server, first.access_token)).status).to.equal(200);
    expect((await me(server, second.access_token)).status).to.equal(200);
  });

  it('answers a retry of the just-rotated token within the grace with the same successor and a fresh access token', async () => {
    const [first, second] = (await rotations(server, 1)) as [Tokens, Tokens];
    const retry = await rotate(server, first.refresh_token);
    expect(retry.refresh_token).to.equal(second.refresh_token);
    expect(retry.access_token).to.not.equal(second.access_token);
    expect((await me(server, retry.access_token)).status).to.equal(200);
    const third = await rotate(server, second.refresh_token);
    expect(third.refresh_token).to.not.equal(second.refresh_token);
  });

  it('treats a replay of the rotated token as reuse when REFRESH_REUSE_GRACE=0 and revokes the whole session', async () => {
    const chain = await rotations(strict, 1);
    await expectInvalidGrant(strict, chain[0]!.refresh_token);
    await expectRevokedForReuse(strict, chain);
  });

  it('treats a replay of a grandparent token as reuse even within the grace', async () => {
    const chain = await rotations(server, 3);
    await expectInvalidGrant(server, chain[1]!.refresh_token);
    await expectRevokedForReuse(server, chain);
  });

  it('treats a replay of the parent as reuse once its successor has been used, even after a successful retry', async () => {
    const first = await login(server, 'alice');
    const second = await rotate(server, first.refresh_token);
    const retried = await rotate(server, first.refresh_token);
    const third = await rotate(server, second.refresh_token);
    await expectInvalidGrant(server, first.refresh_token);
    await expectRevokedForReuse(server, [first, second, retried, third]);
  });

  it('gives 20 concurrent refreshes of one token the same successor and never forks the session', async () => {
    const first = await login(server, 'alice');
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(server, first.refresh_token)));
    for (const res of responses) expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const successors = new Set(responses.map((res) => res.body.refresh_token as string));
    expect(successors.size).to.equal(1);
    const [successor] = [...successors] as [string];
    expect(successor).to.not.equal(first.refresh_token);
    const rows = await refreshTokenRows(server, sessionIdOf(first.access_token));
    expect(rows).to.have.length(2);
    expect(rows.filter((row) => row.rotated_at === null)).to.have.length(1);
    await rotate(server, successor);
  });

  it('answers refreshes sent together each on its own: a refused one neither fails nor undoes the others', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => login(server, 'alice', PASSWORD, { scope: 'tasks:read' })));
    const [widened, ...rest] = sessions as [Tokens, ...Tokens[]];
    const responses = await Promise.all([
      tokenRequest(server, { grant_type: 'refresh_token', refresh_token: widened.refresh_token, scope: 'tasks:read tasks:write' }),
      ...rest.map((tokens) => refresh(server, tokens.refresh_token)),
      ...Array.from({ length: 5 }, () => refresh(server, randomBytes(32).toString('base64url'))),
    ]);
    expectError(responses[0]!, 400, 'invalid_scope');
    for (const res of responses.slice(1, sessions.length)) expect(res.status, JSON.stringify(res.body)).to.equal(200);
    for (const res of responses.slice(sessions.length)) expectError(res, 400, 'invalid_grant');
    await rotate(server, widened.refresh_token);
    for (const res of responses.slice(1, sessions.length)) await rotate(server, res.body.refresh_token as string);
  });

  it('narrows the scope of one access token on request, and the next refresh has the session scope again', async () => {
    const first = await login(server, 'alice');
    const narrow = await rotate(server, first.refresh_token, { scope: 'tasks:read' });
    expect(narrow.scope).to.equal('tasks:read');
    expect(decodeJwt(narrow.access_token).claims.scope).to.equal('tasks:read');
    const next = await rotate(server, narrow.refresh_token);
    expect(next.scope).to.equal(first.scope);
  });

  it('refuses a scope wider than the session with invalid_scope and leaves the refresh token usable', async () => {
    const first = await login(strict, 'alice', PASSWORD, { scope: 'tasks:read' });
    const res = await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'tasks:read tasks:write' });
    expectError(res, 400, 'invalid_scope');
    expect((await rotate(strict, first.refresh_token)).scope).to.equal('tasks:read');
  });

  it('refuses a refresh token of the built-in client presented by another client, without consuming it', async () => {
    const other = await createClient(strict, { confidential: false, grantTypes: ['password', 'refresh_token'], scope: 'tasks:read' });
    const first = await login(strict, 'alice');
    const res = await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: other.id });
    expectError(res, 400, 'invalid_grant');
    await rotate(strict, first.refresh_token);
  });

  it('refuses an unknown or malformed refresh token with invalid_grant', async () => {
    await expectInvalidGrant(server, randomBytes(32).toString('base64url'));
    await expectInvalidGrant(server, 'not a refresh token');
  });

  it('asks for the refresh_token parameter with invalid_request when it is missing', async () => {
    expectError(await tokenRequest(server, { grant_type: 'refresh_token' }), 400, 'invalid_request');
  });

  it('refuses the refresh of a disabled user with invalid_grant, even while the session is live', async () => {
    const { id, tokens } = await newUser(server, 'bob');
    const { users, tenantId } = server.tessera.services;
    await users.queries.update(tenantId, id, { disabled: true }); // the flag only: the session stays unrevoked
    await expectInvalidGrant(server, tokens.refresh_token);
  });
});

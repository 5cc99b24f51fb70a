import { expect } from 'chai';
import { createServer } from 'node:net';
import { TesseraError } from '../../client/src/index';
import { startServer, type TestServer } from '../support/server';
import { bearer, login } from '../support/users';
import { clientOf, collect, loggedIn, plantStaleToken, refreshGrants } from './support';

const PARALLEL = 50;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('client: token refresh', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
  });
  after(() => server.close());

  it('lets 50 parallel calls that hit 401 share one refresh grant, each retried once with the new token', async () => {
    const test = await loggedIn(server, 'parallel');
    const stale = await plantStaleToken(server, test);
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => test.client.tasks.list()));
    expect(results).to.have.length(PARALLEL).and.to.satisfy((lists: unknown[]) => lists.every(Array.isArray));
    expect(refreshGrants(test.calls)).to.have.length(1);
    const taskCalls = test.calls.filter((call) => call.path === '/tasks');
    expect(taskCalls.filter((call) => call.status === 401)).to.have.length(PARALLEL);
    expect(taskCalls.filter((call) => call.status === 200)).to.have.length(PARALLEL);
    expect((await test.store.get())!.access_token).to.not.equal(stale.access_token);
  });

  it('clears the tokens and emits logout once when the refresh fails with invalid_grant', async () => {
    const test = await loggedIn(server, 'revoked');
    const logouts = collect(test.client, 'logout');
    const { access_token: token } = (await test.store.get())!;
    expect((await server.request.post('/logout').set(bearer(token))).status).to.equal(204);

    const outcomes = await Promise.allSettled(Array.from({ length: PARALLEL }, () => test.client.tasks.list()));
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof TesseraError && outcome.reason.code === 'invalid_grant')).to.equal(true);
    expect(refreshGrants(test.calls)).to.have.length(1);
    expect(logouts).to.deep.equal([{ reason: 'expired' }]);
    expect(await test.store.get()).to.equal(undefined);
    expect(await test.client.loggedIn()).to.equal(false);
  });

  it('refreshes a token shortly before it expires, before sending the request', async () => {
    const test = await loggedIn(server, 'early');
    const tokens = (await test.store.get())!;
    await test.store.set({ ...tokens, expires_at: Date.now() + 5_000 }); // inside the 30 s margin
    await test.client.me();
    expect(test.calls.slice(-2).map((call) => [call.path, call.grant, call.status])).to.deep.equal([
      ['/token', 'refresh_token', 200],
      ['/me', undefined, 200],
    ]);
  });

  it('does not refresh a token with most of its life left', async () => {
    const test = await loggedIn(server, 'fresh');
    await test.client.me();
    await test.client.tasks.list();
    expect(refreshGrants(test.calls)).to.have.length(0);
  });

  it('keeps the tokens and does not log out when the server cannot be reached', async () => {
    const test = await loggedIn(server, 'unreachable');
    const tokens = (await test.store.get())!;
    const offline = clientOf(server, { baseUrl: `http://127.0.0.1:${await closedPort()}` });
    await offline.store.set({ ...tokens, expires_at: Date.now() + 5_000 });
    const logouts = collect(offline.client, 'logout');
    const failure = await offline.client.me().then(() => undefined, (error: unknown) => error);
    expect(failure).to.be.instanceOf(TypeError); // fetch's network failure, not an auth error
    expect(logouts).to.deep.equal([]);
    expect((await offline.store.get())!.refresh_token).to.equal(tokens.refresh_token);
  });

  it('logs every device out with logout({all: true}): the other client is logged out at its next call', async () => {
    const phone = await loggedIn(server, 'everywhere');
    const { client: laptop } = clientOf(server);
    await laptop.login('everywhere', 'correct horse battery');
    const laptopLogouts = collect(laptop, 'logout');
    const phoneLogouts = collect(phone.client, 'logout');

    await phone.client.logout({ all: true });
    expect(phoneLogouts).to.deep.equal([{ reason: 'user' }]);
    expect(await phone.store.get()).to.equal(undefined);

    const failure = await laptop.tasks.list().then(() => undefined, (error: unknown) => error);
    expect(failure).to.be.instanceOf(TesseraError).with.property('code', 'invalid_grant');
    expect(laptopLogouts).to.deep.equal([{ reason: 'expired' }]);
  });

  it('logs out locally when the client revokes its own session from the device list', async () => {
    const test = await loggedIn(server, 'selfrevoke');
    const other = await login(server, 'selfrevoke');
    const logouts = collect(test.client, 'logout');
    const sessions = await test.client.sessions.list();
    expect(sessions).to.have.length(2);
    const own = sessions.find((session) => session.current)!;
    await test.client.sessions.revoke(own.id);
    expect(logouts).to.deep.equal([{ reason: 'user' }]);
    expect((await server.request.get('/sessions').set(bearer(other.access_token))).body).to.have.length(1);
  });
});

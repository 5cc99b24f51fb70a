import { expect } from 'chai';
import { decodeJwt } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { login, refresh, signup, type Tokens } from '../support/users';
import { closeAll, connectAs, registrySize, reissue, type TestSocket } from './support';

const TTL_SECONDS = 3;
const EXPIRED = 4001;
const REVOKED = 4003;
/** Long enough for a socket whose token lives TTL_SECONDS to reach its expiry. */
const EXPIRY_WAIT_MS = (TTL_SECONDS + 2) * 1_000;

const expiryOf = (token: string) => decodeJwt(token).claims.exp as number;

onEachDatabase('gateway: token expiry and in-band renewal (SPEC §6)', (database) => {
  let server: TestServer;
  const opened: TestSocket[] = [];

  before(async () => {
    server = await startServer({ ACCESS_TOKEN_TTL: String(TTL_SECONDS) }, database);
    await signup(server, 'alice');
    await signup(server, 'bob');
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(() => server.close());

  /** Tokens live TTL_SECONDS here: each test signs in afresh. */
  const fresh = async (username = 'alice'): Promise<Tokens> => login(server, username);

  async function open(token: string): Promise<TestSocket> {
    const socket = await connectAs(server, 'alice', token);
    opened.push(socket);
    return socket;
  }

  it('sends token_expiring at once when the token has less than 60 s left, and closes with 4001 at expiry', async () => {
    const { access_token: token } = await fresh();
    const socket = await open(token);
    const warning = await socket.next('token_expiring');
    expect(warning).to.have.all.keys('type', 'expires_in');
    expect(warning.expires_in).to.be.a('number').and.be.within(0, TTL_SECONDS);
    const closed = await socket.waitForClose(EXPIRY_WAIT_MS);
    expect(closed.code).to.equal(EXPIRED);
    expect(Date.now(), 'closed no earlier than the expiry').to.be.at.least(expiryOf(token) * 1_000 - 50);
    await registrySize(server, 0);
  });

  it('answers an auth frame with a refreshed token with auth_ok and a later expires_at, and the socket outlives the first token', async () => {
    const session = await fresh();
    // Signed a second in the past, so the refreshed token surely expires later than this one.
    const first = reissue(server, session.access_token, Date.now() - 1_000);
    const socket = await open(first);
    const refreshed = await refresh(server, session.refresh_token);
    expect(refreshed.status, JSON.stringify(refreshed.body)).to.equal(200);
    const renewed = refreshed.body.access_token as string;
    expect(expiryOf(renewed)).to.be.above(expiryOf(first));

    socket.send({ type: 'auth', token: renewed });
    const ok = await socket.next('auth_ok');
    expect(ok).to.have.all.keys('type', 'expires_at');
    expect(Date.parse(ok.expires_at as string) / 1_000).to.equal(expiryOf(renewed));
    expect(Date.parse(ok.expires_at as string)).to.be.above(Date.parse(socket.frames[0]!.expires_at as string));

    const closed = await socket.waitForClose(EXPIRY_WAIT_MS);
    expect(closed.code).to.equal(EXPIRED);
    // Without the renewal it would have closed at the first token's expiry, at least a second earlier.
    expect(Date.now(), 'closed at the renewed expiry').to.be.at.least(expiryOf(renewed) * 1_000 - 50);
  });

  it("closes the socket with 4003 for an auth frame with another user's token", async () => {
    const socket = await open((await fresh()).access_token);
    socket.send({ type: 'auth', token: (await fresh('bob')).access_token });
    expect((await socket.waitForClose()).code).to.equal(REVOKED);
  });

  it('answers an auth frame with a bad or expired token with an invalid_token error frame and keeps the socket', async () => {
    const alice = await fresh();
    const socket = await open(alice.access_token);
    socket.send({ type: 'auth', token: 'not-a-token' });
    expect(await socket.next('error')).to.include({ code: 'invalid_token' });
    socket.send({ type: 'auth', token: reissue(server, alice.access_token, Date.now() - 3_600_000) });
    const errors = await socket.waitForCount((frame) => frame.type === 'error', 2);
    expect(errors[1]).to.include({ code: 'invalid_token' });
    expect(socket.ofType('auth_ok')).to.be.empty;
    await socket.expectServed();
  });

  it('answers an auth frame with a token without messages:read with an insufficient_scope error frame', async () => {
    const socket = await open((await fresh()).access_token);
    const narrow = await login(server, 'alice', undefined, { scope: 'tasks:read' });
    socket.send({ type: 'auth', token: narrow.access_token });
    expect(await socket.next('error')).to.include({ code: 'insufficient_scope' });
    await socket.expectServed();
  });
});

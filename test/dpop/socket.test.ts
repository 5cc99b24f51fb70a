import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { login, signup, type Tokens } from '../support/users';
import { attemptUpgrade, closeAll, connect, expectRefused, socketPath, type TestSocket } from '../gateway/support';
import { dpopHeaders, dpopLogin, newKey, proof, type ProofKey } from './support';

const REVOKED = 4003;
const REVOCATION_MS = 1_000; // SPEC §6: a revoked session's sockets close within 1 s

describe('DPoP on the socket: the upgrade, tickets and auth frames (SPEC §11)', () => {
  let server: TestServer;
  let key: ProofKey;
  let tokens: Tokens;
  const opened: TestSocket[] = [];
  const socketUrl = () => `${server.url}/ws/alice`;
  const upgradeHeaders = async (token: string, proofKey = key, htu = socketUrl()) => ({
    headers: { Authorization: `DPoP ${token}`, DPoP: await proof(proofKey, { htm: 'GET', htu, token }) },
  });
  const open = async (path: string, options: Parameters<typeof connect>[2] = {}) => {
    const socket = await connect(server, path, options);
    opened.push(socket);
    return socket;
  };

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    await signup(server, 'alice');
    key = await newKey();
    tokens = await dpopLogin(server, 'alice', key);
  });
  afterEach(async () => {
    await closeAll(server, opened.splice(0));
  });
  after(async () => {
    await server.close();
  });

  it('opens a socket for a bound token with a proof in the upgrade\'s DPoP header (htm GET, http URL of the socket)', async () => {
    const socket = await open('/ws/alice', await upgradeHeaders(tokens.access_token));
    await socket.expectServed();
    // The query is not part of htu.
    await open('/ws/alice?client=test', await upgradeHeaders(tokens.access_token));
  });

  it('refuses the upgrade of a bound token without a proof, as Bearer, in the query, or with a proof of another key or URL', async () => {
    const challenge = (refusal: { headers: Record<string, unknown> }) => expect(String(refusal.headers['www-authenticate'])).to.match(/^DPoP error=/);
    challenge(await expectRefused(server, '/ws/alice', 401, 'invalid_dpop_proof', { headers: { Authorization: `DPoP ${tokens.access_token}` } }));
    challenge(await expectRefused(server, '/ws/alice', 401, 'invalid_token', { headers: { Authorization: `Bearer ${tokens.access_token}` } }));
    challenge(await expectRefused(server, socketPath('alice', tokens.access_token), 401, 'invalid_token'));
    await expectRefused(server, '/ws/alice', 401, 'invalid_dpop_proof', await upgradeHeaders(tokens.access_token, await newKey()));
    await expectRefused(server, '/ws/alice', 401, 'invalid_dpop_proof', await upgradeHeaders(tokens.access_token, key, socketUrl().replace(/^http/, 'ws')));
    await expectRefused(server, '/ws/alice', 401, 'invalid_dpop_proof', await upgradeHeaders(tokens.access_token, key, `${server.url}/ws/bob`));
  });

  it('refuses a replayed upgrade proof', async () => {
    const options = await upgradeHeaders(tokens.access_token);
    await open('/ws/alice', options);
    await expectRefused(server, '/ws/alice', 401, 'invalid_dpop_proof', options);
  });

  it('opens a socket with a ticket from POST /ws/ticket made with DPoP, and the socket stays bound to the key', async () => {
    const ticket = await server.request.post('/ws/ticket').set(await dpopHeaders(server, key, tokens.access_token, 'POST', '/ws/ticket'));
    expect(ticket.status, JSON.stringify(ticket.body)).to.equal(201);
    const socket = await open(`/ws/alice?ticket=${ticket.body.ticket as string}`);
    // Renewing it with an unbound token would drop the binding: refused, and the socket stays open.
    const since = socket.frames.length;
    socket.send({ type: 'auth', token: (await login(server, 'alice')).access_token });
    expect((await socket.next('error', { since })).code).to.equal('invalid_token');
    await socket.expectServed();
  });

  it('renews a bound socket with an auth frame only when it carries dpop for the new token', async () => {
    const socket = await open('/ws/alice', await upgradeHeaders(tokens.access_token));
    const renewed = await dpopLogin(server, 'alice', key);
    const htu = socketUrl();

    let since = socket.frames.length;
    socket.send({ type: 'auth', token: renewed.access_token });
    expect((await socket.next('error', { since })).code).to.equal('invalid_token');

    since = socket.frames.length;
    socket.send({ type: 'auth', token: renewed.access_token, dpop: await proof(key, { htu, token: tokens.access_token }) });
    expect((await socket.next('error', { since })).code).to.equal('invalid_dpop_proof');

    since = socket.frames.length;
    const other = await newKey();
    const otherTokens = await dpopLogin(server, 'alice', other);
    socket.send({ type: 'auth', token: otherTokens.access_token, dpop: await proof(other, { htu, token: otherTokens.access_token }) });
    expect((await socket.next('error', { since })).code).to.equal('invalid_token');

    since = socket.frames.length;
    socket.send({ type: 'auth', token: renewed.access_token, dpop: await proof(key, { htu, token: renewed.access_token }) });
    await socket.next('auth_ok', { since });
    await socket.expectServed();
  });

  it('lets an unbound socket take a bound token with its proof', async () => {
    const plain = await login(server, 'alice');
    const socket = await open(socketPath('alice', plain.access_token));
    const since = socket.frames.length;
    socket.send({ type: 'auth', token: tokens.access_token, dpop: await proof(key, { htu: socketUrl(), token: tokens.access_token }) });
    await socket.next('auth_ok', { since });
  });

  it('closes a bound socket with 4003 within a second when its session is revoked', async () => {
    const bound = await dpopLogin(server, 'alice', key);
    const socket = await open('/ws/alice', await upgradeHeaders(bound.access_token));
    const logout = await server.request.post('/logout').set(await dpopHeaders(server, key, bound.access_token, 'POST', '/logout'));
    expect(logout.status, JSON.stringify(logout.body)).to.equal(204);
    expect((await socket.waitForClose(REVOCATION_MS)).code).to.equal(REVOKED);
  });

  it('never answers a broken DPoP header on the upgrade with a 500', async () => {
    for (const dpop of ['', 'x', 'a.b.c', `${'A'.repeat(5_000)}.b.c`, 'e30.e30.AA']) {
      const { socket, refusal } = await attemptUpgrade(server, '/ws/alice', { headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: dpop } });
      socket?.ws.terminate();
      expect(refusal?.status, dpop.slice(0, 20)).to.equal(401);
    }
  });
});

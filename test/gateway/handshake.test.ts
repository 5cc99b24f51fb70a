import { expect } from 'chai';
import type { ClientOptions } from 'ws';
import { RFC3339_UTC } from '../support/expectations';
import { decodeJwt } from '../support/oauth';
import { scopedAuth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, type Tokens } from '../support/users';
import { attemptUpgrade, closeAll, connect, connectAs, expectRefusal, expectRefused, registrySize, reissue, socketPath, type Refusal } from './support';

onEachDatabase('gateway handshake (SPEC §6)', (database) => {
  let server: TestServer;
  let alice: Tokens;
  let bob: Tokens;
  before(async () => {
    server = await startServer({ WS_MAX_CONNECTIONS_PER_USER: '2' }, database);
    alice = (await newUser(server, 'alice')).tokens;
    bob = (await newUser(server, 'bob')).tokens;
  });
  after(() => server.close());

  /** A refused upgrade leaves no socket behind on the server. */
  async function refused(path: string, status: number, code: string, options: ClientOptions = {}): Promise<Refusal> {
    const refusal = await expectRefused(server, path, status, code, options);
    expect(server.tessera.gateway.registry.size, 'sockets after a refusal').to.equal(0);
    return refusal;
  }

  const ticketFor = async (tokens: Tokens): Promise<string> => {
    const res = await server.request.post('/ws/ticket').set(bearer(tokens.access_token));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.ticket as string;
  };

  describe('accepted upgrades', () => {
    it('accepts a token in ?token= and sends the welcome first, with username, connection_id and expires_at', async () => {
      const socket = await connectAs(server, 'alice', alice.access_token);
      const [welcome] = socket.frames;
      expect(welcome).to.have.all.keys('type', 'username', 'connection_id', 'expires_at');
      expect(welcome).to.include({ type: 'welcome', username: 'alice' });
      expect(welcome!.connection_id).to.be.a('string').and.not.be.empty;
      expect(welcome!.expires_at).to.match(RFC3339_UTC);
      expect(Date.parse(welcome!.expires_at as string) / 1000).to.equal(decodeJwt(alice.access_token).claims.exp);
      expect(server.tessera.gateway.registry.size).to.equal(1);
      await closeAll(server, [socket]);
    });

    it('accepts a token in an Authorization: Bearer header', async () => {
      const socket = await connect(server, '/ws/alice', { headers: bearer(alice.access_token) });
      expect(socket.frames[0]).to.include({ type: 'welcome', username: 'alice' });
      await closeAll(server, [socket]);
    });

    it('matches the username case-insensitively', async () => {
      const socket = await connectAs(server, 'ALICE', alice.access_token);
      expect(socket.frames[0]).to.include({ type: 'welcome', username: 'alice' });
      await closeAll(server, [socket]);
    });

    it('gives each socket its own connection_id', async () => {
      const sockets = [await connectAs(server, 'alice', alice.access_token), await connectAs(server, 'alice', alice.access_token)];
      const ids = sockets.map((socket) => socket.frames[0]!.connection_id);
      expect(ids[0]).to.not.equal(ids[1]);
      await closeAll(server, sockets);
    });
  });

  describe('one-time tickets', () => {
    it('issues a ticket valid for 30 s (201, no-store) that opens the socket without a token in the URL', async () => {
      const res = await server.request.post('/ws/ticket').set(bearer(alice.access_token));
      expect(res.status).to.equal(201);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.have.all.keys('ticket', 'expires_in');
      expect(res.body.expires_in).to.equal(30);
      expect(res.body.ticket).to.be.a('string').and.not.include(alice.access_token);
      const socket = await connect(server, `/ws/alice?ticket=${encodeURIComponent(res.body.ticket as string)}`);
      expect(socket.frames[0]).to.include({ type: 'welcome', username: 'alice' });
      await closeAll(server, [socket]);
    });

    it('refuses a ticket the second time it is used (401)', async () => {
      const ticket = await ticketFor(alice);
      await closeAll(server, [await connect(server, `/ws/alice?ticket=${ticket}`)]);
      await refused(`/ws/alice?ticket=${ticket}`, 401, 'invalid_token');
    });

    it('refuses an unknown ticket (401)', async () => {
      await refused('/ws/alice?ticket=not-a-ticket', 401, 'invalid_token');
    });

    it("refuses a ticket on another user's path (403)", async () => {
      await refused(`/ws/bob?ticket=${await ticketFor(alice)}`, 403, 'forbidden');
    });

    it('refuses a ticket whose session was revoked after it was issued (401)', async () => {
      const tokens = await login(server, 'alice');
      const ticket = await ticketFor(tokens);
      expect((await server.request.post('/logout').set(bearer(tokens.access_token))).status).to.equal(204);
      await refused(`/ws/alice?ticket=${ticket}`, 401, 'invalid_token');
    });

    it('issues no ticket without a token (401)', async () => {
      const res = await server.request.post('/ws/ticket');
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('unauthorized');
    });
  });

  describe('refusals before the upgrade', () => {
    it('refuses an upgrade without a token (401 unauthorized)', async () => {
      await refused('/ws/alice', 401, 'unauthorized');
    });

    it('refuses a malformed token (401 invalid_token)', async () => {
      await refused(socketPath('alice', 'not.a.token'), 401, 'invalid_token');
      await refused('/ws/alice', 401, 'invalid_token', { headers: { Authorization: 'Bearer garbage' } });
    });

    it('refuses an expired token (401 invalid_token)', async () => {
      const expired = reissue(server, alice.access_token, Date.now() - 3_600_000);
      const refusal = await refused(socketPath('alice', expired), 401, 'invalid_token');
      expect(refusal.body.error_description).to.match(/expired/);
    });

    it('refuses a token whose session was revoked (401 invalid_token)', async () => {
      const tokens = await login(server, 'alice');
      expect((await server.request.post('/logout').set(bearer(tokens.access_token))).status).to.equal(204);
      await refused(socketPath('alice', tokens.access_token), 401, 'invalid_token');
    });

    it("refuses alice's token on /ws/bob (403)", async () => {
      await refused(socketPath('bob', alice.access_token), 403, 'forbidden');
      await refused(socketPath('alice', bob.access_token), 403, 'forbidden');
    });

    it('refuses a token without messages:read (403 insufficient_scope)', async () => {
      const { Authorization } = await scopedAuth(server, 'alice', 'tasks:read');
      await refused('/ws/alice', 403, 'insufficient_scope', { headers: { Authorization } });
    });

    it('answers 404 for paths other than /ws/:username', async () => {
      for (const path of ['/ws', '/ws/', '/ws/alice/more', '/other', '/']) {
        await refused(`${path}?token=${alice.access_token}`, 404, 'not_found');
      }
    });

    it('refuses a socket over WS_MAX_CONNECTIONS_PER_USER (429) and accepts one again once a socket closes', async () => {
      const sockets = [await connectAs(server, 'alice', alice.access_token), await connectAs(server, 'alice', alice.access_token)];
      const refusal = await expectRefused(server, socketPath('alice', alice.access_token), 429, 'rate_limited');
      expect(Number(refusal.headers['retry-after'])).to.be.above(0);
      expect(server.tessera.gateway.registry.size).to.equal(2);
      const other = await connectAs(server, 'bob', bob.access_token);
      sockets[0]!.ws.close();
      await registrySize(server, 2);
      const again = await connectAs(server, 'alice', alice.access_token);
      await closeAll(server, [sockets[1]!, other, again]);
    });
  });

  describe('with WS_ORIGINS', () => {
    let guarded: TestServer;
    let token: string;
    before(async () => {
      guarded = await startServer({ WS_ORIGINS: 'https://app.example, https://admin.example' }, database);
      token = (await newUser(guarded, 'alice')).tokens.access_token;
    });
    after(() => guarded.close());

    it('accepts a listed Origin', async () => {
      const socket = await connectAs(guarded, 'alice', token, { origin: 'https://admin.example' });
      expect(socket.frames[0]).to.include({ type: 'welcome' });
      await closeAll(guarded, [socket]);
    });

    it('refuses an Origin not in WS_ORIGINS, and a missing Origin (403)', async () => {
      await expectRefused(guarded, socketPath('alice', token), 403, 'forbidden', { origin: 'https://evil.example' });
      await expectRefused(guarded, socketPath('alice', token), 403, 'forbidden');
      expect(guarded.tessera.gateway.registry.size).to.equal(0);
    });
  });

  describe('with WS_UPGRADES_PER_MINUTE', () => {
    const LIMIT = 3;
    let limited: TestServer;
    let token: string;
    before(async () => {
      limited = await startServer({ WS_UPGRADES_PER_MINUTE: String(LIMIT) }, database);
      token = (await newUser(limited, 'alice')).tokens.access_token;
    });
    after(() => limited.close());

    it('refuses upgrade attempts from one IP beyond the limit per minute (429 with Retry-After)', async () => {
      const accepted = [];
      for (let i = 0; i < LIMIT; i += 1) accepted.push(await connectAs(limited, 'alice', token));
      await closeAll(limited, accepted);
      // The limit counts per calendar minute: LIMIT + 1 more attempts cross at most one minute boundary,
      // so at least one of them is over the limit whenever this test runs. Their tokens are bad: only 429 or 401 can answer.
      const refusals: Refusal[] = [];
      for (let i = 0; i <= LIMIT; i += 1) {
        const { refusal } = await attemptUpgrade(limited, socketPath('alice', 'bad-token'));
        expect(refusal, 'an upgrade with a bad token').to.not.equal(undefined);
        refusals.push(refusal!);
      }
      const limitedOnes = refusals.filter((refusal) => refusal.status === 429);
      expect(limitedOnes).to.not.be.empty;
      for (const refusal of limitedOnes) {
        expectRefusal(refusal, 429, 'rate_limited');
        expect(Number(refusal.headers['retry-after'])).to.be.within(1, 60);
      }
      for (const refusal of refusals.filter((refusal) => refusal.status !== 429)) expectRefusal(refusal, 401, 'invalid_token');
      expect(limited.tessera.gateway.registry.size).to.equal(0);
    });
  });

  describe('with RATE_LIMITS=off', () => {
    const LIMIT = 3;
    let unlimited: TestServer;
    let token: string;
    before(async () => {
      unlimited = await startServer({ RATE_LIMITS: 'off', WS_UPGRADES_PER_MINUTE: String(LIMIT), WS_MAX_CONNECTIONS_PER_USER: '2' }, database);
      token = (await newUser(unlimited, 'alice')).tokens.access_token;
    });
    after(() => unlimited.close());

    it('lets one IP attempt upgrades beyond WS_UPGRADES_PER_MINUTE: none is refused with 429', async () => {
      // The limit counts per calendar minute: 2 × LIMIT + 2 attempts span at most two minutes, so one of them would hold LIMIT + 1.
      for (let i = 0; i < 2 * LIMIT + 2; i += 1) await expectRefused(unlimited, socketPath('alice', 'bad-token'), 401, 'invalid_token');
      const socket = await connectAs(unlimited, 'alice', token);
      await closeAll(unlimited, [socket]);
    });

    it('still refuses a socket over WS_MAX_CONNECTIONS_PER_USER (429): that is a resource limit, not a rate limit', async () => {
      const sockets = [await connectAs(unlimited, 'alice', token), await connectAs(unlimited, 'alice', token)];
      await expectRefused(unlimited, socketPath('alice', token), 429, 'rate_limited');
      await closeAll(unlimited, sockets);
    });
  });
});

// Which address an upgrade attempt counts against does not touch the database: SQLite only.
describe('gateway: upgrade attempts per client address, as REST sees it under TRUST_PROXY', () => {
  const LIMIT = 2;
  // The limit counts per calendar minute: 2 × LIMIT + 1 attempts span at most two minutes, so one of them holds LIMIT + 1.
  const FLOOD = 2 * LIMIT + 1;
  const attempt = async (server: TestServer, forwardedFor: string): Promise<Refusal> => {
    const { refusal } = await attemptUpgrade(server, socketPath('alice', 'bad-token'), { headers: { 'x-forwarded-for': forwardedFor } });
    expect(refusal, 'an upgrade with a bad token').to.not.equal(undefined);
    return refusal!;
  };

  it('behind a trusted proxy, counts each client of X-Forwarded-For on its own', async () => {
    const server = await startServer({ WS_UPGRADES_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'loopback' });
    try {
      const flood = [];
      for (let i = 0; i < FLOOD; i += 1) flood.push(await attempt(server, '203.0.113.7'));
      expect(flood.map((refusal) => refusal.status)).to.include(429);
      // Another client behind the same proxy has its own count: its token is checked (401), not refused for the first one's attempts.
      expectRefusal(await attempt(server, '203.0.113.8'), 401, 'invalid_token');
    } finally {
      await server.close();
    }
  });

  it('counts different IPv6 addresses of one /64 as one client, as REST does (by /56)', async () => {
    const server = await startServer({ WS_UPGRADES_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'loopback' });
    try {
      // Three addresses take turns: none of them alone makes more than LIMIT attempts.
      const addresses = ['2001:db8:7:1::a', '2001:db8:7:1::b', '2001:db8:7:1::c'];
      const flood = [];
      for (let i = 0; i < FLOOD; i += 1) flood.push(await attempt(server, addresses[i % addresses.length]!));
      expect(flood.map((refusal) => refusal.status)).to.include(429);
      // Another /56 is another client: its token is checked.
      expectRefusal(await attempt(server, '2001:db8:8:1::a'), 401, 'invalid_token');
    } finally {
      await server.close();
    }
  });

  it('with no proxy trusted, ignores X-Forwarded-For: a client cannot get a new count by sending another one', async () => {
    const server = await startServer({ WS_UPGRADES_PER_MINUTE: String(LIMIT) });
    try {
      const flood = [];
      for (let i = 0; i < FLOOD; i += 1) flood.push(await attempt(server, `203.0.113.${10 + i}`));
      expect(flood.map((refusal) => refusal.status)).to.include(429);
    } finally {
      await server.close();
    }
  });
});

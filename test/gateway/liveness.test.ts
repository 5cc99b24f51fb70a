import type { Socket } from 'node:net';
import { expect } from 'chai';
import { clientAuth, type Auth } from '../support/resources';
import { startServer, type TestServer } from '../support/server';
import { login, signup } from '../support/users';
import { closeAll, connectAs, registrySize, WAIT_MS, type TestSocket } from './support';

// Heartbeats, shutdown and slow readers do not touch the database: these suites run on SQLite only.

/** Resolves after the client has seen `count` pings from the server; fails after the timeout. */
function pings(socket: TestSocket, count: number, timeoutMs = WAIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => reject(new Error(`${seen} of ${count} pings within ${timeoutMs} ms`)), timeoutMs);
    socket.ws.on('ping', () => {
      seen += 1;
      if (seen !== count) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The client's TCP socket, to stop reading from it as a slow reader would. */
const tcpOf = (socket: TestSocket): Socket => (socket.ws as unknown as { _socket: Socket })._socket;

describe('gateway: heartbeat, shutdown and slow readers (SPEC §6)', () => {
  describe('with WS_HEARTBEAT_MS=200', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ WS_HEARTBEAT_MS: '200' });
      await signup(server, 'alice');
    });
    after(() => server.close());

    it('keeps a client that answers pings, and terminates one that does not', async () => {
      const { access_token: token } = await login(server, 'alice');
      const answering = await connectAs(server, 'alice', token);
      const silent = await connectAs(server, 'alice', token, { autoPong: false });
      const closed = await silent.waitForClose();
      // terminate(): no close frame, so the client sees an abnormal closure.
      expect(closed.code).to.equal(1006);
      await registrySize(server, 1);
      await pings(answering, 3);
      await answering.expectServed();
      await closeAll(server, [answering]);
    });
  });

  describe('server shutdown', () => {
    it('closes every socket with 1001 when the server closes', async () => {
      const server = await startServer();
      await signup(server, 'alice');
      await signup(server, 'bob');
      const sockets = [await connectAs(server, 'alice', (await login(server, 'alice')).access_token), await connectAs(server, 'bob', (await login(server, 'bob')).access_token)];
      const closing = server.close();
      const codes = (await Promise.all(sockets.map((socket) => socket.waitForClose()))).map((closed) => closed.code);
      await closing;
      expect(codes).to.deep.equal([1001, 1001]);
    });
  });

  describe('with WS_SEND_BUFFER_LIMIT=65536', () => {
    // Far more than the loopback kernel buffers of a paused reader hold (a few MB) plus the limit.
    const PUSHES = 400;
    const PUSH_BYTES = 60_000;
    const BATCH = 8;
    let server: TestServer;
    let service: Auth;
    before(async () => {
      server = await startServer({ WS_SEND_BUFFER_LIMIT: '65536', RATE_LIMITS: 'off' });
      await signup(server, 'alice');
      service = (await clientAuth(server, 'push')).auth;
    });
    after(() => server.close());

    it('closes a socket that does not read with 1013 and drops it, while a reading socket of the user stays', async () => {
      const { access_token: token } = await login(server, 'alice');
      const [slow, reading] = [await connectAs(server, 'alice', token), await connectAs(server, 'alice', token)];
      tcpOf(slow).pause();
      const data = 'x'.repeat(PUSH_BYTES);
      for (let sent = 0; sent < PUSHES; sent += BATCH) {
        const responses = await Promise.all(Array.from({ length: BATCH }, () => server.request.post('/push/alice').set(service).send({ type: 'bulk', data })));
        expect(responses.map((res) => res.status)).to.deep.equal(Array(BATCH).fill(202));
      }
      await reading.waitForCount((frame) => frame.type === 'push', PUSHES, { timeoutMs: 5_000 });
      tcpOf(slow).resume();
      const closed = await slow.waitForClose(5_000);
      expect(closed.code).to.equal(1013);
      expect(slow.ofType('push').length).to.be.below(PUSHES);
      await registrySize(server, 1);
      await reading.expectServed();
      await closeAll(server, [reading]);
    });
  });
});

import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { login, signup } from '../support/users';
import { closeAll, connectAs, registrySize } from './support';

// A full collection on demand: the flag takes effect for contexts made after it is set.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

const SOCKETS = 3;
const COLLECTIONS = 5; // WeakRefs are cleared only between jobs: collect, yield, and again

describe('gateway: what an open socket keeps in memory', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('an open socket does not keep its upgrade request (headers, query, token) alive', async () => {
    const { access_token: token } = await login(server, 'alice');
    const requests: Array<WeakRef<IncomingMessage>> = [];
    const track = (req: IncomingMessage) => requests.push(new WeakRef(req));
    server.tessera.server.on('upgrade', track);
    try {
      const sockets = [];
      for (let i = 0; i < SOCKETS; i += 1) sockets.push(await connectAs(server, 'alice', token));
      for (let i = 0; i < COLLECTIONS; i += 1) {
        collectGarbage();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await registrySize(server, SOCKETS);
      expect(requests).to.have.length(SOCKETS);
      expect(requests.filter((request) => request.deref() !== undefined), 'upgrade requests still reachable').to.have.length(0);
      for (const socket of sockets) await socket.expectServed();
      await closeAll(server, sockets);
    } finally {
      server.tessera.server.off('upgrade', track);
    }
  });
});

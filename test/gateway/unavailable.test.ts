import { expect } from 'chai';
import { Cluster, requireOrSkip } from '../cluster/support';
import { TcpProxy } from '../cluster/tcp-proxy';
import { expectError } from '../support/expectations';
import { POSTGRES_URL, postgresReachable, startServer, type TestServer } from '../support/server';
import { bearer, newUser, type Tokens } from '../support/users';
import { connectAs, expectRefused, socketPath } from './support';

// A tenant that does not exist: finding that out takes the database, whatever is cached.
const UNKNOWN_TENANT = 'no-such-tenant';

describe('gateway refusals with 503', () => {
  describe('during shutdown (SPEC §7)', () => {
    let server: TestServer;
    let alice: Tokens;
    before(async () => {
      server = await startServer();
      alice = (await newUser(server, 'alice')).tokens;
    });
    after(() => server.close());

    it('closes open sockets with 1001 and refuses an upgrade that arrives once it is closing', async () => {
      const open = await connectAs(server, 'alice', alice.access_token);
      const closing = server.tessera.gateway.close();
      const late = expectRefused(server, socketPath('alice', alice.access_token), 503, 'unavailable');
      expect(await open.waitForClose()).to.deep.equal({ code: 1001, reason: 'server shutting down' });
      await late;
      await closing;
      expect(server.tessera.gateway.registry.size, 'sockets after shutdown').to.equal(0);
    });
  });

  describe('while PostgreSQL is unreachable (a tessera whose database is behind a TCP proxy)', () => {
    let proxy: TcpProxy;
    let schema: Cluster;
    let server: TestServer;
    let alice: Tokens;
    before(async function () {
      await requireOrSkip(this, async () => ((await postgresReachable()) ? undefined : `PostgreSQL is not reachable at ${POSTGRES_URL}`));
      const postgres = new URL(POSTGRES_URL);
      proxy = new TcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
      await proxy.start();
      // Only for its fresh schema, which close() drops; it starts no process here.
      schema = new Cluster();
      const databaseUrl = new URL(schema.databaseUrl);
      databaseUrl.host = `127.0.0.1:${proxy.port}`;
      server = await startServer({ DATABASE_URL: databaseUrl.toString() });
      alice = (await newUser(server, 'alice')).tokens;
    });
    after(async () => {
      proxy?.restore();
      await server?.close();
      await proxy?.close();
      await schema?.close();
    });

    it('refuses an upgrade that needs the database, as REST answers 503 unavailable, and answers 404 again once it is back', async () => {
      const path = `/t/${UNKNOWN_TENANT}${socketPath('alice', alice.access_token)}`;
      proxy.cut();
      try {
        expectError(await server.request.get(`/t/${UNKNOWN_TENANT}/me`).set(bearer(alice.access_token)), 503, 'unavailable');
        await expectRefused(server, path, 503, 'unavailable');
      } finally {
        proxy.restore();
      }
      await expectRefused(server, path, 404, 'not_found');
    });
  });
});

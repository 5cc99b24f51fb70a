import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { bearer, newUser } from '../support/users';

describe('a SQLite database another process keeps locked', () => {
  let server: TestServer;
  let lock: BetterSqlite3.Database | undefined;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    lock?.close();
    await server.close();
  });

  it('answers a write 503 unavailable once busy_timeout has passed, and serves it again when the lock is gone', async function () {
    this.timeout(20_000);
    const { tokens } = await newUser(server, 'alice');
    lock = new BetterSqlite3(server.databaseUrl.slice('sqlite:'.length));
    lock.exec('BEGIN EXCLUSIVE');

    expectError(await server.request.post('/tasks').set(bearer(tokens.access_token)).send({ title: 'blocked' }), 503, 'unavailable');

    lock.exec('COMMIT');
    const created = await server.request.post('/tasks').set(bearer(tokens.access_token)).send({ title: 'after' });
    expect(created.status).to.equal(201);
  });
});

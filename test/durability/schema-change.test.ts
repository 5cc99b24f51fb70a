import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, newUser } from '../support/users';

// What `tessera migrate` run by another process can do to a table on SQLite: knex rebuilds
// it (new table, copy, drop, rename), and the columns may come back in another order.
function rebuildUsersWithColumnsReversed(file: string): void {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('foreign_keys = OFF');
    const columns = (db.prepare('PRAGMA table_info(users)').all() as Array<{ name: string; type: string; pk: number }>).reverse();
    db.transaction(() => {
      // Sessions refer to users.id, which must stay their primary key.
      db.exec(`CREATE TABLE users_rebuilt (${columns.map((c) => `"${c.name}" ${c.type}${c.pk ? ' PRIMARY KEY' : ''}`).join(', ')})`);
      db.exec(`INSERT INTO users_rebuilt SELECT ${columns.map((c) => `"${c.name}"`).join(', ')} FROM users`);
      db.exec('DROP TABLE users');
      db.exec('ALTER TABLE users_rebuilt RENAME TO users');
    })();
  } finally {
    db.close();
  }
}

describe('a schema change made by another process while tessera runs (SQLite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  it('keeps reading users by their column names: /me and the password grant stay right', async () => {
    const { id, tokens } = await newUser(server, 'alice');
    await newUser(server, 'bob');
    // The hot reads prepare their statements now, before the change.
    expect((await server.request.get('/me').set(bearer(tokens.access_token))).body).to.include({ id, username: 'alice' });

    rebuildUsersWithColumnsReversed(server.databaseUrl.slice('sqlite:'.length));

    const me = await server.request.get('/me').set(bearer(tokens.access_token));
    expect(me.status).to.equal(200);
    expect(me.body).to.include({ id, username: 'alice' });
    expect(me.body.roles).to.be.an('array');
    const again = await login(server, 'alice');
    expect(again.access_token).to.be.a('string');
    const bobMe = await server.request.get('/me').set(bearer((await login(server, 'bob')).access_token));
    expect(bobMe.body).to.include({ username: 'bob' });
  });
});

import { expect } from 'chai';
import type { Knex } from 'knex';
import { migrate } from '../../src/db/connection';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

const MIGRATION = '20261208_075_sign_in_methods';
const COLUMNS = [
  ['browser_sessions', 'amr'],
  ['authorization_codes', 'amr'],
  ['authorization_interactions', 'passkey_challenge_id'],
] as const;

onEachDatabase(`migration ${MIGRATION} (issue 21)`, (database) => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
  });
  after(() => server.close());

  it('goes down and up again: the amr and passkey challenge columns go and come back', async () => {
    const db = server.tessera.services.db;
    const present = () => Promise.all(COLUMNS.map(([table, column]) => db.schema.hasColumn(table, column)));
    const { migrations } = db.client.config as Knex.Config;
    await db.migrate.down({ ...migrations, name: MIGRATION });
    expect(await present()).to.deep.equal([false, false, false]);
    expect(await migrate(db)).to.deep.equal([MIGRATION]);
    expect(await present()).to.deep.equal([true, true, true]);
  });
});

import { expect } from 'chai';
import type { Knex } from 'knex';
import { migrate } from '../../src/db/connection';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

const MIGRATION = '20261208_070_passkeys';

onEachDatabase(`migration ${MIGRATION} (issue 21)`, (database) => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
  });
  after(() => server.close());

  it('goes down and up again: the passkeys and challenges tables go and come back', async () => {
    const db = server.tessera.services.db;
    const { migrations } = db.client.config as Knex.Config;
    await db.migrate.down({ ...migrations, name: MIGRATION });
    expect([await db.schema.hasTable('passkeys'), await db.schema.hasTable('webauthn_challenges')]).to.deep.equal([false, false]);
    expect(await migrate(db)).to.deep.equal([MIGRATION]);
    expect([await db.schema.hasTable('passkeys'), await db.schema.hasTable('webauthn_challenges')]).to.deep.equal([true, true]);
  });
});

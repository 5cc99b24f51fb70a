import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { loadConfig } from '../../src/config';
import { migrate, openDatabase, type Database } from '../../src/db/connection';
import { createClientQueries } from '../../src/db/queries/clients';
import { createLogger } from '../../src/logger';
import { createTessera } from '../../src/tessera';
import { onEachDatabase, POSTGRES_URL } from '../support/server';

const BEFORE_OIDC = '20261208_040_oidc_clients';
const ISSUER = 'https://id.example.test';

/** Runs the migrations one by one up to, not including, `name`. */
async function migrateUpTo(db: Database, name: string): Promise<void> {
  const config = (db.client.config as Knex.Config).migrations;
  if (config?.schemaName) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [config.schemaName]);
  for (let step = 0; step < 100; step += 1) {
    const [, pending] = (await db.migrate.list(config)) as [unknown, Array<{ file?: string } | [string]>];
    const next = pending[0];
    const nextName = Array.isArray(next) ? next[0] : next?.file;
    if (nextName === undefined || nextName === name) return;
    await db.migrate.up(config);
  }
  throw new Error(`never reached ${name}`);
}

onEachDatabase('the OpenID Connect client migration on a database with clients', (database) => {
  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    if (database === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-migration-'));
      databaseUrl = `sqlite:${join(dir, 't.db')}`;
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      databaseUrl = `${POSTGRES_URL}?schema=${schema}`;
      cleanup = async () => {
        const db = openDatabase(POSTGRES_URL);
        await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]).finally(() => db.destroy());
      };
    }
  });
  after(() => cleanup());

  it('keeps what existing clients did, and a server start brings the built-in client up to date', async () => {
    const db = openDatabase(databaseUrl);
    try {
      await migrateUpTo(db, BEFORE_OIDC);
      const old = { tenant_id: 'default', secret_hash: null, scope: 'push', created_at: 1, grant_types: 'client_credentials' };
      await db('clients').insert([
        { ...old, id: 'c_confidential', name: 'bot', confidential: true, secret_hash: 'ab'.repeat(32) },
        { ...old, id: 'c_public', name: 'spa', confidential: false, grant_types: 'password refresh_token' },
      ]);
      await migrate(db);
      const clients = createClientQueries(db);
      // null: the secret over Basic or in the body, as SPEC §3.1 always allowed.
      expect(await clients.find('default', 'c_confidential')).to.deep.include({
        token_endpoint_auth_method: null,
        redirect_uris: [],
        post_logout_redirect_uris: [],
        first_party: false,
        id_token_signed_response_alg: 'RS256',
        client_uri: null,
        logo_uri: null,
      });
      expect(await clients.find('default', 'c_public')).to.deep.include({ token_endpoint_auth_method: 'none', confidential: false, grant_types: ['password', 'refresh_token'] });
      expect((await clients.find('default', 'tessera'))?.grant_types).to.deep.equal(['password', 'refresh_token']);
    } finally {
      await db.destroy();
    }

    const config = loadConfig({ DATABASE_URL: databaseUrl, ISSUER, PASSWORD_HASH_COST: '10', LOG_LEVEL: 'silent', PORT: '0' });
    const tessera = await createTessera(config, { logger: createLogger(config.logLevel) });
    try {
      const builtIn = await tessera.services.clients.queries.find('default', 'tessera');
      expect(builtIn).to.deep.include({
        grant_types: ['password', 'refresh_token', 'authorization_code'],
        redirect_uris: [`${ISSUER}/`],
        post_logout_redirect_uris: [`${ISSUER}/`],
        token_endpoint_auth_method: 'none',
        first_party: true,
      });
      expect(builtIn?.scope.split(' ')).to.include.members(['openid', 'profile', 'email', 'offline_access', 'admin', 'tasks:read']);
    } finally {
      await tessera.close();
    }
  });
});

import { expect } from 'chai';
import type { Knex } from 'knex';
import { OIDC_SCOPES } from '../../src/auth/scopes';
import { migrate } from '../../src/db/connection';
import { basicAuth, sessionIdOf } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD } from '../support/users';

const OLD_DEFAULT = 'tasks:read tasks:write calendar:read calendar:write messages:read messages:write';
// The built-in client also offers the OpenID Connect scopes, which this migration leaves alone.
const SIGN_IN_SCOPES = OIDC_SCOPES.join(' ');

onEachDatabase('migration 20261208_010_account_scope (SPEC §9)', (database) => {
  let server: TestServer;
  let db: Knex;

  before(async () => {
    server = await startServer({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD, RATE_LIMITS: 'off' }, database);
    db = server.tessera.services.db;
  });
  after(() => server.close());

  const scopeOf = async (table: 'clients' | 'sessions', id: string) => ((await db(table).where({ id }).first()) as { scope: string }).scope;

  it('adds account to the built-in client and to its live sessions with the whole old default scope, and to no other', async () => {
    const { tokens: full } = await newUser(server, 'alice');
    const narrow = await login(server, 'alice', PASSWORD, { scope: 'tasks:read' });
    const ended = await login(server, 'alice');
    expect((await server.request.post('/logout').set(bearer(ended.access_token)).send({})).status).to.equal(204);
    const admin = await login(server, 'root', PASSWORD, { scope: 'admin' });
    const app = await server.request.post('/admin/clients').set(bearer(admin.access_token))
      .send({ name: 'an app', scope: `${OLD_DEFAULT} account`, grant_types: ['password'] });
    const viaApp = await server.request.post('/token').type('form').set(basicAuth(app.body.client_id as string, app.body.client_secret as string))
      .send({ grant_type: 'password', username: 'alice', password: PASSWORD, scope: OLD_DEFAULT });
    expect(viaApp.status, JSON.stringify(viaApp.body)).to.equal(200);
    const sessions = { full, narrow, ended, viaApp: viaApp.body as { access_token: string } };
    const sessionScopes = async () =>
      Object.fromEntries(await Promise.all(Object.entries(sessions).map(async ([name, tokens]) => [name, await scopeOf('sessions', sessionIdOf(tokens.access_token))])));

    // Back to the schema before the migration: the database as an older tessera left it. This migration
    // by name: later ones (other features') stay, as they do not touch scopes.
    const { migrations } = db.client.config as Knex.Config;
    await db.migrate.down({ ...migrations, name: '20261208_010_account_scope' });
    expect(await scopeOf('clients', 'tessera')).to.equal(`${OLD_DEFAULT} admin ${SIGN_IN_SCOPES}`);
    expect(await sessionScopes()).to.deep.equal({ full: OLD_DEFAULT, narrow: 'tasks:read', ended: OLD_DEFAULT, viaApp: OLD_DEFAULT });

    expect(await migrate(db)).to.deep.equal(['20261208_010_account_scope']);
    expect(await scopeOf('clients', 'tessera')).to.equal(`${OLD_DEFAULT} admin ${SIGN_IN_SCOPES} account`);
    expect(await sessionScopes()).to.deep.equal({ full: `${OLD_DEFAULT} account`, narrow: 'tasks:read', ended: OLD_DEFAULT, viaApp: OLD_DEFAULT });

    // The refreshed access token of the upgraded session manages the account; the narrow one still cannot.
    const refreshed = await server.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: full.refresh_token });
    expect(refreshed.body.scope).to.equal(`${OLD_DEFAULT} account`);
    expect((await server.request.get('/sessions').set(bearer(refreshed.body.access_token as string))).status).to.equal(200);
    const narrowRefreshed = await server.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: narrow.refresh_token });
    expect((await server.request.get('/sessions').set(bearer(narrowRefreshed.body.access_token as string))).status).to.equal(403);
  });
});

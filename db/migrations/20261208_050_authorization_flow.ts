import type { Knex } from 'knex';

// SPEC §10, the authorization endpoint's state. Secrets (browser-session cookies, codes, CSRF
// tokens) are stored only as SHA-256 hashes; times are epoch milliseconds.

export async function up(db: Knex): Promise<void> {
  // A browser session is a row of `sessions` (listed, revocable); this holds its cookie's hash and
  // when the person last proved who they are (OIDC Core §2 auth_time, for max_age and prompt=login).
  await db.schema.createTable('browser_sessions', (t) => {
    t.string('session_id', 36).primary().references('sessions.id').onDelete('CASCADE');
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('secret_hash', 64).notNullable().unique();
    t.bigInteger('auth_time').notNullable();
  });

  // The token sessions a browser session started through codes: logging out of it ends them too.
  await db.schema.alterTable('sessions', (t) => {
    t.string('browser_session_id', 36).nullable().index();
  });

  // One sign-in or consent in progress: the authorization request it serves, the CSRF token of its
  // forms, the browser it was started in, and the user once the password was right.
  await db.schema.createTable('authorization_interactions', (t) => {
    t.string('id', 64).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('request').notNullable();
    t.string('csrf_hash', 64).notNullable();
    t.string('browser_hash', 64).notNullable();
    t.string('user_id', 36).references('users.id').onDelete('CASCADE');
    t.bigInteger('expires_at').notNullable().index();
  });

  await db.schema.createTable('authorization_codes', (t) => {
    t.string('code_hash', 64).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('client_id', 64).notNullable();
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('redirect_uri', 2000).notNullable();
    t.string('code_challenge', 128).notNullable();
    t.string('nonce', 500);
    t.string('scope', 1000).notNullable();
    t.string('browser_session_id', 36).notNullable();
    t.bigInteger('auth_time').notNullable();
    t.bigInteger('expires_at').notNullable().index();
    t.bigInteger('used_at');
    // The token session its first use started: a second use revokes it (RFC 6749 §4.1.2).
    t.string('issued_session_id', 36);
    // When a second use came: the first use, if still starting its session, revokes it itself.
    t.bigInteger('replayed_at');
  });

  await db.schema.createTable('consents', (t) => {
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('client_id', 64).notNullable();
    t.string('scope', 1000).notNullable();
    t.bigInteger('consented_at').notNullable();
    t.primary(['tenant_id', 'user_id', 'client_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['consents', 'authorization_codes', 'authorization_interactions', 'browser_sessions']) {
    await db.schema.dropTableIfExists(table);
  }
  await db.schema.alterTable('sessions', (t) => {
    t.dropColumn('browser_session_id');
  });
}

import type { Knex } from 'knex';

// Times are epoch milliseconds (bigint) so SQLite and PostgreSQL compare them alike.
// Scopes, roles and grant types are space-separated strings, as in OAuth.

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('tenants', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await db.schema.createTable('users', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('username', 32).notNullable();
    t.string('username_key', 32).notNullable();
    t.string('email', 254);
    t.string('password_hash', 255).notNullable();
    t.string('roles', 255).notNullable().defaultTo('');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['tenant_id', 'username_key']);
  });

  await db.schema.createTable('clients', (t) => {
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('id', 64).notNullable();
    t.string('name', 200).notNullable();
    t.string('secret_hash', 128);
    t.boolean('confidential').notNullable();
    t.string('grant_types', 255).notNullable();
    t.string('scope', 1000).notNullable();
    t.bigInteger('created_at').notNullable();
    t.primary(['tenant_id', 'id']);
  });

  await db.schema.createTable('sessions', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).references('users.id').onDelete('CASCADE');
    t.string('client_id', 64).notNullable();
    t.string('scope', 1000).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('revoked_at');
    t.string('revoked_reason', 64);
    t.string('ip', 64);
    t.string('user_agent', 512);
    t.index(['user_id', 'created_at']);
    t.index(['tenant_id', 'client_id']);
    t.index(['revoked_at']);
    t.index(['expires_at']);
  });

  await db.schema.createTable('refresh_tokens', (t) => {
    t.string('id', 36).primary();
    t.string('session_id', 36).notNullable().references('sessions.id').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('rotated_at');
    t.string('successor_id', 36);
    // The successor token, sealed with a key derived from this token: only
    // a holder of this token can recover it during the reuse grace (SPEC §3.2).
    t.string('successor_sealed', 255);
    t.index(['session_id']);
  });

  await db.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('alg', 16).notNullable();
    t.text('public_jwk').notNullable();
    t.text('private_key').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('retired_at');
    t.index(['tenant_id', 'created_at']);
  });

  const now = Date.now();
  await db('tenants').insert({ id: 'default', name: 'Default', created_at: now });
  await db('clients').insert({
    tenant_id: 'default',
    id: 'tessera',
    name: 'tessera built-in public client',
    secret_hash: null,
    confidential: false,
    grant_types: 'password refresh_token',
    scope: 'tasks:read tasks:write calendar:read calendar:write messages:read messages:write admin',
    created_at: now,
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['signing_keys', 'refresh_tokens', 'sessions', 'clients', 'users', 'tenants']) {
    await db.schema.dropTableIfExists(table);
  }
}

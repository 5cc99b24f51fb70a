import type { Knex } from 'knex';

// SPEC §8: e-mailed codes, pending verifications, TOTP and the mfa grant's tokens.
// Codes and tokens are stored only as SHA-256 hashes; times are epoch milliseconds.

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('account_codes', (t) => {
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('purpose', 32).notNullable();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('code_hash', 64).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.primary(['user_id', 'purpose']);
    t.index(['expires_at']);
  });

  // An account signed up while REQUIRE_EMAIL_VERIFICATION was on, until its code is entered.
  await db.schema.createTable('pending_verifications', (t) => {
    t.string('user_id', 36).primary().references('users.id').onDelete('CASCADE');
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
  });

  await db.schema.createTable('two_factor', (t) => {
    t.string('user_id', 36).primary().references('users.id').onDelete('CASCADE');
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    // The TOTP secret, sealed with TWO_FACTOR_KEY when it is set.
    t.string('secret', 255).notNullable();
    t.bigInteger('confirmed_at');
    // The last time step a code was accepted for: that step and earlier ones are replays.
    t.bigInteger('last_step');
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('failures_since').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
  });

  await db.schema.createTable('recovery_codes', (t) => {
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('code_hash', 64).notNullable();
    t.bigInteger('used_at');
    t.primary(['user_id', 'code_hash']);
  });

  await db.schema.createTable('mfa_tokens', (t) => {
    t.string('token_hash', 64).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('client_id', 64).notNullable();
    // The scope asked for with the password; granted (or refused) when the grant completes.
    t.string('scope', 1000);
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at');
    t.index(['expires_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['mfa_tokens', 'recovery_codes', 'two_factor', 'pending_verifications', 'account_codes']) {
    await db.schema.dropTableIfExists(table);
  }
}

import type { Knex } from 'knex';

// E-mailed codes are stored under a keyed hash (HMAC-SHA-256): a six-digit code's plain hash is
// reversed from a leaked row in a million tries. The key is ACCOUNT_CODE_KEY, or else a random one
// kept in `server_secrets`. A code row now stays per account and purpose (a used or expired code is
// blanked), carrying the account's wrong tries across every code it is mailed.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('account_codes', (t) => {
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('failures_since').notNullable().defaultTo(0);
  });
  // Codes hashed the old way cannot be checked any more; they lived ten minutes at most.
  await db('account_codes').delete();

  await db.schema.createTable('server_secrets', (t) => {
    t.string('name', 64).primary();
    t.string('value', 255).notNullable();
    t.bigInteger('created_at').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('server_secrets');
  await db.schema.alterTable('account_codes', (t) => {
    t.dropColumn('failures_since');
    t.dropColumn('failures');
  });
}

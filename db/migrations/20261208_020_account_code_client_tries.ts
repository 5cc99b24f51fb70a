import type { Knex } from 'knex';

// Tries at e-mailed codes counted per account, purpose and client address (IPv4 address, IPv6 /56), so
// that wrong tries from one place cannot spend the account's daily budget and lock its owner out of a
// reset (SPEC §9). Not tied to users: a try for an unknown name is counted the same way.

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('account_code_tries', (t) => {
    t.string('tenant_id', 64).notNullable();
    t.string('user_id', 36).notNullable();
    t.string('purpose', 32).notNullable();
    t.string('client', 64).notNullable();
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('failures_since').notNullable().defaultTo(0);
    t.primary(['tenant_id', 'user_id', 'purpose', 'client']);
    t.index(['failures_since']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('account_code_tries');
}

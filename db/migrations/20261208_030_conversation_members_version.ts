import type { Knex } from 'knex';

// Each process caches a conversation's members. Every change of its members bumps this counter in the
// same transaction, and the seq allocation of every post returns it, so a post checked against a stale
// cache is caught before it commits, even when the bus's invalidation has not arrived yet.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('conversations', (t) => {
    t.bigInteger('members_version').notNullable().defaultTo(0);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('conversations', (t) => {
    t.dropColumn('members_version');
  });
}

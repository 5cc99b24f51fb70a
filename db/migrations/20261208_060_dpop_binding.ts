import type { Knex } from 'knex';

// RFC 9449: a client may be registered to need DPoP for every token (§5.2, `dpop_bound_access_tokens`),
// and a public client's session (its refresh-token family) is bound to the key that started it (§5.0):
// refreshing then needs a proof by that key, whose RFC 7638 thumbprint is kept here.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('clients', (t) => {
    t.boolean('dpop_bound_access_tokens').notNullable().defaultTo(false);
  });
  await db.schema.alterTable('sessions', (t) => {
    t.string('dpop_jkt', 64).nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('sessions', (t) => {
    t.dropColumn('dpop_jkt');
  });
  await db.schema.alterTable('clients', (t) => {
    t.dropColumn('dpop_bound_access_tokens');
  });
}

import type { Knex } from 'knex';

// A tenant's own settings. `signup` null: the tenant follows SIGNUP.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('tenants', (t) => {
    t.string('signup', 8);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('tenants', (t) => {
    t.dropColumn('signup');
  });
}

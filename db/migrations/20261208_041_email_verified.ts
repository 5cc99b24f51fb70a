import type { Knex } from 'knex';

// OIDC Core §5.1 `email_verified`: when the owner of the account last proved they read mail at its
// address (a verification or password-reset code mailed there came back). Null: never.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('users', (t) => {
    t.bigInteger('email_verified_at');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('users', (t) => {
    t.dropColumn('email_verified_at');
  });
}

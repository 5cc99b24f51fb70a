import type { Knex } from 'knex';

// How a person signed in at the authorization endpoint (RFC 8176 `amr` values, space-separated), kept
// on the browser session and copied to each code so the id token can say it (OIDC Core §2 `amr`);
// and the passkey challenge a login page asked for, so only its own interaction can answer it.

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('browser_sessions', (t) => {
    t.string('amr', 64).nullable();
  });
  await db.schema.alterTable('authorization_codes', (t) => {
    t.string('amr', 64).nullable();
  });
  await db.schema.alterTable('authorization_interactions', (t) => {
    t.string('passkey_challenge_id', 64).nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('authorization_interactions', (t) => {
    t.dropColumn('passkey_challenge_id');
  });
  await db.schema.alterTable('authorization_codes', (t) => {
    t.dropColumn('amr');
  });
  await db.schema.alterTable('browser_sessions', (t) => {
    t.dropColumn('amr');
  });
}

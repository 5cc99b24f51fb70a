import type { Knex } from 'knex';

// Issue 21: WebAuthn credentials (passkeys) and the challenges of their ceremonies. Times are epoch
// milliseconds. A credential id is unique per tenant only: one authenticator may hold a passkey for
// several tenants of the same host (same RP ID), and each is looked up in its own tenant.

// WebAuthn §5.1: a credential id is at most 1023 bytes, 1364 characters in base64url.
const CREDENTIAL_ID_CHARS = 1364;

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('passkeys', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('credential_id', CREDENTIAL_ID_CHARS).notNullable();
    // The COSE public key, base64url.
    t.text('public_key').notNullable();
    // WebAuthn §6.1.1 signature counter: 0 for authenticators that keep none.
    t.bigInteger('counter').notNullable().defaultTo(0);
    // Comma-separated AuthenticatorTransport values, for excludeCredentials.
    t.string('transports', 255).notNullable().defaultTo('');
    t.string('device_type', 32).notNullable();
    t.boolean('backed_up').notNullable();
    t.string('name', 100).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at');
    t.unique(['tenant_id', 'credential_id']);
    t.index(['tenant_id', 'user_id']);
  });

  // Single-use, short-lived: removed when used; user_id is null for discoverable sign-in.
  await db.schema.createTable('webauthn_challenges', (t) => {
    t.string('id', 43).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).references('users.id').onDelete('CASCADE');
    t.string('purpose', 16).notNullable();
    t.string('challenge', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
    t.index(['tenant_id', 'challenge']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('webauthn_challenges');
  await db.schema.dropTableIfExists('passkeys');
}

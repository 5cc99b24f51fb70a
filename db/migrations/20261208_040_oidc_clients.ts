import type { Knex } from 'knex';

// SPEC §10: the client metadata of OpenID Connect and RFC 7591. Redirect URIs are JSON arrays of
// strings. Existing clients keep what they did: confidential ones get no token_endpoint_auth_method
// (NULL: HTTP Basic or the body, either, as SPEC §3.1 lets them), public ones none; none is first-party until an
// admin says so, except the built-in client `tessera`, whose redirect URIs depend on ISSUER and are
// set whenever a process starts serving its tenant (see Clients.syncBuiltIn).

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('clients', (t) => {
    t.text('redirect_uris').notNullable().defaultTo('[]');
    t.text('post_logout_redirect_uris').notNullable().defaultTo('[]');
    t.string('token_endpoint_auth_method', 32).nullable();
    t.boolean('first_party').notNullable().defaultTo(false);
    t.string('id_token_signed_response_alg', 16).notNullable().defaultTo('RS256');
    t.string('client_uri', 2000);
    t.string('logo_uri', 2000);
  });
  await db('clients').where({ confidential: false }).update({ token_endpoint_auth_method: 'none' });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('clients', (t) => {
    for (const column of [
      'redirect_uris',
      'post_logout_redirect_uris',
      'token_endpoint_auth_method',
      'first_party',
      'id_token_signed_response_alg',
      'client_uri',
      'logo_uri',
    ]) {
      t.dropColumn(column);
    }
  });
}

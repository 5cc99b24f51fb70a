import type { Knex } from 'knex';
import * as initial from '../../db/migrations/20261123_001_initial';
import * as resources from '../../db/migrations/20261123_002_resources';
import * as tenants from '../../db/migrations/20261123_003_tenants';
import * as accountSecurity from '../../db/migrations/20261123_004_account_security';
import * as accountCodeLimits from '../../db/migrations/20261123_005_account_code_limits';
import * as conversationMemberLookup from '../../db/migrations/20261201_006_conversation_member_lookup';
import * as accountScope from '../../db/migrations/20261208_010_account_scope';
import * as accountCodeClientTries from '../../db/migrations/20261208_020_account_code_client_tries';
import * as conversationMembersVersion from '../../db/migrations/20261208_030_conversation_members_version';
import * as oidcClients from '../../db/migrations/20261208_040_oidc_clients';
import * as emailVerified from '../../db/migrations/20261208_041_email_verified';
import * as authorizationFlow from '../../db/migrations/20261208_050_authorization_flow';
import * as dpopBinding from '../../db/migrations/20261208_060_dpop_binding';
import * as passkeys from '../../db/migrations/20261208_070_passkeys';
import * as signInMethods from '../../db/migrations/20261208_075_sign_in_methods';

interface Migration {
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

// Listed in code, not read from disk, so the single executable carries them.
const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['20261123_001_initial', initial],
  ['20261123_002_resources', resources],
  ['20261123_003_tenants', tenants],
  ['20261123_004_account_security', accountSecurity],
  ['20261123_005_account_code_limits', accountCodeLimits],
  ['20261201_006_conversation_member_lookup', conversationMemberLookup],
  ['20261208_010_account_scope', accountScope],
  ['20261208_020_account_code_client_tries', accountCodeClientTries],
  ['20261208_030_conversation_members_version', conversationMembersVersion],
  ['20261208_040_oidc_clients', oidcClients],
  ['20261208_041_email_verified', emailVerified],
  ['20261208_050_authorization_flow', authorizationFlow],
  ['20261208_060_dpop_binding', dpopBinding],
  ['20261208_070_passkeys', passkeys],
  ['20261208_075_sign_in_methods', signInMethods],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

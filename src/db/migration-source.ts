import type { Knex } from 'knex';
import * as initial from '../../db/migrations/20261123_001_initial';
import * as resources from '../../db/migrations/20261123_002_resources';
import * as tenants from '../../db/migrations/20261123_003_tenants';
import * as accountSecurity from '../../db/migrations/20261123_004_account_security';
import * as accountCodeLimits from '../../db/migrations/20261123_005_account_code_limits';
import * as conversationMemberLookup from '../../db/migrations/20261201_006_conversation_member_lookup';
import * as accountCodeClientTries from '../../db/migrations/20261208_020_account_code_client_tries';

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
  ['20261208_020_account_code_client_tries', accountCodeClientTries],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

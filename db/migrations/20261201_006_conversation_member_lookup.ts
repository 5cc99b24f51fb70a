import type { Knex } from 'knex';

// GET /conversations and presence look a user's memberships up by tenant and user. The primary key
// (tenant, conversation, user) cannot serve that: SQLite read every membership of the tenant and
// PostgreSQL every conversation of it. With this index the list reads the user's own memberships only.

const COLUMNS = ['tenant_id', 'user_id', 'conversation_id'];
const NAME = 'conversation_members_tenant_user_conversation_index';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('conversation_members', (t) => {
    t.index(COLUMNS, NAME);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('conversation_members', (t) => {
    t.dropIndex(COLUMNS, NAME);
  });
}

import type { Knex } from 'knex';

// Every list query has its index: user + created order (tasks, conversations),
// user + time window (events), conversation + seq (messages).

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('tasks', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('title', 200).notNullable();
    t.text('description');
    t.boolean('completed').notNullable().defaultTo(false);
    t.bigInteger('due_date');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['user_id', 'created_at', 'id']);
  });

  await db.schema.createTable('calendar_events', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('title', 200).notNullable();
    t.text('description');
    t.string('location', 500);
    t.string('status', 16).notNullable();
    t.bigInteger('start_time').notNullable();
    t.bigInteger('end_time').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['user_id', 'start_time', 'id']);
  });

  await db.schema.createTable('conversations', (t) => {
    t.string('tenant_id', 64).notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('id', 64).notNullable();
    t.string('title', 200);
    t.string('created_by', 36).notNullable();
    t.bigInteger('last_seq').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.primary(['tenant_id', 'id']);
  });

  await db.schema.createTable('conversation_members', (t) => {
    t.string('tenant_id', 64).notNullable();
    t.string('conversation_id', 64).notNullable();
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('joined_at').notNullable();
    t.primary(['tenant_id', 'conversation_id', 'user_id']);
    t.foreign(['tenant_id', 'conversation_id']).references(['tenant_id', 'id']).inTable('conversations').onDelete('CASCADE');
    t.index(['user_id', 'joined_at']);
  });

  await db.schema.createTable('messages', (t) => {
    t.string('id', 36).primary();
    t.string('tenant_id', 64).notNullable();
    t.string('conversation_id', 64).notNullable();
    t.bigInteger('seq').notNullable();
    t.string('sender_id', 64).notNullable();
    t.string('sender', 64).notNullable();
    t.string('role', 16).notNullable();
    t.string('type', 32).notNullable();
    t.text('content').notNullable();
    t.string('nonce', 128);
    t.bigInteger('created_at').notNullable();
    t.foreign(['tenant_id', 'conversation_id']).references(['tenant_id', 'id']).inTable('conversations').onDelete('CASCADE');
    t.unique(['tenant_id', 'conversation_id', 'seq']);
    t.unique(['tenant_id', 'sender_id', 'nonce']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['messages', 'conversation_members', 'conversations', 'calendar_events', 'tasks']) {
    await db.schema.dropTableIfExists(table);
  }
}

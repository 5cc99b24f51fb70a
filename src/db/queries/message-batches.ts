import type { Knex } from 'knex';
import { onSqliteConnection, sqliteTransaction, type SqliteStatements } from '../sqlite-statements';
import { createConversationQueries, type ConversationRow } from './conversations';
import type { MessageRow } from './messages';

/** A conversation's key in maps: tenant and id. */
export const conversationKey = (tenantId: string, id: string): string => `${tenantId}\0${id}`;

export interface SeqCount {
  readonly tenantId: string;
  readonly id: string;
  readonly count: number;
}

/** What a conversation's seq allocation returned: its new last_seq and the version of its members. */
export interface Allocated {
  readonly lastSeq: number;
  readonly membersVersion: number;
}

export interface NewConversation {
  readonly row: ConversationRow;
  readonly memberIds: readonly string[];
}

/** One group commit of messages. */
export interface BatchWrite {
  /** Conversations the batch starts, with their members. */
  readonly created: readonly NewConversation[];
  /** How many seqs each conversation takes. */
  readonly counts: readonly SeqCount[];
  /**
   * The rows to insert, given each conversation's allocation (keyed by `conversationKey`). Runs
   * inside the transaction, after the allocation: throwing undoes the whole batch.
   */
  readonly rows: (allocated: ReadonlyMap<string, Allocated>) => readonly MessageRow[];
}

const COLUMNS = ['id', 'tenant_id', 'conversation_id', 'seq', 'sender_id', 'sender', 'role', 'type', 'content', 'nonce', 'created_at'] as const;
// Multi-row inserts of these sizes only, so SQLite prepares at most three statements once.
const CHUNKS = [64, 8, 1];
const insertSql = new Map(CHUNKS.map((size) => [size, `INSERT INTO messages (${COLUMNS.join(', ')}) VALUES ${Array(size).fill(`(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`]));
const byKey = (a: SeqCount, b: SeqCount) => (a.tenantId === b.tenantId ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.tenantId < b.tenantId ? -1 : 1);

interface AllocatedRow {
  tenant_id: string;
  id: string;
  last_seq: number | string;
  members_version: number | string;
}

const allocation = (row: AllocatedRow): Allocated => ({ lastSeq: Number(row.last_seq), membersVersion: Number(row.members_version) });

function writeSqlite(sql: SqliteStatements, write: BatchWrite): void {
  for (const { row, memberIds } of write.created) {
    sql.run('INSERT INTO conversations (tenant_id, id, title, created_by, last_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)', row.tenant_id, row.id, row.title, row.created_by, row.last_seq, row.created_at);
    for (const userId of memberIds) {
      sql.run('INSERT INTO conversation_members (tenant_id, conversation_id, user_id, joined_at) VALUES (?, ?, ?, ?)', row.tenant_id, row.id, userId, row.created_at);
    }
  }
  const allocated = new Map<string, Allocated>();
  for (const { tenantId, id, count } of write.counts) {
    const row = sql.get<AllocatedRow>('UPDATE conversations SET last_seq = last_seq + ? WHERE tenant_id = ? AND id = ? RETURNING tenant_id, id, last_seq, members_version', count, tenantId, id);
    if (row) allocated.set(conversationKey(tenantId, id), allocation(row));
  }
  const rows = write.rows(allocated);
  for (let start = 0; start < rows.length; ) {
    const size = CHUNKS.find((chunk) => chunk <= rows.length - start)!;
    sql.run(insertSql.get(size)!, ...rows.slice(start, start + size).flatMap((row) => COLUMNS.map((column) => row[column])));
    start += size;
  }
}

/**
 * PostgreSQL: the conversations' rows are locked in key order first, so two processes' batches over
 * the same conversations queue behind each other instead of deadlocking; then one UPDATE … RETURNING
 * allocates every conversation's seqs and one multi-row INSERT writes the messages.
 */
async function writeKnex(db: Knex, write: BatchWrite): Promise<void> {
  await db.transaction(async (trx) => {
    const counts = [...write.counts].sort(byKey);
    const keys = counts.flatMap(({ tenantId, id }) => [tenantId, id]);
    const pairs = counts.map(() => '(?, ?)').join(', ');
    await trx.raw(`SELECT 1 FROM conversations WHERE (tenant_id, id) IN (${pairs}) ORDER BY tenant_id, id FOR UPDATE`, keys);
    const conversations = createConversationQueries(trx);
    for (const { row, memberIds } of write.created) await conversations.insert(row, memberIds);
    const updated = await trx.raw<{ rows: AllocatedRow[] }>(
      `UPDATE conversations AS c SET last_seq = c.last_seq + v.n
       FROM (VALUES ${counts.map(() => '(?, ?, CAST(? AS bigint))').join(', ')}) AS v(tenant_id, id, n)
       WHERE c.tenant_id = v.tenant_id AND c.id = v.id
       RETURNING c.tenant_id, c.id, c.last_seq, c.members_version`,
      counts.flatMap(({ tenantId, id, count }) => [tenantId, id, count]),
    );
    const rows = write.rows(new Map(updated.rows.map((row) => [conversationKey(row.tenant_id, row.id), allocation(row)])));
    if (rows.length > 0) await trx('messages').insert(rows);
  });
}

/**
 * Writes one batch of messages in one transaction: starts the new conversations, takes each
 * conversation's seqs with one UPDATE … RETURNING (its row stays locked to the commit, so seqs
 * never repeat or skip, across processes too), and inserts every message with multi-row INSERTs.
 * On SQLite it runs synchronously on knex's own connection with statements prepared once, in a
 * savepoint of its own: a failure undoes this batch and nothing else.
 */
export function writeMessageBatch(db: Knex, write: BatchWrite): Promise<void> {
  if (write.counts.length === 0) return Promise.resolve();
  // Created conversations in key order too: two batches starting the same two wait, never deadlock.
  const sorted = { ...write, created: [...write.created].sort((a, b) => byKey({ tenantId: a.row.tenant_id, id: a.row.id, count: 0 }, { tenantId: b.row.tenant_id, id: b.row.id, count: 0 })) };
  return onSqliteConnection(db) ? sqliteTransaction(db, (sql) => writeSqlite(sql, sorted)) : writeKnex(db, sorted);
}

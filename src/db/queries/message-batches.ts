import type { Knex } from 'knex';
import { onSqliteConnection, sqliteTransaction, type SqliteStatements } from '../sqlite-statements';
import { createConversationQueries, type ConversationRow } from './conversations';
import type { MessageRow } from './messages';

/** A conversation's key in maps: tenant and id. */
export const conversationKey = (tenantId: string, id: string): string => `${tenantId}\0${id}`;

/** One conversation's share of a batch. */
export interface Lane {
  readonly tenantId: string;
  readonly id: string;
  /** The `members_version` its posts were checked against. */
  readonly membersVersion: number;
  /** Its new messages in order; their `seq` is set when they are written. */
  readonly rows: MessageRow[];
}

export interface NewConversation {
  readonly row: ConversationRow;
  readonly memberIds: readonly string[];
}

/** One group commit of messages. */
export interface BatchWrite {
  /** Conversations the batch starts, with their members (`members_version` 0). */
  readonly created: readonly NewConversation[];
  readonly lanes: readonly Lane[];
}

const COLUMNS = ['id', 'tenant_id', 'conversation_id', 'seq', 'sender_id', 'sender', 'role', 'type', 'content', 'nonce', 'created_at'] as const;
// Multi-row inserts of these sizes only, so SQLite prepares at most three statements once.
const CHUNKS = [64, 8, 1];
const insertSql = new Map(CHUNKS.map((size) => [size, `INSERT INTO messages (${COLUMNS.join(', ')}) VALUES ${Array(size).fill(`(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`]));
const compareKeys = (a: { tenantId: string; id: string }, b: { tenantId: string; id: string }) =>
  a.tenantId === b.tenantId ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.tenantId < b.tenantId ? -1 : 1;

/** Numbers the lane's rows from `lastSeq` on, given the last_seq its allocation returned. */
function number(lane: Lane, lastSeq: number): void {
  let seq = lastSeq - lane.rows.length;
  for (const row of lane.rows) row.seq = ++seq;
}

function writeSqlite(sql: SqliteStatements, write: BatchWrite): string[] {
  for (const { row, memberIds } of write.created) {
    sql.run('INSERT INTO conversations (tenant_id, id, title, created_by, last_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)', row.tenant_id, row.id, row.title, row.created_by, row.last_seq, row.created_at);
    for (const userId of memberIds) {
      sql.run('INSERT INTO conversation_members (tenant_id, conversation_id, user_id, joined_at) VALUES (?, ?, ?, ?)', row.tenant_id, row.id, userId, row.created_at);
    }
  }
  const changed: string[] = [];
  const rows: MessageRow[] = [];
  for (const lane of write.lanes) {
    const allocated = sql.get<{ last_seq: number }>(
      'UPDATE conversations SET last_seq = last_seq + ? WHERE tenant_id = ? AND id = ? AND members_version = ? RETURNING last_seq',
      lane.rows.length,
      lane.tenantId,
      lane.id,
      lane.membersVersion,
    );
    if (!allocated) changed.push(conversationKey(lane.tenantId, lane.id));
    else {
      number(lane, allocated.last_seq);
      rows.push(...lane.rows);
    }
  }
  for (let start = 0; start < rows.length; ) {
    const size = CHUNKS.find((chunk) => chunk <= rows.length - start)!;
    sql.run(insertSql.get(size)!, ...rows.slice(start, start + size).flatMap((row) => COLUMNS.map((column) => row[column])));
    start += size;
  }
  return changed;
}

// Without rows (every post of the batch refused) the statement only checks the members' versions.
const insertCtes = (rows: number) => `,
  m(id, tenant_id, conversation_id, k, sender_id, sender, role, type, content, nonce, created_at) AS (
    VALUES ${Array(rows).fill('(?, ?, ?, CAST(? AS bigint), ?, ?, ?, ?, ?, ?, CAST(? AS bigint))').join(', ')}
  ),
  inserted AS (
    INSERT INTO messages (${COLUMNS.join(', ')})
    SELECT m.id, m.tenant_id, m.conversation_id, a.base + m.k, m.sender_id, m.sender, m.role, m.type, m.content, m.nonce, m.created_at
    FROM m JOIN allocated a ON a.tenant_id = m.tenant_id AND a.id = m.conversation_id
    ORDER BY m.tenant_id, m.sender_id, m.nonce
  )`;

/**
 * PostgreSQL, one statement: lock the conversations in key order (two processes' batches over the
 * same conversations queue, never deadlock), take each one's seqs where its members are still of the
 * version checked, and insert the messages numbered from there, in the order of the nonce index: two
 * batches holding the same nonces wait on the first of them, never each on the other's. A conversation missing from what it
 * returns changed its members, and none of its messages were inserted.
 */
const postgresBatchSql = (lanes: number, rows: number) => `
  WITH v(tenant_id, id, n, version) AS (VALUES ${Array(lanes).fill('(?, ?, CAST(? AS bigint), CAST(? AS bigint))').join(', ')}),
  locked AS MATERIALIZED (
    SELECT c.tenant_id, c.id FROM conversations c JOIN v ON c.tenant_id = v.tenant_id AND c.id = v.id
    ORDER BY c.tenant_id, c.id FOR UPDATE OF c
  ),
  allocated AS (
    UPDATE conversations c SET last_seq = c.last_seq + v.n FROM v, locked l
    WHERE c.tenant_id = v.tenant_id AND c.id = v.id AND l.tenant_id = c.tenant_id AND l.id = c.id AND c.members_version = v.version
    RETURNING c.tenant_id, c.id, c.last_seq - v.n AS base
  )${rows === 0 ? '' : insertCtes(rows)}
  SELECT tenant_id, id, base FROM allocated`;


type Allocated = Array<{ tenant_id: string; id: string; base: number | string }>;

async function writePostgres(db: Knex, write: BatchWrite): Promise<string[]> {
  const lanes = [...write.lanes].sort(compareKeys);
  const rows = lanes.flatMap((lane) => lane.rows.map((row, k) => [row.id, row.tenant_id, row.conversation_id, k + 1, row.sender_id, row.sender, row.role, row.type, row.content, row.nonce, row.created_at]));
  const bindings = [...lanes.flatMap((lane) => [lane.tenantId, lane.id, lane.rows.length, lane.membersVersion]), ...rows.flat()];
  const allocate = async (connection: Knex) => (await connection.raw<{ rows: Allocated }>(postgresBatchSql(lanes.length, rows.length), bindings)).rows;
  // One statement commits on its own, atomically: the conversations stay locked only while it runs.
  const allocated =
    write.created.length === 0
      ? await allocate(db)
      : await db.transaction(async (trx) => {
          const conversations = createConversationQueries(trx);
          for (const { row, memberIds } of write.created) await conversations.insert(row, memberIds);
          return allocate(trx);
        });
  const bases = new Map(allocated.map((row) => [conversationKey(row.tenant_id, row.id), Number(row.base)]));
  const changed: string[] = [];
  for (const lane of lanes) {
    const base = bases.get(conversationKey(lane.tenantId, lane.id));
    if (base === undefined) changed.push(conversationKey(lane.tenantId, lane.id));
    else number(lane, base + lane.rows.length);
  }
  return changed;
}

/**
 * Writes one batch of messages atomically: starts the new conversations, takes each conversation's
 * seqs where its members are still those the posts were checked against (its row stays locked to
 * the commit, so seqs never repeat or skip, across processes too), and inserts those messages with
 * multi-row INSERTs, setting each row's `seq`. Resolves with the conversations whose members
 * changed meanwhile: their messages were not written. A failure writes nothing. On SQLite it runs
 * synchronously on knex's own connection with statements prepared once, in a savepoint of its own:
 * a failure undoes this batch and nothing else.
 */
export function writeMessageBatch(db: Knex, write: BatchWrite): Promise<readonly string[]> {
  if (write.lanes.length === 0) return Promise.resolve([]);
  // Created conversations in key order: two batches starting the same two wait, never deadlock.
  const created = [...write.created].sort((a, b) => compareKeys({ tenantId: a.row.tenant_id, id: a.row.id }, { tenantId: b.row.tenant_id, id: b.row.id }));
  const sorted = { ...write, created };
  return onSqliteConnection(db) ? sqliteTransaction(db, (sql) => writeSqlite(sql, sorted)) : writePostgres(db, sorted);
}

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

/** The members of these conversations changed since they were read: the batch was undone. */
export class MembersChanged extends Error {
  constructor(readonly keys: readonly string[]) {
    super('conversation members changed');
  }
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

function writeSqlite(sql: SqliteStatements, write: BatchWrite): void {
  for (const { row, memberIds } of write.created) {
    sql.run('INSERT INTO conversations (tenant_id, id, title, created_by, last_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)', row.tenant_id, row.id, row.title, row.created_by, row.last_seq, row.created_at);
    for (const userId of memberIds) {
      sql.run('INSERT INTO conversation_members (tenant_id, conversation_id, user_id, joined_at) VALUES (?, ?, ?, ?)', row.tenant_id, row.id, userId, row.created_at);
    }
  }
  const changed: string[] = [];
  for (const lane of write.lanes) {
    const allocated = sql.get<{ last_seq: number; members_version: number }>(
      'UPDATE conversations SET last_seq = last_seq + ? WHERE tenant_id = ? AND id = ? RETURNING last_seq, members_version',
      lane.rows.length,
      lane.tenantId,
      lane.id,
    );
    if (allocated?.members_version !== lane.membersVersion) changed.push(conversationKey(lane.tenantId, lane.id));
    else number(lane, allocated.last_seq);
  }
  if (changed.length > 0) throw new MembersChanged(changed);
  const rows = write.lanes.flatMap((lane) => lane.rows);
  for (let start = 0; start < rows.length; ) {
    const size = CHUNKS.find((chunk) => chunk <= rows.length - start)!;
    sql.run(insertSql.get(size)!, ...rows.slice(start, start + size).flatMap((row) => COLUMNS.map((column) => row[column])));
    start += size;
  }
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
  )`;

/**
 * PostgreSQL, one statement (one round trip while the rows are locked): lock the conversations in
 * key order (two processes' batches over the same conversations queue, never deadlock), take each
 * one's seqs where its members are still of the version checked, and insert the messages numbered
 * from there. A conversation missing from what it returns changed its members.
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


async function writePostgres(db: Knex, write: BatchWrite): Promise<void> {
  await db.transaction(async (trx) => {
    const conversations = createConversationQueries(trx);
    for (const { row, memberIds } of write.created) await conversations.insert(row, memberIds);
    const lanes = [...write.lanes].sort(compareKeys);
    const rows = lanes.flatMap((lane) => lane.rows.map((row, k) => [row.id, row.tenant_id, row.conversation_id, k + 1, row.sender_id, row.sender, row.role, row.type, row.content, row.nonce, row.created_at]));
    const result = await trx.raw<{ rows: Array<{ tenant_id: string; id: string; base: number | string }> }>(postgresBatchSql(lanes.length, rows.length), [
      ...lanes.flatMap((lane) => [lane.tenantId, lane.id, lane.rows.length, lane.membersVersion]),
      ...rows.flat(),
    ]);
    const bases = new Map(result.rows.map((row) => [conversationKey(row.tenant_id, row.id), Number(row.base)]));
    const changed = lanes.map((lane) => conversationKey(lane.tenantId, lane.id)).filter((key) => !bases.has(key));
    if (changed.length > 0) throw new MembersChanged(changed);
    for (const lane of lanes) number(lane, bases.get(conversationKey(lane.tenantId, lane.id))! + lane.rows.length);
  });
}

/**
 * Writes one batch of messages in one transaction: starts the new conversations, takes each
 * conversation's seqs where its members are still those the posts were checked against (its row
 * stays locked to the commit, so seqs never repeat or skip, across processes too), and inserts every
 * message with multi-row INSERTs, setting each row's `seq`. Throws `MembersChanged`, having written
 * nothing, when a conversation's members changed meanwhile. On SQLite it runs synchronously on
 * knex's own connection with statements prepared once, in a savepoint of its own: a failure undoes
 * this batch and nothing else.
 */
export function writeMessageBatch(db: Knex, write: BatchWrite): Promise<void> {
  if (write.lanes.length === 0) return Promise.resolve();
  // Created conversations in key order: two batches starting the same two wait, never deadlock.
  const created = [...write.created].sort((a, b) => compareKeys({ tenantId: a.row.tenant_id, id: a.row.id }, { tenantId: b.row.tenant_id, id: b.row.id }));
  const sorted = { ...write, created };
  return onSqliteConnection(db) ? sqliteTransaction(db, (sql) => writeSqlite(sql, sorted)) : writePostgres(db, sorted);
}

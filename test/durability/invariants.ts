import type { Knex } from 'knex';

/** A stored message as the invariants read it. */
export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender: string;
  nonce: string | null;
}

export const allMessages = (db: Knex): Promise<MessageRow[]> =>
  db('messages').select('id', 'conversation_id', 'seq', 'sender', 'nonce').orderBy(['conversation_id', 'seq']);

/** Sessions with more than one live (never rotated) refresh token: a forked family. */
export const forkedSessions = (db: Knex): Promise<Array<{ session_id: string; live: number }>> =>
  db('refresh_tokens').whereNull('rotated_at').groupBy('session_id').havingRaw('count(*) > 1').select('session_id').count({ live: '*' });

/** Messages and memberships whose conversation row is missing. */
export async function orphans(db: Knex): Promise<string[]> {
  const missingConversation = (table: string) =>
    db(`${table} as child`)
      .leftJoin('conversations as c', (on) => on.on('c.tenant_id', 'child.tenant_id').andOn('c.id', 'child.conversation_id'))
      .whereNull('c.id')
      .select('child.conversation_id');
  const messages = (await missingConversation('messages')) as Array<{ conversation_id: string }>;
  const members = (await missingConversation('conversation_members')) as Array<{ conversation_id: string }>;
  return [...messages.map((row) => `message in ${row.conversation_id}`), ...members.map((row) => `member of ${row.conversation_id}`)];
}

/**
 * Conversations whose seqs are not exactly 1..N, or whose `last_seq` (the
 * counter the next post increments) is not N: either would mean a gap or a
 * repeat after the crash.
 */
export async function seqProblems(db: Knex): Promise<string[]> {
  const seqs = new Map<string, number[]>();
  for (const row of await allMessages(db)) seqs.set(row.conversation_id, [...(seqs.get(row.conversation_id) ?? []), Number(row.seq)]);
  const problems: string[] = [];
  for (const conversation of (await db('conversations').select('id', 'last_seq')) as Array<{ id: string; last_seq: number }>) {
    const found = seqs.get(conversation.id) ?? [];
    const firstWrong = found.findIndex((seq, i) => seq !== i + 1);
    if (firstWrong >= 0) problems.push(`${conversation.id}: seq ${found[firstWrong]} at position ${firstWrong + 1}`);
    if (Number(conversation.last_seq) !== found.length) problems.push(`${conversation.id}: last_seq ${conversation.last_seq} but ${found.length} messages`);
  }
  return problems;
}

/** SQLite's own consistency check: `['ok']` when the file is sound. */
export async function sqliteIntegrity(db: Knex): Promise<string[]> {
  const rows = (await db.raw('PRAGMA integrity_check')) as Array<{ integrity_check: string }>;
  return rows.map((row) => row.integrity_check);
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { conversationKey, writeMessageBatch, type Lane, type NewConversation } from '../db/queries/message-batches';
import { createMessageQueries, type MessageRow } from '../db/queries/messages';
import { notFound, type ApiError } from '../errors';
import { membersOf, type ConversationCache, type Members } from './conversation-cache';
import { toMessage, type Message } from './message';
import type { NewMessage } from './message-store';

/** What became of one post of a batch. */
export type Outcome =
  | { readonly kind: 'created'; readonly message: Message; readonly memberIds: readonly string[] }
  /** Its nonce matched an earlier message (SPEC §5.3): that one, not a copy. */
  | { readonly kind: 'repeated'; readonly message: Message }
  | { readonly kind: 'refused'; readonly error: ApiError }
  /** Its conversation's members changed since they were read: not stored, to be tried again. */
  | { readonly kind: 'changed' };

/** A conversation's lane of the batch, with the members its posts were checked against. */
interface Checked extends Lane {
  readonly members: Members;
}

/** A sender's key in maps: tenant and user (or client) id. */
export const senderKey = (tenantId: string, senderId: string): string => `${tenantId}\0${senderId}`;
const nonceKey = ({ tenantId, sender, nonce }: NewMessage) => (nonce === undefined ? undefined : `${senderKey(tenantId, sender.id)}\0${nonce}`);

/** The members of every conversation the batch posts to, from the cache, the misses read at once (every one when `fresh`). */
async function membersFor(cache: ConversationCache, inputs: readonly NewMessage[], fresh: boolean): Promise<Map<string, Members>> {
  const known = new Map<string, Members>();
  const missing = new Map<string, Set<string>>();
  for (const { tenantId, sessionId } of inputs) {
    const key = conversationKey(tenantId, sessionId);
    const cached = fresh ? undefined : cache.get(key);
    if (cached) known.set(key, cached);
    else {
      let ids = missing.get(tenantId);
      if (!ids) missing.set(tenantId, (ids = new Set()));
      ids.add(sessionId);
    }
  }
  for (const [tenantId, ids] of missing) for (const [key, members] of await cache.load(tenantId, [...ids])) known.set(key, members);
  return known;
}

/** Earlier messages with the nonces of the batch, one query per sender: read only after an insert met one (the unique index said so). */
async function earlierByNonce(db: Knex, inputs: readonly NewMessage[]): Promise<Map<string, MessageRow>> {
  const nonces = new Map<string, { tenantId: string; senderId: string; nonces: Set<string> }>();
  for (const { tenantId, sender, nonce } of inputs) {
    if (nonce === undefined) continue;
    const key = senderKey(tenantId, sender.id);
    let wanted = nonces.get(key);
    if (!wanted) nonces.set(key, (wanted = { tenantId, senderId: sender.id, nonces: new Set() }));
    wanted.nonces.add(nonce);
  }
  const earlier = new Map<string, MessageRow>();
  const messages = createMessageQueries(db);
  for (const { tenantId, senderId, nonces: wanted } of nonces.values()) {
    for (const row of await messages.findByNonces(tenantId, senderId, [...wanted])) earlier.set(`${senderKey(tenantId, senderId)}\0${row.nonce!}`, row);
  }
  return earlier;
}

/**
 * Stores a batch of posts in one transaction and says what became of each,
 * in order. Membership comes from the cache (checked at commit time against
 * the version the seq allocation returns); a post to a conversation that
 * does not exist starts it with the poster as its member. A failure of the
 * write throws: none of the batch is stored. The posts of a conversation
 * whose members changed meanwhile are not stored either ('changed'), and its
 * cached members are forgotten. `careful` (after the unique index refused a
 * nonce or a racing start) reads the nonces and members first.
 */
export async function storeBatch(db: Knex, cache: ConversationCache, inputs: readonly NewMessage[], careful: boolean): Promise<Outcome[]> {
  const members = await membersFor(cache, inputs, careful);
  const earlier = careful ? await earlierByNonce(db, inputs) : new Map<string, MessageRow>();
  const outcomes: Array<Outcome | number> = [];
  const firstWithNonce = new Map<string, number>();
  const lanes = new Map<string, Checked>();
  const created: NewConversation[] = [];
  const rows = new Map<number, MessageRow>();
  const refusedIn = new Map<number, string>();
  const now = Date.now();
  inputs.forEach((input, index) => {
    const nonce = nonceKey(input);
    const row = nonce === undefined ? undefined : earlier.get(nonce);
    const first = nonce === undefined ? undefined : firstWithNonce.get(nonce);
    if (row) return void outcomes.push({ kind: 'repeated', message: toMessage(row) });
    // The same nonce twice in one batch: the second gets what the first got.
    if (first !== undefined) return void outcomes.push(first);
    const { tenantId, sessionId: id, sender } = input;
    const key = conversationKey(tenantId, id);
    let lane = lanes.get(key);
    if (!lane) {
      let conversation = members.get(key);
      if (!conversation && sender.member) {
        conversation = membersOf(0, [sender.id]);
        created.push({ row: { tenant_id: tenantId, id, title: null, created_by: sender.id, last_seq: 0, created_at: now }, memberIds: conversation.ids });
      }
      if (conversation) lanes.set(key, (lane = { tenantId, id, membersVersion: conversation.version, members: conversation, rows: [] }));
    }
    // A service posts into any conversation that exists (SPEC §5.3 push scope); a user into theirs only.
    if (!lane || (sender.member && !lane.members.set.has(sender.id))) {
      // Checked against cached members: if those changed, the refusal is taken back and the post tried again.
      if (lane) refusedIn.set(index, key);
      return void outcomes.push({ kind: 'refused', error: notFound('conversation') });
    }
    if (nonce !== undefined) firstWithNonce.set(nonce, index);
    const message: MessageRow = {
      id: randomUUID(),
      tenant_id: tenantId,
      conversation_id: id,
      seq: 0, // numbered when written
      sender_id: sender.id,
      sender: sender.name,
      role: sender.role,
      type: input.type,
      content: input.content,
      nonce: input.nonce ?? null,
      created_at: now,
    };
    lane.rows.push(message);
    rows.set(index, message);
    outcomes.push(index);
  });

  const changed = new Set(await writeMessageBatch(db, { created, lanes: [...lanes.values()] }));
  changed.forEach((key) => cache.forget(key));
  for (const { row, memberIds } of created) cache.remember(conversationKey(row.tenant_id, row.id), membersOf(0, memberIds));
  const stored = (index: number): Outcome => {
    const input = inputs[index]!;
    const key = conversationKey(input.tenantId, input.sessionId);
    return changed.has(key) ? { kind: 'changed' } : { kind: 'created', message: toMessage(rows.get(index)!), memberIds: lanes.get(key)!.members.ids };
  };
  const done = outcomes.map((outcome, index): Outcome | undefined => {
    if (typeof outcome === 'number') return outcome === index ? stored(index) : undefined;
    return changed.has(refusedIn.get(index) ?? '') ? { kind: 'changed' } : outcome;
  });
  // A repeat within the batch answers with the message its first post stored (or is tried again with it).
  return done.map((outcome, index) => {
    if (outcome) return outcome;
    const first = done[outcomes[index] as number]!;
    return first.kind === 'created' ? { kind: 'repeated', message: first.message } : first;
  });
}

import type { Knex } from 'knex';
import type { Bus } from '../bus/bus';
import { conversationKey } from '../db/queries/message-batches';
import { createConversationQueries } from '../db/queries/conversations';

/** A conversation's members as this process knows them, and the `members_version` they are of. */
export interface Members {
  readonly version: number;
  readonly ids: readonly string[];
  readonly set: ReadonlySet<string>;
}

const MAX_ENTRIES = 50_000;

export const membersOf = (version: number, ids: readonly string[]): Members => ({ version, ids, set: new Set(ids) });

/**
 * Conversations and their members, cached per process so a post reads
 * nothing. A change of members is published on the bus ('conversations.changed',
 * across processes with Redis) and forgets the entry here; a change the bus
 * has not brought yet is caught by the version every seq allocation returns.
 * Only conversations that exist are kept: a post to a new one always asks.
 */
export class ConversationCache {
  private readonly entries = new Map<string, Members>();
  /** Counts the changes heard: what was read before one may be stale and is not kept. */
  private changes = 0;

  constructor(
    private readonly db: Knex,
    bus: Bus,
  ) {
    bus.subscribe('conversations.changed', ({ tenantId, conversationId }) => this.forget(conversationKey(tenantId, conversationId)));
  }

  get(key: string): Members | undefined {
    return this.entries.get(key);
  }

  forget(key: string): void {
    this.changes += 1;
    this.entries.delete(key);
  }

  /** The members of the given conversations of a tenant that exist, read now; kept unless a change was heard meanwhile. */
  async load(tenantId: string, ids: readonly string[]): Promise<Map<string, Members>> {
    const changes = this.changes;
    const found = await createConversationQueries(this.db).membersOf(tenantId, ids);
    const loaded = new Map<string, Members>();
    for (const { id, version, memberIds } of found.values()) loaded.set(conversationKey(tenantId, id), membersOf(version, memberIds));
    if (changes === this.changes) for (const [key, members] of loaded) this.remember(key, members);
    return loaded;
  }

  /** Keeps what a commit established (a conversation it started). */
  remember(key: string, members: Members): void {
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, members);
  }
}

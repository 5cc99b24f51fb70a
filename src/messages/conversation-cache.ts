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

/** How much the cache holds at most: conversations, and member ids over all of them (members per conversation are unbounded). */
export interface CacheLimits {
  readonly entries: number;
  readonly memberIds: number;
}
const LIMITS: CacheLimits = { entries: 50_000, memberIds: 1_000_000 };

export const membersOf = (version: number, ids: readonly string[]): Members => ({ version, ids, set: new Set(ids) });

/**
 * Conversations and their members, cached per process so a post reads
 * nothing. A change of members is published on the bus ('conversations.changed',
 * across processes with Redis) and forgets the entry here, as a tenant's
 * removal ('tenants.changed' without a row) forgets all of its; a change the bus
 * has not brought yet is caught by the version every seq allocation returns.
 * Only conversations that exist are kept: a post to a new one always asks.
 */
export class ConversationCache {
  /** Least recently used first. */
  private readonly entries = new Map<string, Members>();
  private memberIds = 0;
  /** Counts the changes heard: what was read before one may be stale and is not kept. */
  private changes = 0;

  constructor(
    private readonly db: Knex,
    bus: Bus,
    private readonly limits: CacheLimits = LIMITS,
  ) {
    bus.subscribe('conversations.changed', ({ tenantId, conversationId }) => this.forget(conversationKey(tenantId, conversationId)));
    bus.subscribe('tenants.changed', ({ tenantId, tenant }) => {
      if (tenant === null) this.forgetTenant(tenantId);
    });
  }

  get(key: string): Members | undefined {
    const members = this.entries.get(key);
    if (members) {
      this.entries.delete(key);
      this.entries.set(key, members);
    }
    return members;
  }

  forget(key: string): void {
    this.changes += 1;
    this.drop(key);
  }

  /** Forgets every conversation of a removed tenant. */
  forgetTenant(tenantId: string): void {
    this.changes += 1;
    const prefix = conversationKey(tenantId, '');
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.drop(key);
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

  /** Keeps what a commit established (a conversation it started), making room by forgetting the least recently used. */
  remember(key: string, members: Members): void {
    this.drop(key);
    if (members.ids.length > this.limits.memberIds) return;
    while (this.entries.size >= this.limits.entries || this.memberIds + members.ids.length > this.limits.memberIds) this.drop(this.entries.keys().next().value!);
    this.entries.set(key, members);
    this.memberIds += members.ids.length;
  }

  private drop(key: string): void {
    const members = this.entries.get(key);
    if (!members) return;
    this.entries.delete(key);
    this.memberIds -= members.ids.length;
  }
}

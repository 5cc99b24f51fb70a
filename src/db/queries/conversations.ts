import type { Knex } from 'knex';

export interface ConversationRow {
  tenant_id: string;
  id: string;
  title: string | null;
  created_by: string;
  last_seq: number;
  created_at: number;
  /** Bumped by every change of the members (migration 030); defaults to 0. */
  members_version?: number;
}

/** A conversation's members as of its `members_version`. */
export interface ConversationMembers {
  readonly id: string;
  readonly version: number;
  readonly memberIds: string[];
}

export function createConversationQueries(db: Knex) {
  const conversations = () => db<ConversationRow>('conversations');
  const members = () => db('conversation_members');
  return {
    async insert(conversation: ConversationRow, memberIds: readonly string[]): Promise<void> {
      await conversations().insert(conversation);
      await members().insert(
        memberIds.map((userId) => ({ tenant_id: conversation.tenant_id, conversation_id: conversation.id, user_id: userId, joined_at: conversation.created_at })),
      );
    },
    async find(tenantId: string, id: string): Promise<ConversationRow | undefined> {
      return conversations().where({ tenant_id: tenantId, id }).first();
    },
    async isMember(tenantId: string, id: string, userId: string): Promise<boolean> {
      return (await members().where({ tenant_id: tenantId, conversation_id: id, user_id: userId }).first('user_id')) !== undefined;
    },
    /** The members of each of these conversations that exists, with the version they are of. */
    async membersOf(tenantId: string, ids: readonly string[]): Promise<Map<string, ConversationMembers>> {
      const rows: Array<{ id: string; members_version: number | string; user_id: string | null }> = await conversations()
        .leftJoin('conversation_members as m', (on) => on.on('m.tenant_id', 'conversations.tenant_id').andOn('m.conversation_id', 'conversations.id'))
        .where('conversations.tenant_id', tenantId)
        .whereIn('conversations.id', ids)
        .select('conversations.id', 'conversations.members_version', 'm.user_id');
      const found = new Map<string, ConversationMembers>();
      for (const row of rows) {
        let entry = found.get(row.id);
        if (!entry) found.set(row.id, (entry = { id: row.id, version: Number(row.members_version), memberIds: [] }));
        if (row.user_id !== null) entry.memberIds.push(row.user_id);
      }
      return found;
    },
    /** Adds members (those already in stay as they are) and bumps the members' version; false when there is no such conversation. */
    async addMembers(tenantId: string, id: string, userIds: readonly string[], now: number): Promise<boolean> {
      if ((await conversations().where({ tenant_id: tenantId, id }).increment('members_version', 1)) === 0) return false;
      const present = new Set((await members().where({ tenant_id: tenantId, conversation_id: id }).whereIn('user_id', userIds).select('user_id')).map((row: { user_id: string }) => row.user_id));
      const added = userIds.filter((userId) => !present.has(userId));
      if (added.length > 0) await members().insert(added.map((userId) => ({ tenant_id: tenantId, conversation_id: id, user_id: userId, joined_at: now })));
      return true;
    },
    /** The user id of the member with this username key; undefined for anyone else, whether the user exists or not. */
    async memberIdByUsername(tenantId: string, id: string, usernameKey: string): Promise<string | undefined> {
      const row: { user_id: string } | undefined = await members()
        .join('users', 'users.id', 'conversation_members.user_id')
        .where({ 'conversation_members.tenant_id': tenantId, 'conversation_members.conversation_id': id, 'users.username_key': usernameKey })
        .first('conversation_members.user_id');
      return row?.user_id;
    },
    /** Removes a member and bumps the members' version; false when they were not one (undo the transaction then). */
    async removeMember(tenantId: string, id: string, userId: string): Promise<boolean> {
      // The conversation's row first, as posts take it: a change and a batch of posts queue on it.
      if ((await conversations().where({ tenant_id: tenantId, id }).increment('members_version', 1)) === 0) return false;
      return (await members().where({ tenant_id: tenantId, conversation_id: id, user_id: userId }).delete()) > 0;
    },
    /** Member usernames of each conversation, in join order. */
    async memberNames(tenantId: string, ids: readonly string[]): Promise<Map<string, string[]>> {
      const rows: Array<{ conversation_id: string; username: string }> = await members()
        .join('users', 'users.id', 'conversation_members.user_id')
        .where('conversation_members.tenant_id', tenantId)
        .whereIn('conversation_members.conversation_id', ids)
        .orderBy('conversation_members.joined_at')
        .orderBy('users.username')
        .select('conversation_members.conversation_id', 'users.username');
      const names = new Map<string, string[]>();
      for (const row of rows) names.set(row.conversation_id, [...(names.get(row.conversation_id) ?? []), row.username]);
      return names;
    },
    /** A user's conversations, newest first, from the member index. */
    listForUser(tenantId: string, userId: string): Knex.QueryBuilder {
      return conversations()
        .join('conversation_members', (on) =>
          on.on('conversation_members.tenant_id', 'conversations.tenant_id').andOn('conversation_members.conversation_id', 'conversations.id'),
        )
        .where({ 'conversation_members.tenant_id': tenantId, 'conversation_members.user_id': userId })
        .select('conversations.*');
    },
  };
}

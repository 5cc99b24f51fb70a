import type { Knex } from 'knex';

export interface ConversationRow {
  tenant_id: string;
  id: string;
  title: string | null;
  created_by: string;
  last_seq: number;
  created_at: number;
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
    async memberIds(tenantId: string, id: string): Promise<string[]> {
      return (await members().where({ tenant_id: tenantId, conversation_id: id }).select('user_id')).map((row: { user_id: string }) => row.user_id);
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
    /** Takes the next `seq`; the row stays locked until the transaction ends, so seqs never repeat or skip. */
    async nextSeq(tenantId: string, id: string): Promise<number> {
      await conversations().where({ tenant_id: tenantId, id }).increment('last_seq', 1);
      const row = await conversations().where({ tenant_id: tenantId, id }).first('last_seq');
      return Number(row!.last_seq);
    },
  };
}

import type { Knex } from 'knex';

export interface MessageRow {
  id: string;
  tenant_id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender: string;
  role: string;
  type: string;
  content: string;
  nonce: string | null;
  created_at: number;
}

export function createMessageQueries(db: Knex) {
  const messages = () => db<MessageRow>('messages');
  return {
    async insert(message: MessageRow): Promise<void> {
      await messages().insert(message);
    },
    /** A sender's messages with any of `nonces` (from the nonce index). */
    async findByNonces(tenantId: string, senderId: string, nonces: readonly string[]): Promise<MessageRow[]> {
      return messages().where({ tenant_id: tenantId, sender_id: senderId }).whereIn('nonce', nonces);
    },
    /** Messages after `afterSeq`, ascending, at most `limit` (from the conversation + seq index). */
    async after(tenantId: string, conversationId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
      return messages()
        .where({ tenant_id: tenantId, conversation_id: conversationId })
        .where('seq', '>', afterSeq)
        .orderBy('seq', 'asc')
        .limit(limit);
    },
  };
}

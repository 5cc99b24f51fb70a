import type { MessageRow } from '../db/queries/messages';

/** A message as clients see it, over REST and the socket alike (SPEC §5.3). */
export interface Message {
  readonly id: string;
  readonly session_id: string;
  readonly seq: number;
  readonly sender: string;
  readonly role: 'user' | 'assistant' | 'system';
  readonly type: string;
  readonly content: string;
  readonly timestamp: string;
}

export const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  session_id: row.conversation_id,
  seq: Number(row.seq),
  sender: row.sender,
  role: row.role as Message['role'],
  type: row.type,
  content: row.content,
  timestamp: new Date(Number(row.created_at)).toISOString(),
});

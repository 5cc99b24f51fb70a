import type { Conversation, TesseraClient, TesseraSocket } from 'tessera/client';

/** What every screen of the signed-in app gets. */
export interface Context {
  readonly client: TesseraClient;
  readonly socket: TesseraSocket;
  readonly username: string;
  /** Conversations by id, as last listed. */
  readonly conversations: Map<string, Conversation>;
  /** Shows a short notice (errors, confirmations) in the live region. */
  notify(text: string): void;
}

/** Renders into `main`; may return a cleanup run when the screen is left. */
export type Screen = (context: Context, main: HTMLElement, parameter?: string) => Promise<(() => void) | void>;

/** A conversation's name: its title, else the other members, else "Just you". */
export function conversationName(conversation: Conversation, me: string): string {
  const others = conversation.members.filter((member) => member.toLowerCase() !== me.toLowerCase());
  return conversation.title ?? (others.length ? others.join(', ') : 'Just you');
}

/** Lists the conversations into the cache. */
export async function loadConversations(context: Context): Promise<Conversation[]> {
  const list = await context.client.conversations.list({ limit: 200 });
  for (const conversation of list) context.conversations.set(conversation.id, conversation);
  return list;
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Bus } from '../bus/bus';
import { isUniqueViolation } from '../db/errors';
import { createConversationQueries } from '../db/queries/conversations';
import { createMessageQueries } from '../db/queries/messages';
import { notFound } from '../errors';
import { KeyedQueue } from './keyed-queue';
import { toMessage, type Message } from './message';
import type { MessageWebhook } from './webhook';

/** Who posts: a user (role `user`) or a service client (role `assistant`). */
export interface Sender {
  readonly id: string;
  readonly name: string;
  readonly role: Message['role'];
  /** Users must be members of the conversation; a service with `push` may post into any. */
  readonly member: boolean;
}

export interface NewMessage {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly sender: Sender;
  readonly content: string;
  readonly type: string;
  readonly nonce?: string | undefined;
  /** The socket connection id it came from, if any. */
  readonly origin?: string;
}

export interface Posted {
  readonly message: Message;
  /** False when the nonce matched an earlier message, which is returned instead of a copy. */
  readonly created: boolean;
}

// Racing first posts to a new conversation, or the same nonce twice, meet a
// unique constraint; the loser starts over and finds the winner's row.
const ATTEMPTS = 3;

/**
 * The one message store, called by REST and the socket alike: it checks
 * membership, allocates `seq` inside the insert's transaction (no gaps, no
 * repeats), honours nonces, then tells the bus and the webhook.
 */
export class MessageStore {
  private readonly lanes = new KeyedQueue();

  constructor(
    private readonly db: Knex,
    private readonly bus: Bus,
    private readonly webhook: MessageWebhook | undefined,
    private readonly onStored: (role: Message['role']) => void = () => undefined,
  ) {}

  async post(input: NewMessage): Promise<Posted> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.lanes.run(`${input.tenantId}\0${input.sessionId}`, async () => {
          const { posted, memberIds } = await this.tryPost(input);
          if (posted.created) this.announce(input, posted.message, memberIds);
          return posted;
        });
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= ATTEMPTS) throw error;
      }
    }
  }

  /** Messages after `afterSeq` for a member, ascending by `seq`; 404 for anyone else. */
  async history(tenantId: string, sessionId: string, userId: string, afterSeq: number, limit: number): Promise<Message[]> {
    if (!(await createConversationQueries(this.db).isMember(tenantId, sessionId, userId))) throw notFound('conversation');
    return (await createMessageQueries(this.db).after(tenantId, sessionId, afterSeq, limit)).map(toMessage);
  }

  /** Messages after `afterSeq` whoever asks (the gateway filling a gap in what it delivers). */
  async after(tenantId: string, sessionId: string, afterSeq: number, limit: number): Promise<Message[]> {
    return (await createMessageQueries(this.db).after(tenantId, sessionId, afterSeq, limit)).map(toMessage);
  }

  private async tryPost(input: NewMessage): Promise<{ posted: Posted; memberIds: string[] }> {
    const { tenantId, sessionId, sender, nonce } = input;
    if (nonce !== undefined) {
      const earlier = await createMessageQueries(this.db).findByNonce(tenantId, sender.id, nonce);
      if (earlier) return { posted: { message: toMessage(earlier), created: false }, memberIds: [] };
    }
    return this.db.transaction(async (trx) => {
      const conversations = createConversationQueries(trx);
      const now = Date.now();
      const conversation = await conversations.find(tenantId, sessionId);
      if (!conversation) {
        if (!sender.member) throw notFound('conversation');
        await conversations.insert({ tenant_id: tenantId, id: sessionId, title: null, created_by: sender.id, last_seq: 0, created_at: now }, [sender.id]);
      } else if (sender.member && !(await conversations.isMember(tenantId, sessionId, sender.id))) {
        throw notFound('conversation');
      }
      const row = {
        id: randomUUID(),
        tenant_id: tenantId,
        conversation_id: sessionId,
        seq: await conversations.nextSeq(tenantId, sessionId),
        sender_id: sender.id,
        sender: sender.name,
        role: sender.role,
        type: input.type,
        content: input.content,
        nonce: nonce ?? null,
        created_at: now,
      };
      await createMessageQueries(trx).insert(row);
      return { posted: { message: toMessage(row), created: true }, memberIds: await conversations.memberIds(tenantId, sessionId) };
    });
  }

  private announce({ tenantId, origin }: NewMessage, message: Message, memberIds: string[]): void {
    this.onStored(message.role);
    this.bus.publish('messages.created', { tenantId, message, memberIds, ...(origin === undefined ? {} : { origin }) });
    if (message.role === 'user') this.webhook?.send(tenantId, message);
  }
}

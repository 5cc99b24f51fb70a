import type { Knex } from 'knex';
import type { Bus } from '../bus/bus';
import { isTransactionConflict, isUniqueViolation } from '../db/errors';
import { createConversationQueries } from '../db/queries/conversations';
import { createMessageQueries } from '../db/queries/messages';
import { notFound, unavailable } from '../errors';
import type { Logger } from '../logger';
import { ConversationCache } from './conversation-cache';
import { toMessage, type Message } from './message';
import { senderKey, storeBatch, type Outcome } from './message-batch';
import { PostQueue, type Waiting } from './post-queue';
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

// A batch the unique index refused (a repeated nonce, a racing start of the same conversation) or
// PostgreSQL undid (a deadlock, a serialization conflict) is tried again reading what it met, and the
// posts of a conversation whose members changed with its members read anew; the third time each
// sender's posts go on their own, and what fails then fails.
const ATTEMPTS = 3;
const BATCH_LIMIT = 500; // posts per transaction
const WAITING_LIMIT = 8_192; // posts waiting for a batch, process-wide

function groupBySender(posts: ReadonlyArray<Waiting<NewMessage, Posted>>): Map<string, Array<Waiting<NewMessage, Posted>>> {
  const groups = new Map<string, Array<Waiting<NewMessage, Posted>>>();
  for (const post of posts) {
    const key = senderKey(post.input.tenantId, post.input.sender.id);
    const group = groups.get(key);
    if (group) group.push(post);
    else groups.set(key, [post]);
  }
  return groups;
}

/**
 * The one message store, called by REST and the socket alike. Posts are
 * group-committed: those that arrive together are stored in one transaction
 * (seq allocated per conversation inside it, gap-free and in order), and each
 * post's promise settles only after the commit that holds it. Then the bus
 * hears of every new message, in seq order, and the webhook of user messages.
 */
export class MessageStore {
  private readonly queue: PostQueue<NewMessage, Posted>;
  private readonly conversations: ConversationCache;

  constructor(
    private readonly db: Knex,
    private readonly bus: Bus,
    private readonly webhook: MessageWebhook | undefined,
    private readonly logger: Logger,
    private readonly onStored: (role: Message['role']) => void = () => undefined,
  ) {
    this.conversations = new ConversationCache(db, bus);
    this.queue = new PostQueue((batch) => this.commit(batch), { batch: BATCH_LIMIT, waiting: WAITING_LIMIT });
  }

  /** Stores a message; resolves once it is committed. */
  post(input: NewMessage): Promise<Posted> {
    return this.queue.push(input);
  }

  /** Messages after `afterSeq` for a member, ascending by `seq`; 404 for anyone else. */
  async history(tenantId: string, sessionId: string, userId: string, afterSeq: number, limit: number): Promise<Message[]> {
    if (!(await createConversationQueries(this.db).isMember(tenantId, sessionId, userId))) throw notFound('conversation');
    return this.after(tenantId, sessionId, afterSeq, limit);
  }

  /** Messages after `afterSeq` whoever asks (the gateway filling a gap in what it delivers). */
  async after(tenantId: string, sessionId: string, afterSeq: number, limit: number): Promise<Message[]> {
    return (await createMessageQueries(this.db).after(tenantId, sessionId, afterSeq, limit)).map(toMessage);
  }

  private async commit(batch: ReadonlyArray<Waiting<NewMessage, Posted>>): Promise<void> {
    let posts = batch;
    let careful = false;
    for (let attempt = 1; posts.length > 0; attempt += 1) {
      const last = attempt >= ATTEMPTS;
      // The last attempt commits each sender's posts on their own: what keeps conflicting fails its sender's posts only.
      const groups = last ? [...groupBySender(posts).values()] : [posts];
      const again: Array<Waiting<NewMessage, Posted>> = [];
      for (const group of groups) {
        const tried = await this.attempt(group, careful, last);
        careful ||= tried.conflict;
        again.push(...tried.again);
      }
      posts = again;
    }
  }

  /** Stores posts once and settles them; returns those to try again (all of them after a conflict worth retrying). */
  private async attempt(posts: ReadonlyArray<Waiting<NewMessage, Posted>>, careful: boolean, last: boolean): Promise<{ again: Array<Waiting<NewMessage, Posted>>; conflict: boolean }> {
    let outcomes: Outcome[];
    try {
      outcomes = await storeBatch(this.db, this.conversations, posts.map((post) => post.input), careful);
    } catch (error) {
      if (!last && (isUniqueViolation(error) || isTransactionConflict(error))) return { again: [...posts], conflict: true };
      for (const post of posts) post.reject(error);
      return { again: [], conflict: false };
    }
    posts.forEach((post, i) => this.settle(post, outcomes[i]!));
    const again = posts.filter((_, i) => outcomes[i]!.kind === 'changed');
    if (!last) return { again, conflict: false };
    for (const post of again) post.reject(unavailable('the members of the conversation kept changing'));
    return { again: [], conflict: false };
  }

  private settle(post: Waiting<NewMessage, Posted>, outcome: Outcome): void {
    if (outcome.kind === 'changed') return;
    if (outcome.kind === 'refused') return post.reject(outcome.error);
    if (outcome.kind === 'created') this.announce(post.input, outcome.message, outcome.memberIds);
    post.resolve({ message: outcome.message, created: outcome.kind === 'created' });
  }

  /** Tells of a committed message; a failure here must not turn it into an error its sender would post again. */
  private announce({ tenantId, origin }: NewMessage, message: Message, memberIds: readonly string[]): void {
    try {
      this.onStored(message.role);
      this.bus.publish('messages.created', { tenantId, message, memberIds, ...(origin === undefined ? {} : { origin }) });
      if (message.role === 'user') this.webhook?.send(tenantId, message);
    } catch (error) {
      this.logger.error({ err: error instanceof Error ? error.message : String(error), message_id: message.id, session_id: message.session_id }, 'announcing a stored message failed');
    }
  }
}

import { createHmac } from 'node:crypto';
import type { Logger } from '../logger';
import type { Message } from './message';

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  /** First retry delay; each further one doubles. */
  readonly baseDelayMs?: number;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  /** Deliveries waiting at most; beyond it the oldest is dropped with a warning. */
  readonly queueLimit?: number;
}

/** `sha256=<hex HMAC-SHA256 of the body>` (SPEC §5.4). */
export const signature = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Delivers user messages to `MESSAGE_WEBHOOK_URL`, retrying with backoff.
 * It runs beside the request that stored the message and never delays or
 * fails it: the message is already stored when the webhook hears of it.
 */
export class MessageWebhook {
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private closed = false;

  constructor(
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
  ) {}

  /** Queues `message` of `tenantId`: conversation ids are chosen by clients, so a bot tells tenants apart by `tenant_id`. */
  send(tenantId: string, message: Message): void {
    if (this.closed) return;
    if (this.pending >= (this.options.queueLimit ?? 10_000)) {
      this.logger.warn({ message_id: message.id }, 'webhook queue full; delivery dropped');
      return;
    }
    this.pending += 1;
    void this.attempt(JSON.stringify({ event: 'message.created', tenant_id: tenantId, message }), message.id, 1);
  }

  private async attempt(body: string, messageId: string, attempt: number): Promise<void> {
    const { url, secret, attempts = 6, baseDelayMs = 1_000, timeoutMs = 5_000 } = this.options;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tessera-signature': signature(secret, body), 'user-agent': 'tessera-webhook' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.pending -= 1;
        return;
      }
      throw new Error(`status ${res.status}`);
    } catch (error) {
      if (attempt >= attempts || this.closed) {
        this.pending -= 1;
        this.logger.warn({ message_id: messageId, attempts: attempt, err: String(error) }, 'webhook delivery failed');
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.attempt(body, messageId, attempt + 1);
      }, baseDelayMs * 2 ** (attempt - 1));
      timer.unref();
      this.timers.add(timer);
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

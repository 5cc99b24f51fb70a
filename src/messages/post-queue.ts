import { rateLimited } from '../errors';

export interface Waiting<I, O> {
  readonly input: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

export interface PostQueueLimits {
  /** Posts written in one transaction at most. */
  readonly batch: number;
  /** Posts waiting for a batch at most; beyond it a post is refused with 429 / `rate_limited`. */
  readonly waiting: number;
}

/**
 * Group commit: posts that arrive together (in one turn of the event loop,
 * or while the previous batch commits) are handed to `commit` as one batch,
 * one batch at a time, in the order they came. `commit` settles every post
 * of its batch. Waiting is bounded: under overload posts are refused at once
 * rather than queued without end.
 */
export class PostQueue<I, O> {
  private waiting: Array<Waiting<I, O>> = [];
  private busy = false;

  constructor(
    private readonly commit: (batch: ReadonlyArray<Waiting<I, O>>) => Promise<void>,
    private readonly limits: PostQueueLimits,
  ) {}

  push(input: I): Promise<O> {
    if (this.waiting.length >= this.limits.waiting) return Promise.reject(rateLimited(1));
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.limits.batch);
      await this.commit(batch).catch((error: unknown) => batch.forEach((post) => post.reject(error)));
    }
    this.busy = false;
  }
}

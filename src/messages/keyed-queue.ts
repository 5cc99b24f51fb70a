/**
 * Runs work one at a time per key, in the order it was queued. Posts to one
 * conversation contend for its row lock anyway; queueing them here keeps
 * them from holding every pooled connection while they wait for it, and
 * announces them in `seq` order.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

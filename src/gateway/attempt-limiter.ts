import { clientKey } from '../http/client-key';

const WINDOW_MS = 60_000;

/** Fixed-window counter of upgrade attempts per client (as REST counts them), so a client cannot hammer the handshake. */
export class AttemptLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** Counts an attempt; false when this client is over its limit in the current minute. */
  allow(ip: string, now = Date.now()): boolean {
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const key = clientKey(ip);
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count <= this.perMinute;
  }

  /** Seconds until the window resets, for Retry-After. */
  retryAfter(now = Date.now()): number {
    return Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000);
  }
}

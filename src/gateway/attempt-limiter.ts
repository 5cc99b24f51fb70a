const WINDOW_MS = 60_000;

/** Fixed-window counter of upgrade attempts per IP, so a client cannot hammer the handshake. */
export class AttemptLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** Counts an attempt; false when this IP is over its limit in the current minute. */
  allow(ip: string, now = Date.now()): boolean {
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const count = (this.counts.get(ip) ?? 0) + 1;
    this.counts.set(ip, count);
    return count <= this.perMinute;
  }

  /** Seconds until the window resets, for Retry-After. */
  retryAfter(now = Date.now()): number {
    return Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000);
  }
}

import { setTimeout as delay } from 'node:timers/promises';
import { call, refreshGrant } from '../../test/durability/http';

const REFRESH_EVERY = 5; // iterations; each refresh rotates the session's refresh token

/** What the HTTP clients came to. */
export interface ReaderTally {
  requests: number;
  refreshes: number;
  /** `<what> <status>` → count, for every answer that was not the expected 200. */
  failures: Map<string, number>;
  /** Pages of GET /messages that were not ascending and gap-free from `after_seq`. */
  badPages: number;
  /** Milliseconds per request, answered or not. */
  latencies: number[];
}

export const emptyReaderTally = (): ReaderTally => ({ requests: 0, refreshes: 0, failures: new Map(), badPages: 0, latencies: [] });

/**
 * An HTTP client of one session: reads its tasks and its conversation's new
 * messages (checking their order), and rotates its refresh token every few
 * rounds, pausing between rounds.
 */
export class Reader {
  private lastSeq = 0;

  constructor(
    private readonly base: string,
    private readonly conversation: string,
    private accessToken: string,
    private refreshToken: string,
  ) {}

  /** Loops until `stopped()` says so, at most `maxRounds` rounds. */
  async run(tally: ReaderTally, stopped: () => boolean, pauseMs: number, maxRounds: number): Promise<void> {
    for (let round = 1; round <= maxRounds && !stopped(); round += 1) {
      await this.step(tally, 'GET /tasks', () => call(this.base, 'GET', '/tasks', { token: this.accessToken }));
      const page = await this.step(tally, 'GET /messages', () =>
        call(this.base, 'GET', `/messages/${this.conversation}?after_seq=${this.lastSeq}&limit=200`, { token: this.accessToken }),
      );
      if (page) this.checkPage(tally, page as unknown as Array<{ seq: number }>);
      if (round % REFRESH_EVERY === 0) {
        const tokens = await this.step(tally, 'POST /token refresh', () => refreshGrant(this.base, this.refreshToken));
        if (tokens) {
          tally.refreshes += 1;
          this.accessToken = String(tokens.access_token);
          this.refreshToken = String(tokens.refresh_token);
        }
      }
      await delay(pauseMs * (0.5 + Math.random()));
    }
  }

  private checkPage(tally: ReaderTally, page: Array<{ seq: number }>): void {
    if (!page.every((message, i) => message.seq === this.lastSeq + i + 1)) tally.badPages += 1;
    if (page.length > 0) this.lastSeq = page[page.length - 1]!.seq;
  }

  private async step(tally: ReaderTally, what: string, request: () => ReturnType<typeof call>): Promise<Record<string, unknown> | undefined> {
    tally.requests += 1;
    const started = performance.now();
    let status: string;
    try {
      const answer = await request();
      tally.latencies.push(performance.now() - started);
      if (answer.status === 200) return answer.body;
      status = String(answer.status);
    } catch (error) {
      tally.latencies.push(performance.now() - started);
      status = error instanceof Error ? error.name : 'error';
    }
    const key = `${what} ${status}`;
    tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
    return undefined;
  }
}

/** What the orchestrator (run.ts) asks of one load worker (load.ts) run, passed as a JSON file. */
export interface LoadSpec {
  readonly url: string; // http://127.0.0.1:<port>
  readonly connections: number;
  readonly durationSeconds: number;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Refresh-token rotation: each token is sent once, as
   * `grant_type=refresh_token&refresh_token=<token>`, and the successor from
   * a 200 goes back into the pool (see load.ts for why a shared pool).
   */
  readonly refreshTokens?: readonly string[];
}

/** What one load worker run prints to stdout, as one JSON line. */
export interface LoadResult {
  readonly requestsPerSecond: number; // autocannon's mean of per-second samples
  readonly total: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
  readonly unexpected: number; // responses other than 200, plus socket errors (timeouts included)
  readonly unexpectedSamples: readonly string[]; // a few of their bodies
  readonly starved: number; // rotation only: requests sent without a live refresh token
}

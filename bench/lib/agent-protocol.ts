import type { DpopKey } from './dpop-proof';

/**
 * What the orchestrator (run.ts) and the load agent (agent.ts, pinned to the
 * load core) say to each other: one JSON line per command on the agent's
 * stdin, one JSON line per answer on its stdout, matched by `id`.
 */

/** One autocannon run. */
export interface LoadSpec {
  readonly url: string; // http://127.0.0.1:<port>
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second over all connections, evenly spaced (agent/paced-load.ts); unset: as fast as the server answers (autocannon). */
  readonly overallRate?: number;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Refresh-token rotation: each token is sent once, as
   * `grant_type=refresh_token&refresh_token=<token>` plus `extraBody`, and the
   * successor from a 200 goes back into the pool (see agent/http-load.ts).
   */
  readonly refreshTokens?: readonly string[];
  readonly extraBody?: string;
  /** A DPoP-bound token: sent as `Authorization: DPoP` with a fresh proof of `key` for `htu` on every request. */
  readonly dpop?: { readonly key: DpopKey; readonly htu: string; readonly accessToken: string };
  /**
   * Bodies each sent exactly once (authorization codes): the run ends when all are answered
   * (autocannon `amount`), not after `durationSeconds`.
   */
  readonly oneShotBodies?: readonly string[];
  /**
   * Whole code-flow round trips instead of `method`/`path`: GET /authorize with a fresh PKCE pair →
   * 303 with a code, POST /token (authorization_code), GET /userinfo (agent/code-flow.ts). `total`
   * and the rate count finished flows; latency is per request.
   */
  readonly codeFlow?: CodeFlowSpec;
}

/** A confidential first-party app and a signed-in browser: GET /authorize answers with a code at once. */
export interface CodeFlowSpec {
  readonly clientId: string;
  readonly authorization: string; // the app's HTTP Basic credentials
  readonly redirectUri: string;
  readonly scope: string;
  readonly cookie: string; // the browser session's Cookie header
}

/** `count` authorization codes of `flow`'s app, each as the body of its token request (with its PKCE verifier). */
export interface MintCodesArgs {
  readonly url: string;
  readonly connections: number;
  readonly count: number;
  readonly flow: CodeFlowSpec;
}

/** What one autocannon run measured. */
export interface LoadResult {
  readonly requestsPerSecond: number; // responses / elapsed seconds
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

export type DialectName = 'tessera' | 'tessera-dpop' | 'bare-ws' | 'ws-relay' | 'socket.io';

/** Who a socket is: tessera needs the user and token in the URL, Socket.IO the token and room in its CONNECT. */
export interface SocketTarget {
  readonly username?: string;
  readonly token?: string;
  /** tessera: the conversation (session_id) this socket sends to; Socket.IO: the room it joins. */
  readonly room?: string;
  /** tessera-dpop: the key the token is bound to; each upgrade carries a fresh proof of it. */
  readonly dpop?: DpopKey;
}

export interface SocketServer {
  readonly port: number;
  readonly dialect: DialectName;
}

/** Handshake, first frame, close, next, on `connections` slots for `durationMs`. */
export interface HandshakesArgs extends SocketServer {
  readonly targets: readonly SocketTarget[]; // cycled
  readonly connections: number;
  readonly durationMs: number;
}

export interface HandshakesResult {
  readonly completed: number;
  readonly perSecond: number;
  readonly failed: number;
  readonly failures: readonly string[]; // a few reasons
}

/** Opens `count` sockets (targets cycled) and holds them under `tag` until `close`. */
export interface OpenArgs extends SocketServer {
  readonly tag: string;
  readonly targets: readonly SocketTarget[];
  readonly count: number;
  readonly concurrency: number;
}

export interface OpenResult {
  readonly opened: number;
  readonly failed: number; // after one retry
  readonly retried: number; // failed at the first try
  readonly failures: readonly string[];
  readonly seconds: number;
}

/** One round of fan-out: the sender (first socket under `senderTag`) sends `messages` messages, one after the other delivery round. */
export interface FanoutArgs {
  readonly senderTag: string;
  readonly receiverTag: string;
  readonly messages: number;
  readonly timeoutMs: number; // per message
}

export interface FanoutResult {
  readonly deliveries: number;
  readonly missing: number; // deliveries that did not arrive within the timeout
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Closed-loop chat: every socket under `tags` sends, waits for its ack, sends again, for `durationMs`. */
export interface ChatArgs {
  readonly tags: readonly string[];
  readonly durationMs: number;
  readonly inFlight: number; // messages outstanding per socket
  /** Open loop instead: messages per second over all sockets, evenly spaced, sockets in turn (at most `inFlight` outstanding each). */
  readonly ratePerSecond?: number;
}

export interface ChatResult {
  readonly acked: number;
  readonly delivered: number;
  readonly seconds: number;
  /** From a message's write to its ack's read (per socket, acks come in the order sent); null without acks. */
  readonly ackP50Ms: number | null;
  readonly ackP99Ms: number | null;
  readonly errors: number;
  readonly errorSamples: readonly string[];
}

export interface Commands {
  http: { args: LoadSpec; result: LoadResult };
  handshakes: { args: HandshakesArgs; result: HandshakesResult };
  open: { args: OpenArgs; result: OpenResult };
  fanout: { args: FanoutArgs; result: FanoutResult };
  chat: { args: ChatArgs; result: ChatResult };
  close: { args: { readonly tag: string }; result: { readonly closed: number } };
  mintCodes: { args: MintCodesArgs; result: { readonly bodies: readonly string[] } };
}

export type CommandName = keyof Commands;

export interface Request<C extends CommandName = CommandName> {
  readonly id: number;
  readonly command: C;
  readonly args: Commands[C]['args'];
}

export type Answer = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

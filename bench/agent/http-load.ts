// HTTP load: one autocannon run against one server (programmatic, in the
// agent process on the load core).
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from '../lib/agent-protocol';
import { proofMaker } from '../lib/dpop-proof';

const SAMPLE_LIMIT = 5;
const TIMEOUT_SECONDS = 10; // a request still unanswered after this counts as a timeout
// autocannon notices that an `amount` run is done only at its next sample tick (1 s by default),
// which would round such a run's length up to whole seconds.
const AMOUNT_SAMPLE_MS = 20;

export interface Tally {
  statuses: Record<string, number>;
  samples: string[];
  starved: number;
  /** Responses of another status than 200 that were what the workload expects (a redirect). */
  expected: number;
}

export const newTally = (): Tally => ({ statuses: {}, samples: [], starved: 0, expected: 0 });

/** Counts a response; `expectedStatus` other than 200 (a 303 of the authorization endpoint) is not unexpected. */
export function recordStatus(tally: Tally, status: number, body: string, expectedStatus = 200): void {
  tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
  if (status === expectedStatus && status !== 200) tally.expected++;
  if (status !== expectedStatus && tally.samples.length < SAMPLE_LIMIT) tally.samples.push(`${status} ${body.slice(0, 300)}`);
}

/**
 * Rotation needs every refresh token sent exactly once. autocannon resets a
 * connection's `context` each time its request list restarts (README,
 * "context"), i.e. after every response when the list has one request, so a
 * chain cannot live in the context. Instead the tokens form one pool: a
 * connection takes a token when it builds a request and the successor goes
 * back when the 200 arrives. A token is only ever held by one request in
 * flight, so no chain forks, and with at least as many sessions as
 * connections the pool never runs dry.
 */
function rotationRequest(spec: LoadSpec, tally: Tally): autocannon.Request {
  const pool = [...(spec.refreshTokens ?? [])];
  return {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    setupRequest(request) {
      let token = pool.shift();
      if (token === undefined) {
        tally.starved++;
        token = 'pool-ran-dry';
      }
      return { ...request, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}${spec.extraBody ?? ''}` };
    },
    onResponse(status, body) {
      recordStatus(tally, status, body);
      if (status !== 200) return;
      const successor = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
      if (typeof successor === 'string') pool.push(successor);
    },
  };
}

/** Every body sent once, from one pool (authorization codes: a code is good for one token request). */
function oneShotRequest(spec: LoadSpec, bodies: readonly string[], tally: Tally): autocannon.Request {
  const pool = [...bodies];
  return {
    ...fixedRequest(spec, tally),
    setupRequest(request) {
      const body = pool.shift();
      if (body === undefined) tally.starved++;
      return { ...request, body: body ?? 'pool-ran-dry' };
    },
  };
}

function fixedRequest(spec: LoadSpec, tally: Tally): autocannon.Request {
  return {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    onResponse(status, body) {
      recordStatus(tally, status, body);
    },
  };
}

/** RFC 9449: every request of a DPoP-bound token carries a proof of its own, signed here on the load core. */
function dpopRequest(spec: LoadSpec, dpop: NonNullable<LoadSpec['dpop']>, tally: Tally): autocannon.Request {
  const proof = proofMaker(dpop.key);
  const authorization = `DPoP ${dpop.accessToken}`;
  return {
    ...fixedRequest(spec, tally),
    setupRequest: (request) => ({ ...request, headers: { ...spec.headers, authorization, dpop: proof(spec.method, dpop.htu, dpop.accessToken) } }),
  };
}

/** How long a run goes on: `durationSeconds`, or until `amount` responses. */
export type RunLength = { readonly durationSeconds: number } | { readonly amount: number };

/**
 * One autocannon run of `requests` (in order, over and over, on each connection). `counted` is
 * what the rate counts: every response unless told (whole flows of several requests).
 */
export async function autocannonRun(
  spec: Pick<LoadSpec, 'url' | 'connections'>,
  length: RunLength,
  requests: autocannon.Request[],
  tally: Tally,
  counted?: () => number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    ...('amount' in length ? { amount: length.amount, sampleInt: AMOUNT_SAMPLE_MS } : { duration: length.durationSeconds }),
    timeout: TIMEOUT_SECONDS,
    requests,
  });
  const unexpected = Object.entries(tally.statuses).reduce((sum, [status, count]) => sum + (status === '200' ? 0 : count), 0) - tally.expected;
  const total = counted?.() ?? result.requests.total;
  return {
    // Responses over the run's own length: exact for runs of a second or two, where per-second samples are few.
    requestsPerSecond: total / result.duration,
    total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    statuses: tally.statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected: unexpected + result.errors, // autocannon counts timeouts among errors
    unexpectedSamples: tally.samples,
    starved: tally.starved,
  };
}

/** As fast as the server answers, on `connections` connections (autocannon). */
export async function httpLoad(spec: LoadSpec): Promise<LoadResult> {
  const tally = newTally();
  if (spec.oneShotBodies) return autocannonRun(spec, { amount: spec.oneShotBodies.length }, [oneShotRequest(spec, spec.oneShotBodies, tally)], tally);
  const request = spec.refreshTokens ? rotationRequest(spec, tally) : spec.dpop ? dpopRequest(spec, spec.dpop, tally) : fixedRequest(spec, tally);
  return autocannonRun(spec, spec, [request], tally);
}

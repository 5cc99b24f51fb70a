// HTTP load: one autocannon run against one server (programmatic, in the
// agent process on the load core).
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from '../lib/agent-protocol';
import { proofMaker } from '../lib/dpop-proof';

const SAMPLE_LIMIT = 5;
const TIMEOUT_SECONDS = 10; // a request still unanswered after this counts as a timeout

interface Tally {
  statuses: Record<string, number>;
  samples: string[];
  starved: number;
}

function recordStatus(tally: Tally, status: number, body: string): void {
  tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
  if (status !== 200 && tally.samples.length < SAMPLE_LIMIT) tally.samples.push(`${status} ${body.slice(0, 300)}`);
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

/** As fast as the server answers, on `connections` connections (autocannon). */
export async function httpLoad(spec: LoadSpec): Promise<LoadResult> {
  const tally: Tally = { statuses: {}, samples: [], starved: 0 };
  const request = spec.refreshTokens ? rotationRequest(spec, tally) : spec.dpop ? dpopRequest(spec, spec.dpop, tally) : fixedRequest(spec, tally);
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationSeconds,
    timeout: TIMEOUT_SECONDS,
    requests: [request],
  });
  const non200 = Object.entries(tally.statuses).reduce((sum, [status, count]) => sum + (status === '200' ? 0 : count), 0);
  return {
    // Responses over the run's own length: exact for runs of a second or two, where per-second samples are few.
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    statuses: tally.statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpected: non200 + result.errors, // autocannon counts timeouts among errors
    unexpectedSamples: tally.samples,
    starved: tally.starved,
  };
}

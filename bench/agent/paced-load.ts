// HTTP at a fixed offered rate, evenly spaced, for latency below saturation.
// autocannon's rate limit lets each connection send its whole second's
// share at the start of the second, then idle: a burst every second, whose
// queueing is what its p99 then shows. Here request i is due at start +
// i / rate; it goes out on a free keep-alive connection (at most
// `connections`, as autocannon's) or waits for one, and its latency counts
// from when it was due, so a slow server cannot hide its queue (no
// coordinated omission).
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LoadResult, LoadSpec } from '../lib/agent-protocol';

const SAMPLE_LIMIT = 5;
const TIMEOUT_MS = 10_000;

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

export function pacedLoad(spec: LoadSpec & { readonly overallRate: number }): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const total = Math.round(spec.overallRate * spec.durationSeconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const samples: string[] = [];
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let done = 0;
  const started = performance.now();

  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const non200 = Object.entries(statuses).reduce((sum, [status, count]) => sum + (status === '200' ? 0 : count), 0);
      resolve({
        requestsPerSecond: latencies.length / ((performance.now() - started) / 1000),
        total: latencies.length,
        latencyP50Ms: percentile(latencies, 50),
        latencyP99Ms: percentile(latencies, 99),
        statuses,
        errors,
        timeouts,
        unexpected: non200 + errors,
        unexpectedSamples: samples,
        starved: 0,
      });
    };
    const settle = () => {
      if (++done === total) finish();
    };
    const send = (due: number) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers: spec.headers, timeout: TIMEOUT_MS },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            latencies.push(performance.now() - due);
            const status = res.statusCode ?? 0;
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status !== 200 && samples.length < SAMPLE_LIMIT) samples.push(`${status} ${body.slice(0, 300)}`);
            settle();
          });
        },
      );
      req.on('timeout', () => {
        timeouts++;
        req.destroy(new Error('timeout'));
      });
      req.on('error', (error) => {
        errors++;
        if (samples.length < SAMPLE_LIMIT) samples.push(error.message);
        settle();
      });
      req.end(spec.body);
    };
    // Every millisecond or so, send whatever has come due.
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + (sent * 1000) / spec.overallRate <= now) send(started + (sent++ * 1000) / spec.overallRate);
      if (sent < total) setTimeout(tick, 1);
    };
    if (total === 0) finish();
    else tick();
  });
}

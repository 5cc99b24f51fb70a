// Interleaved HTTP rounds: warm-up, then tessera and a baseline take turns,
// the order alternating per round, each run an autocannon run in the agent.
import type { Agent } from './agent-client';
import type { LoadResult, LoadSpec } from './agent-protocol';
import { cpuMicros } from './proc';
import { median } from './stats';
import type { Server } from './tessera';

const LOAD_ALLOWANCE_MS = 30_000; // on top of the run itself

export type Side = 'tessera' | 'baseline';

export interface Plan {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
}

/** The request part of a LoadSpec; the rounds add url, connections and duration. */
export type RequestSpec = Omit<LoadSpec, 'connections' | 'durationSeconds' | 'url'>;

/** A load run and the server's CPU time per answered request over it (undefined without /proc). */
export interface Measured extends LoadResult {
  readonly cpuPerRequestUs: number | undefined;
}

export interface Round {
  readonly tessera: Measured;
  readonly baseline: Measured;
}

export interface Rounds {
  readonly rounds: readonly Round[];
  readonly tesseraRate: number; // median req/s over rounds
  readonly baselineRate: number;
  readonly ratio: number; // median of the per-round ratios
  readonly tesseraCpuUs: number | undefined; // median server CPU µs per request
  readonly baselineCpuUs: number | undefined;
  readonly cpuRatio: number | undefined; // median of per-round baseline/tessera CPU per request
  readonly tesseraP99Ms: number; // median over rounds
  readonly baselineP99Ms: number;
  readonly unexpected: number; // tessera responses other than 200 (and errors), warm-up included
  readonly unexpectedSamples: readonly string[];
  readonly baselineUnexpected: number; // the same for the baseline: a bench bug if not 0
}

/** One autocannon run against `server`, with the server's CPU time read around it. */
export async function runLoad(agent: Agent, server: Server, spec: Omit<LoadSpec, 'url'>): Promise<Measured> {
  const cpuBefore = cpuMicros(server.pid);
  const result = await agent.call('http', { ...spec, url: server.url }, spec.durationSeconds * 1000 + LOAD_ALLOWANCE_MS);
  const cpuAfter = cpuMicros(server.pid);
  const cpu = cpuBefore === undefined || cpuAfter === undefined || result.total === 0 ? undefined : (cpuAfter - cpuBefore) / result.total;
  return { ...result, cpuPerRequestUs: cpu };
}

const medianOf = (values: ReadonlyArray<number | undefined>): number | undefined =>
  values.every((value) => value !== undefined) ? median(values as number[]) : undefined;

export interface Contest {
  readonly id: string;
  readonly targets: Readonly<Record<Side, Server>>;
  /** The requests of one run against one side (may create sessions on it first). */
  request(side: Side): Promise<RequestSpec>;
  /** Fixed offered load (req/s) instead of as fast as the server answers. */
  readonly overallRate?: number;
}

/** Warms both sides up, then runs `plan.rounds` interleaved rounds (the order alternates, so a drift of the machine favours neither). */
export async function measureRounds(agent: Agent, contest: Contest, plan: Plan): Promise<Rounds> {
  const run = async (side: Side, seconds: number) => {
    const request = await contest.request(side);
    const rate = contest.overallRate === undefined ? {} : { overallRate: contest.overallRate };
    return runLoad(agent, contest.targets[side], { ...request, ...rate, connections: plan.connections, durationSeconds: seconds });
  };
  const warmup = { tessera: await run('tessera', plan.warmupSeconds), baseline: await run('baseline', plan.warmupSeconds) };

  const rounds: Round[] = [];
  for (let index = 0; index < plan.rounds; index++) {
    const order: Side[] = index % 2 === 0 ? ['tessera', 'baseline'] : ['baseline', 'tessera'];
    const results: Partial<Record<Side, Measured>> = {};
    for (const side of order) results[side] = await run(side, plan.roundSeconds);
    const { tessera, baseline } = results as Record<Side, Measured>;
    rounds.push({ tessera, baseline });
    process.stdout.write(
      `  ${contest.id} round ${index + 1}/${plan.rounds}: tessera ${Math.round(tessera.requestsPerSecond)} req/s (p99 ${tessera.latencyP99Ms.toFixed(1)} ms), ` +
        `baseline ${Math.round(baseline.requestsPerSecond)} req/s (p99 ${baseline.latencyP99Ms.toFixed(1)} ms)\n`,
    );
  }
  const all = [warmup, ...rounds];
  return {
    rounds,
    tesseraRate: median(rounds.map((round) => round.tessera.requestsPerSecond)),
    baselineRate: median(rounds.map((round) => round.baseline.requestsPerSecond)),
    ratio: median(rounds.map((round) => round.tessera.requestsPerSecond / round.baseline.requestsPerSecond)),
    tesseraCpuUs: medianOf(rounds.map((round) => round.tessera.cpuPerRequestUs)),
    baselineCpuUs: medianOf(rounds.map((round) => round.baseline.cpuPerRequestUs)),
    cpuRatio: medianOf(
      rounds.map(({ tessera, baseline }) =>
        tessera.cpuPerRequestUs === undefined || baseline.cpuPerRequestUs === undefined ? undefined : baseline.cpuPerRequestUs / tessera.cpuPerRequestUs,
      ),
    ),
    tesseraP99Ms: median(rounds.map((round) => round.tessera.latencyP99Ms)),
    baselineP99Ms: median(rounds.map((round) => round.baseline.latencyP99Ms)),
    unexpected: all.reduce((sum, round) => sum + round.tessera.unexpected, 0),
    unexpectedSamples: all.flatMap((round) => round.tessera.unexpectedSamples).slice(0, 5),
    baselineUnexpected: all.reduce((sum, round) => sum + round.baseline.unexpected, 0),
  };
}

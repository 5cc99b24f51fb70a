import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { output, type Children } from './children';
import { cpuMicros } from './cpu';
import type { LoadResult, LoadSpec } from './load-spec';
import { ROOT, type Server } from './servers';
import type { TargetName, Workload } from './workloads';

const LOAD_CORE = 1;
const LOAD_STARTUP_ALLOWANCE_MS = 30_000; // worker start-up and shutdown on top of the run itself

export interface Plan {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
}

/** A load run and the server's CPU time per answered request over it (undefined without /proc). */
export interface Measured extends LoadResult {
  readonly cpuPerRequestUs: number | undefined;
}

export interface Round {
  readonly tessera: Measured;
  readonly baseline: Measured;
}

export interface WorkloadResult {
  readonly workload: Workload;
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

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

let runCount = 0;

/** One autocannon run in a load worker pinned to the load core, with the server's CPU time read around it. */
export async function runLoad(children: Children, dir: string, server: Server, spec: Omit<LoadSpec, 'url'>): Promise<Measured> {
  const specFile = join(dir, `load-${++runCount}.json`);
  writeFileSync(specFile, JSON.stringify({ ...spec, url: server.url }));
  const cpuBefore = cpuMicros(server.pid);
  const child = children.start({ core: LOAD_CORE, command: [process.execPath, '--require', 'tsx/cjs', join(ROOT, 'bench', 'load.ts'), specFile], cwd: ROOT });
  const stdout = await output(child, 'load worker', spec.durationSeconds * 1000 + LOAD_STARTUP_ALLOWANCE_MS);
  const cpuAfter = cpuMicros(server.pid);
  const last = stdout.trim().split('\n').pop();
  if (!last) throw new Error('load worker printed nothing');
  const result = JSON.parse(last) as LoadResult;
  const cpu = cpuBefore === undefined || cpuAfter === undefined || result.total === 0 ? undefined : (cpuAfter - cpuBefore) / result.total;
  return { ...result, cpuPerRequestUs: cpu };
}

export type Targets = Readonly<Record<TargetName, Server>>;

const medianOf = (values: ReadonlyArray<number | undefined>): number | undefined =>
  values.every((value) => value !== undefined) ? median(values as number[]) : undefined;

/**
 * Warms both servers up, then runs `plan.rounds` interleaved rounds (the
 * order alternates, so a drift of the machine does not favour one side).
 */
export async function measureWorkload(children: Children, dir: string, workload: Workload, targets: Targets, plan: Plan): Promise<WorkloadResult> {
  const run = async (target: TargetName, seconds: number) => {
    const request = await workload.request(target, targets[target].url);
    return runLoad(children, dir, targets[target], { ...request, connections: plan.connections, durationSeconds: seconds });
  };
  const warmup = { tessera: await run('tessera', plan.warmupSeconds), baseline: await run('baseline', plan.warmupSeconds) };

  const rounds: Round[] = [];
  for (let index = 0; index < plan.rounds; index++) {
    const order: TargetName[] = index % 2 === 0 ? ['tessera', 'baseline'] : ['baseline', 'tessera'];
    const results: Partial<Record<TargetName, Measured>> = {};
    for (const target of order) results[target] = await run(target, plan.roundSeconds);
    rounds.push({ tessera: results.tessera!, baseline: results.baseline! });
    process.stdout.write(
      `  ${workload.id} round ${index + 1}/${plan.rounds}: tessera ${Math.round(results.tessera!.requestsPerSecond)} req/s, baseline ${Math.round(results.baseline!.requestsPerSecond)} req/s\n`,
    );
  }
  const all = [warmup, ...rounds];
  return {
    workload,
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

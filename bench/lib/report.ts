import { cpus, loadavg } from 'node:os';
import type { Plan, WorkloadResult } from './measure';
import type { Goal } from './workloads';

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** True when the workload met its goal (or has none). */
export function met(result: WorkloadResult): boolean {
  const goal: Goal = result.workload.goal;
  if (!goal) return true;
  return goal.kind === 'ratio' ? result.ratio >= goal.min : result.tesseraRate >= goal.min;
}

function target(result: WorkloadResult): string {
  const goal = result.workload.goal;
  if (!goal) return '—';
  const wanted = goal.kind === 'ratio' ? `ratio ≥ ${goal.min.toFixed(2)}` : `≥ ${rate(goal.min)}`;
  return `${wanted} ${met(result) ? 'met' : '**MISSED**'}`;
}

/** The one summary table: | workload | tessera | baseline | ratio | target |. */
export function summaryTable(results: readonly WorkloadResult[]): string {
  const rows = results.map(
    (r) => `| ${r.workload.title} | ${rate(r.tesseraRate)} | ${rate(r.baselineRate)} | ${r.ratio.toFixed(2)} | ${target(r)} |`,
  );
  return ['| workload | tessera | baseline | ratio | target |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Per-round figures, p99 latencies and unexpected responses, for reading the table with care. */
export function details(results: readonly WorkloadResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`### ${r.workload.title}`, '');
    lines.push(`- rounds, tessera: ${r.rounds.map((round) => Math.round(round.tessera.requestsPerSecond)).join(', ')} req/s`);
    lines.push(`- rounds, baseline: ${r.rounds.map((round) => Math.round(round.baseline.requestsPerSecond)).join(', ')} req/s`);
    if (r.tesseraCpuUs !== undefined && r.baselineCpuUs !== undefined && r.cpuRatio !== undefined) {
      lines.push(
        `- server CPU per request (median of rounds): tessera ${Math.round(r.tesseraCpuUs)} µs, baseline ${Math.round(r.baselineCpuUs)} µs; ` +
          `ratio baseline/tessera ${r.cpuRatio.toFixed(2)} (≈ 1,000,000 / µs req/s per free core: ${rate(1e6 / r.tesseraCpuUs)} vs ${rate(1e6 / r.baselineCpuUs)})`,
      );
    }
    lines.push(`- p99 latency (median of rounds): tessera ${ms(r.tesseraP99Ms)}, baseline ${ms(r.baselineP99Ms)}`);
    lines.push(`- tessera responses other than 200, warm-up included: ${r.unexpected}; baseline: ${r.baselineUnexpected}`);
    for (const sample of r.unexpectedSamples) lines.push(`  - \`${sample.replace(/`/g, "'")}\``);
    lines.push('');
  }
  return lines.join('\n');
}

export interface Environment {
  readonly mode: 'quick' | 'full';
  readonly plan: Plan;
  readonly pinning: string;
  readonly date: Date;
  readonly loadAtStart: number; // 1-minute load average when the bench began
}

/** bench/results.md: the table, the machine and the plan it ran with, then the details. */
export function resultsMarkdown(results: readonly WorkloadResult[], env: Environment): string {
  const cores = cpus();
  return [
    '# tessera bench results',
    '',
    `${env.date.toISOString()} · ${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}) · Node ${process.version} · ${env.pinning}` +
      ` · load average ${env.loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end` +
      ' (other work on the machine skews absolute figures more than ratios)',
    '',
    `Mode ${env.mode}: ${env.plan.connections} connections, warm-up ${env.plan.warmupSeconds} s per server, ` +
      `${env.plan.rounds} interleaved rounds of ${env.plan.roundSeconds} s; req/s are medians over rounds, ratio is the median of per-round ratios. ` +
      'See README.md for how to read them.',
    '',
    summaryTable(results),
    '',
    '## Details',
    '',
    details(results),
  ].join('\n');
}

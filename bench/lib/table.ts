// The one summary table (| workload | tessera | baseline | ratio | target |),
// the details under it, and bench/results.md.

/** One goal of a row and whether this run met it. */
export interface Check {
  readonly label: string; // e.g. "ratio ≥ 0.60", "< 10 ms"
  readonly ok: boolean;
}

export interface Row {
  readonly title: string;
  readonly tessera: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly checks: readonly Check[]; // none: reported without a target
}

/** What one section of the bench (`--only` id) produced. */
export interface Section {
  readonly id: string;
  readonly title: string;
  readonly rows: readonly Row[];
  readonly details: readonly string[]; // markdown lines
  /** Errors that make its figures invalid (non-200s, refused or lost frames): the bench exits 1. */
  readonly problems: readonly string[];
}

export interface Skipped {
  readonly id: string;
  readonly reason: string;
}

const grouped = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const perSecond = (value: number, unit = 'req/s') => `${grouped(value)} ${unit}`;
export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : '—');
export const kib = (bytes: number) => `${grouped(bytes / 1024, 1)} KiB`;
export const mib = (bytes: number) => `${grouped(bytes / 1_048_576, 1)} MiB`;
export const ratio = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '—');

export const ratioAtLeast = (value: number, min: number): Check => ({ label: `ratio ≥ ${min.toFixed(2)}`, ok: value >= min });
export const ratioAtMost = (value: number, max: number): Check => ({ label: `ratio ≤ ${max.toFixed(2)}`, ok: value <= max });
export const rateAtLeast = (value: number, min: number, unit: string): Check => ({ label: `≥ ${grouped(min)} ${unit}`, ok: value >= min });
export const below = (value: number, limit: number, unit: string): Check => ({ label: `< ${grouped(limit)} ${unit}`, ok: value < limit });

export const met = (row: Row) => row.checks.every((check) => check.ok);

function target(row: Row): string {
  if (row.checks.length === 0) return 'report';
  return row.checks.map((check) => `${check.label} ${check.ok ? 'met' : '**MISSED**'}`).join('; ');
}

export function summaryTable(sections: readonly Section[]): string {
  const rows = sections.flatMap((section) => section.rows).map((r) => `| ${r.title} | ${r.tessera} | ${r.baseline} | ${r.ratio} | ${target(r)} |`);
  return ['| workload | tessera | baseline | ratio | target |', '|---|---|---|---|---|', ...rows].join('\n');
}

export function skippedList(skipped: readonly Skipped[]): string {
  return skipped.map((s) => `- skipped \`${s.id}\`: ${s.reason}`).join('\n');
}

export function detailsOf(sections: readonly Section[]): string {
  return sections
    .map((section) => [`### ${section.title}`, '', ...section.details, ...section.problems.map((problem) => `- **invalid:** ${problem}`), ''].join('\n'))
    .join('\n');
}

export interface Environment {
  readonly mode: 'quick' | 'full';
  readonly plan: string; // rounds and durations, in words
  readonly machine: string; // date, cores, Node, pinning, fds
  readonly load: string; // load averages
  readonly took: string;
}

/** bench/results.md: the table, the machine and the plan it ran with, then the details. */
export function resultsMarkdown(sections: readonly Section[], skipped: readonly Skipped[], notes: readonly string[], env: Environment): string {
  return [
    '# tessera bench results',
    '',
    `${env.machine} · ${env.load} (other work on the machine skews absolute figures more than ratios) · took ${env.took}`,
    '',
    `Mode ${env.mode}: ${env.plan} See README.md for how each figure is measured and how to read it.`,
    '',
    summaryTable(sections),
    '',
    ...(skipped.length > 0 ? [skippedList(skipped), ''] : []),
    ...(notes.length > 0 ? [notes.map((note) => `- note: ${note}`).join('\n'), ''] : []),
    '## Details',
    '',
    detailsOf(sections),
  ].join('\n');
}

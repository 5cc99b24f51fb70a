// Sums a V8 .cpuprofile (node --cpu-prof) into self and total time per
// function and self time per module (npm package or project file).
// Usage: npx tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[]; // µs before each sample
  startTime: number;
  endTime: number;
}

const ROOT = resolve(__dirname, '..', '..');

/** A frame's file, relative to the repository when inside it. */
function place(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(`${ROOT}/`) ? relative(ROOT, path) : path;
}

/** `express`, `@scope/pkg`, a project file such as `dist/src/auth/access-tokens.js`, `node:internal/...`, or `(native)`. */
function moduleOf(url: string): string {
  const path = place(url);
  if (!path) return '(native / V8)';
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const [first, second] = path.slice(inModules + 'node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? path);
  }
  return path;
}

const functionKey = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url ? `${place(url)}:${lineNumber + 1}` : ''}`.trim();
};

export interface Summary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: ReadonlyArray<{ key: string; selfMs: number; totalMs: number }>;
  readonly modules: ReadonlyArray<{ key: string; selfMs: number }>;
}

/** Self time per function and module, and inclusive time per function (recursion counted once per sample). */
export function summarize(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const modules = new Map<string, number>();
  let idle = 0;
  let all = 0;
  profile.samples.forEach((id, index) => {
    // A sample stands for the time until the next one.
    const micros = profile.timeDeltas[index + 1] ?? 0;
    const node = byId.get(id)!;
    all += micros;
    if (node.callFrame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    const key = functionKey(node);
    self.set(key, (self.get(key) ?? 0) + micros);
    const module = moduleOf(node.callFrame.url);
    modules.set(module, (modules.get(module) ?? 0) + micros);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frameKey = functionKey(byId.get(at)!);
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      total.set(frameKey, (total.get(frameKey) ?? 0) + micros);
    }
  });
  return {
    totalMs: all / 1000,
    idleMs: idle / 1000,
    functions: [...total].map(([key, micros]) => ({ key, selfMs: (self.get(key) ?? 0) / 1000, totalMs: micros / 1000 })).sort((a, b) => b.selfMs - a.selfMs),
    modules: [...modules].map(([key, micros]) => ({ key, selfMs: micros / 1000 })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** A plain-text report of the top `rows` functions and modules by self time, in percent of busy time. */
export function report(path: string, rows = 25): string {
  const summary = summarize(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
  const busy = summary.totalMs - summary.idleMs;
  const pct = (value: number) => `${((100 * value) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`profile ${summary.totalMs.toFixed(0)} ms, busy ${busy.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`, '', 'self    total   function'];
  for (const f of summary.functions.slice(0, rows)) lines.push(`${pct(f.selfMs)}  ${pct(f.totalMs)}  ${f.key}`);
  lines.push('', 'self    module');
  for (const m of summary.modules.slice(0, rows)) lines.push(`${pct(m.selfMs)}  ${m.key}`);
  // Inclusive time of the project's own functions: which step of a request costs what.
  const own = summary.functions.filter((f) => / (dist\/)?src\//.test(f.key)).sort((a, b) => b.totalMs - a.totalMs);
  lines.push('', 'total   project function');
  for (const f of own.slice(0, rows)) lines.push(`${pct(f.totalMs)}  ${f.key}`);
  return lines.join('\n');
}

if (require.main === module) {
  const [path, rows] = process.argv.slice(2);
  if (!path) {
    console.error('usage: tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [rows]');
    process.exitCode = 2;
  } else {
    console.log(report(path, rows === undefined ? undefined : Number(rows)));
  }
}

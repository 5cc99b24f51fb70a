// `npm run bench [-- --quick] [-- --only=<ids>] [-- --profile] [-- --binary]`
// tessera (built once, run from dist/) and its baselines, each pinned to
// core 0, measured by one load agent pinned to core 1, in interleaved rounds.
// Prints one table; a full run also writes bench/results.md. See bench/README.md.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from './lib/agent-client';
import { addBenchClient, createTasks, getJson, passwordGrant, signup } from './lib/api';
import { Children, fdReport, pinning } from './lib/children';
import { Context, type Mode } from './lib/context';
import type { Plan } from './lib/http-rounds';
import { ROOT } from './lib/paths';
import { detailsOf, met, resultsMarkdown, skippedList, summaryTable, type Section, type Skipped } from './lib/table';
import { buildTessera, sqliteUrl, startTessera } from './lib/tessera';
import { binarySection } from './suites/binary';
import { clusterSection } from './suites/cluster';
import { codeFlowSection } from './suites/code-flow';
import { httpSections } from './suites/http';
import { scalingSection } from './suites/scaling';
import type { SectionSpec } from './suites/section';
import { messagePathSection } from './suites/message-path';
import { socketSections } from './suites/sockets';
import { dpopSections } from './suites/dpop';
import { report as profileReport } from './tools/cpuprofile-top';

const CONNECTIONS = 50;
const TASKS = 20; // GET /tasks returns this many rows
const PLANS: Record<Mode, Plan> = {
  quick: { connections: CONNECTIONS, warmupSeconds: 1, rounds: 3, roundSeconds: 1 },
  full: { connections: CONNECTIONS, warmupSeconds: 3, rounds: 5, roundSeconds: 4 },
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' }, // comma-separated section ids
    profile: { type: 'boolean', default: false }, // run tessera under --cpu-prof and print its hot spots
    binary: { type: 'boolean', default: false }, // build dist/tessera first if missing, and measure it
  },
});

// In this order: the scaling section grows data, so it runs last.
const SECTIONS: SectionSpec[] = [...httpSections, ...dpopSections, codeFlowSection, ...socketSections, messagePathSection, binarySection(values.binary), clusterSection, scalingSection];
const say = (line: string) => process.stdout.write(`${line}\n`);

function selectedSections(): SectionSpec[] {
  const only = values.only?.split(',').map((id) => id.trim());
  if (!only) return SECTIONS;
  const unknown = only.filter((id) => !SECTIONS.some((section) => section.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(', ')} (known: ${SECTIONS.map((s) => s.id).join(', ')})`);
  return SECTIONS.filter((section) => only.includes(section.id));
}

async function setUp(children: Children, dir: string, mode: Mode): Promise<Context> {
  say('building tessera (tsc -p tsconfig.build.json)…');
  await buildTessera();
  const databaseFile = join(dir, 'bench.db');
  const databaseUrl = sqliteUrl(dir);
  const client = await addBenchClient(dir, databaseUrl);
  const tessera = await startTessera(children, { dir, databaseUrl, cpuProfile: values.profile });
  await signup(tessera.url);
  const login = await passwordGrant(tessera.url);
  await createTasks(tessera.url, login.access_token, TASKS);
  const me = (await getJson(tessera.url, '/me', login.access_token)) as object;
  const tasks = await getJson(tessera.url, '/tasks', login.access_token);
  const agent = Agent.start(children);
  say(`tessera pid ${tessera.pid} at ${tessera.url}; ${pinning}; ${fdReport}`);
  return new Context({ mode, plan: PLANS[mode], dir, children, agent, tessera, databaseUrl, databaseFile, login, client, me, tasks });
}

async function bench(children: Children, dir: string): Promise<{ sections: Section[]; skipped: Skipped[] }> {
  const mode: Mode = values.quick ? 'quick' : 'full';
  const selected = selectedSections();
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  say(`load average ${loadAtStart.toFixed(2)}${loadAtStart > 0.5 ? ': other work is running, absolute figures will be low and noisy' : ''}`);
  const context = await setUp(children, dir, mode);
  say(`  (set-up: ${Math.round((Date.now() - started) / 1000)} s)`);

  const sections: Section[] = [];
  const skipped: Skipped[] = [];
  for (const spec of selected) {
    const reason = await spec.skip?.(context);
    if (reason !== undefined) {
      say(`skipping ${spec.id}: ${reason}`);
      skipped.push({ id: spec.id, reason });
      continue;
    }
    const sectionStarted = Date.now();
    sections.push(await spec.run(context));
    say(`  (${spec.id}: ${Math.round((Date.now() - sectionStarted) / 1000)} s)`);
  }

  say(`\n${summaryTable(sections)}\n`);
  if (skipped.length > 0) say(`${skippedList(skipped)}\n`);
  say(detailsOf(sections));
  const took = `${Math.round((Date.now() - started) / 1000)} s`;
  say(`took ${took}`);
  // Only a full run replaces the recorded results: a quick pass is a smoke test.
  if (mode === 'full' && !values.profile && !values.only) {
    const cores = cpus();
    const plan = PLANS[mode];
    const markdown = resultsMarkdown(sections, skipped, context.notes, {
      mode,
      plan: `${plan.connections} HTTP connections; warm-up ${plan.warmupSeconds} s per side, then ${plan.rounds} interleaved rounds of ${plan.roundSeconds} s; figures are medians over rounds, ratios medians of per-round ratios.`,
      machine: `${new Date().toISOString()} · ${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}) · Node ${process.version} · ${pinning} · ${fdReport}`,
      load: `load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`,
      took,
    });
    writeFileSync(join(ROOT, 'bench', 'results.md'), `${markdown}\n`);
    say('written to bench/results.md');
  }
  return { sections, skipped };
}

/** After tessera exited (it writes the profile on exit): its hot spots. */
function printProfile(dir: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('tessera wrote no CPU profile');
  say(`\nCPU profile of tessera (whole run, start-up and seeding included):\n${profileReport(join(dir, file))}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const children = new Children();
  const interrupted = () => {
    void children.stopAll().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { sections } = await bench(children, dir);
    await children.stopAll();
    if (values.profile) printProfile(dir);
    const problems = sections.flatMap((section) => section.problems);
    if (problems.length > 0) {
      say(`\nthe figures are not valid:\n${problems.map((p) => `- ${p}`).join('\n')}`);
      process.exitCode = 1;
    }
    const missed = sections.flatMap((section) => section.rows.filter((row) => !met(row)).map((row) => row.title));
    if (missed.length > 0) say(`\ntargets missed (reported, not failed): ${missed.join('; ')}`);
  } finally {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});

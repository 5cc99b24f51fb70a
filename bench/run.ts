// `npm run bench [-- --quick] [-- --only=me,refresh] [-- --profile]`
// tessera (built once, run from dist/) and a bare Express peer, each pinned to
// core 0, measured by autocannon workers pinned to core 1, in interleaved
// rounds. Prints one table and writes bench/results.md. See bench/README.md.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Children, pinning } from './lib/children';
import { measureWorkload, type Plan, type WorkloadResult } from './lib/measure';
import { details, met, resultsMarkdown, summaryTable } from './lib/report';
import { addBenchClient, clientCredentialsGrant, getMe, passwordGrant, signupBenchUser } from './lib/seed';
import { buildTessera, ROOT, startBareExpress, startTessera } from './lib/servers';
import { workloads } from './lib/workloads';
import { report as profileReport } from './tools/cpuprofile-top';

const CONNECTIONS = 50;
const PLANS: Record<'quick' | 'full', Plan> = {
  quick: { connections: CONNECTIONS, warmupSeconds: 1, rounds: 3, roundSeconds: 2 }, // ≈ 1 min
  full: { connections: CONNECTIONS, warmupSeconds: 3, rounds: 5, roundSeconds: 5 }, // ≈ 3–4 min
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' }, // comma-separated workload ids: me, refresh, client_credentials
    profile: { type: 'boolean', default: false }, // run tessera under --cpu-prof and print its hot spots
  },
});

async function bench(children: Children, dir: string): Promise<WorkloadResult[]> {
  const mode = values.quick ? 'quick' : 'full';
  const plan = PLANS[mode];
  const loadAtStart = loadavg()[0]!;
  process.stdout.write(`load average ${loadAtStart.toFixed(2)}${loadAtStart > 0.5 ? ': other work is running, absolute figures will be low and noisy' : ''}\n`);
  process.stdout.write('building tessera (tsc -p tsconfig.build.json)…\n');
  await buildTessera();

  const client = await addBenchClient(dir);
  const tessera = await startTessera(children, { dir, cpuProfile: values.profile });
  await signupBenchUser(tessera.url);
  const login = await passwordGrant(tessera.url);
  const me = await getMe(tessera.url, login.access_token);
  const machine = await clientCredentialsGrant(tessera.url, client);
  const baseline = await startBareExpress(children, dir, {
    me,
    tokens: { refresh_token: login, client_credentials: machine },
  });
  process.stdout.write(`tessera pid ${tessera.pid} at ${tessera.url}, bare Express pid ${baseline.pid} at ${baseline.url}; ${pinning}\n`);

  const only = values.only?.split(',').map((id) => id.trim());
  const selected = workloads({ accessToken: login.access_token, client, connections: plan.connections }).filter(
    (workload) => !only || only.includes(workload.id),
  );
  if (selected.length === 0) throw new Error(`--only matched no workload (me, refresh, client_credentials)`);

  const results: WorkloadResult[] = [];
  for (const workload of selected) {
    process.stdout.write(`${workload.title}: warm-up ${plan.warmupSeconds} s each, ${plan.rounds} rounds of ${plan.roundSeconds} s\n`);
    results.push(await measureWorkload(children, dir, workload, { tessera, baseline }, plan));
  }

  process.stdout.write(`\n${summaryTable(results)}\n\n${details(results)}`);
  if (!values.profile && !only) {
    const markdown = resultsMarkdown(results, { mode, plan, pinning, date: new Date(), loadAtStart });
    writeFileSync(join(ROOT, 'bench', 'results.md'), `${markdown}\n`);
    process.stdout.write('written to bench/results.md\n');
  }
  return results;
}

/** After tessera exited (it writes the profile on exit): its hot spots. */
function printProfile(dir: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('tessera wrote no CPU profile');
  process.stdout.write(`\nCPU profile of tessera (whole run, start-up and seeding included):\n${profileReport(join(dir, file))}\n`);
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
    const results = await bench(children, dir);
    await children.stopAll();
    if (values.profile) printProfile(dir);
    const unexpected = results.reduce((sum, r) => sum + r.unexpected + r.baselineUnexpected, 0);
    if (unexpected > 0) {
      process.stdout.write(`\n${unexpected} responses other than 200 (see details): the figures are not valid\n`);
      process.exitCode = 1;
    }
    const missed = results.filter((r) => !met(r)).map((r) => r.workload.id);
    if (missed.length > 0) process.stdout.write(`\ntargets missed: ${missed.join(', ')}\n`);
  } finally {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});

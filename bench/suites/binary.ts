// The single executable (dist/tessera, `npm run build:binary`) beside
// `node bin/tessera.js` from dist/: time from spawn to the first 200 on
// /healthz, and resident memory once idle.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../lib/children';
import type { Context } from '../lib/context';
import { interleave } from '../lib/interleave';
import { ROOT } from '../lib/paths';
import { rssBytes } from '../lib/proc';
import { median } from '../lib/stats';
import { mib, ms, ratio, type Section } from '../lib/table';
import { SERVER_CORE, sqliteUrl, tesseraEnv } from '../lib/tessera';
import type { SectionSpec } from './section';

const BINARY = join(ROOT, 'dist', 'tessera');
const BUILD_DEADLINE_MS = 600_000;
const START_DEADLINE_MS = 20_000;
const POLL_MS = 5; // the resolution of the start-up time
const IDLE_MS = 1_000; // after the first 200, before RSS is read

type Side = 'binary' | 'node';

interface Start {
  readonly ms: number;
  readonly rss: number;
}

/** `npm run build:binary`, its output (postject's many harmless warnings) to a log shown only if it fails. */
async function buildBinary(context: Context): Promise<void> {
  context.say('building dist/tessera (npm run build:binary)…');
  const log = join(context.setup.dir, 'build-binary.log');
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'scripts', 'build-binary.ts')], { cwd: ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_DEADLINE_MS);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (code !== 0) throw new Error(`npm run build:binary failed (${code ?? 'killed'}):\n${readFileSync(log, 'utf8').slice(-2000)}`);
}

/** Starts `command serve` on the section's database, times the first 200 on /healthz, reads RSS after a second, stops it. */
async function timedStart(context: Context, command: readonly string[], name: string): Promise<Start> {
  const { children, dir } = context.setup;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/healthz`;
  const started = performance.now();
  const child = children.start({ core: SERVER_CORE, command: [...command, 'serve'], env: tesseraEnv(sqliteUrl(dir, 'binary.db'), port), cwd: dir, logFile: join(dir, `${name}.log`) });
  try {
    const deadline = started + START_DEADLINE_MS;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before answering /healthz`);
      const healthy = await fetch(url).then(
        (res) => res.status === 200,
        () => false,
      );
      if (healthy) {
        const elapsed = performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        return { ms: elapsed, rss: rssBytes(child.pid!) ?? Number.NaN };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`${name} did not answer /healthz within ${START_DEADLINE_MS / 1000} s`);
  } finally {
    await children.stop(child);
  }
}

export function binarySection(build: boolean): SectionSpec {
  return {
    id: 'binary',
    title: 'single executable (dist/tessera) vs node bin/tessera.js',
    skip(context) {
      if (context.mode === 'quick') return '--quick does not measure start-up (full mode does, when dist/tessera exists or with --binary)';
      if (!build && !existsSync(BINARY)) return 'dist/tessera does not exist: pass --binary to build it (npm run build:binary) and measure it';
      return undefined;
    },
    async run(context): Promise<Section> {
      if (build) await buildBinary(context);
      const { plan } = context.setup;
      const commands: Record<Side, readonly string[]> = { binary: [BINARY], node: [process.execPath, join(ROOT, 'bin', 'tessera.js')] };
      context.say(`binary: start-up to the first 200 on /healthz and RSS ${IDLE_MS / 1000} s later, ${plan.rounds} rounds (the warm-up start creates the database and keys)`);
      const rounds = await interleave<Side, Start>(
        ['binary', 'node'],
        plan.rounds,
        (side) => timedStart(context, commands[side], `start-${side}`),
        (round, r) => context.say(`  binary round ${round}/${plan.rounds}: dist/tessera ${ms(r.binary.ms)} (${mib(r.binary.rss)}), node ${ms(r.node.ms)} (${mib(r.node.rss)})`),
      );
      const startMs = (side: Side) => median(rounds.map((r) => r[side].ms));
      const rss = (side: Side) => median(rounds.map((r) => r[side].rss));
      return {
        id: 'binary',
        title: this.title,
        rows: [
          { title: 'start-up to first 200 on /healthz: dist/tessera vs node bin/tessera.js', tessera: ms(startMs('binary')), baseline: ms(startMs('node')), ratio: ratio(median(rounds.map((r) => r.binary.ms / r.node.ms))), checks: [] },
          { title: 'idle RSS after start: dist/tessera vs node bin/tessera.js', tessera: mib(rss('binary')), baseline: mib(rss('node')), ratio: ratio(median(rounds.map((r) => r.binary.rss / r.node.rss))), checks: [] },
        ],
        details: [
          `- a start is timed from spawn to the first 200 of GET /healthz (polled every ${POLL_MS} ms), on an existing SQLite database; RSS is VmRSS ${IDLE_MS / 1000} s later`,
          `- rounds, ms: dist/tessera ${rounds.map((r) => r.binary.ms.toFixed(0)).join(', ')}; node ${rounds.map((r) => r.node.ms.toFixed(0)).join(', ')}`,
          '',
        ],
        problems: [],
      };
    },
  };
}

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, output, waitForHealth, type Children } from './children';

export const ROOT = resolve(__dirname, '..', '..');
const SERVER_CORE = 0;
const BUILD_DEADLINE_MS = 120_000;
const CLI_DEADLINE_MS = 30_000;

export interface Server {
  readonly url: string;
  readonly pid: number;
}

export interface TesseraOptions {
  readonly dir: string; // temp dir: database, logs, profiles
  readonly cpuProfile?: boolean; // run under --cpu-prof, profile written to dir on exit
}

/**
 * Compiles src/ once (`tsc -p tsconfig.build.json`, the server part of `npm run build`)
 * so the server starts from plain JS. tsc emits even with type errors; those
 * are reported and the run goes on, since types do not change the JS (the
 * tree may be mid-edit). Returns the number of error lines.
 */
export async function buildTessera(): Promise<number> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await output(child, 'npm run build (tsc)', BUILD_DEADLINE_MS);
    return 0;
  } catch (error) {
    const errors = String(error).split('\n').filter((line) => line.includes('error TS'));
    if (errors.length === 0) throw error;
    process.stdout.write(`warning: tsc found ${errors.length} type errors (JS emitted anyway), e.g. ${errors[0]!.trim()}\n`);
    return errors.length;
  }
}

/** The environment every tessera process of the bench gets (SPEC §1 variables). */
export function tesseraEnv(dir: string, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
    RATE_LIMITS: 'off',
    LOG_LEVEL: 'warn',
    PASSWORD_HASH_COST: '10', // scrypt N=2^10: seeding sessions is not what is measured
    ACCESS_TOKEN_TTL: '3600', // outlives the longest run
    NODE_ENV: 'production',
  };
}

/** Runs one `tessera` CLI command against the bench database and returns its stdout. */
export async function tesseraCli(dir: string, args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'tessera.js'), ...args], {
    cwd: dir, // no stray .env from the repo
    env: { ...process.env, ...tesseraEnv(dir, 0) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return output(child, `tessera ${args.join(' ')}`, CLI_DEADLINE_MS);
}

/** `tessera serve` from the build, pinned to the server core; resolves once /healthz answers. */
export async function startTessera(children: Children, options: TesseraOptions): Promise<Server> {
  const port = await freePort();
  const logFile = join(options.dir, 'tessera.log');
  const profiling = options.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${options.dir}`] : [];
  const child = children.start({
    core: SERVER_CORE,
    command: [process.execPath, ...profiling, join(ROOT, 'bin', 'tessera.js'), 'serve'],
    env: tesseraEnv(options.dir, port),
    cwd: options.dir,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`, child, 'tessera', logFile);
  return { url, pid: child.pid! };
}

export interface BareBodies {
  readonly me: object;
  readonly tokens: Readonly<Record<string, object>>; // by grant_type
}

/** The bare Express peer, pinned to the server core, answering with tessera's own bodies. */
export async function startBareExpress(children: Children, dir: string, bodies: BareBodies): Promise<Server> {
  const port = await freePort();
  const logFile = join(dir, 'bare-express.log');
  const child = children.start({
    core: SERVER_CORE,
    command: [process.execPath, '--require', 'tsx/cjs', join(ROOT, 'bench', 'peers', 'bare-express.ts')],
    env: { PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', ME_BODY: JSON.stringify(bodies.me), TOKEN_BODIES: JSON.stringify(bodies.tokens) },
    cwd: ROOT,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`, child, 'bare Express', logFile);
  return { url, pid: child.pid! };
}

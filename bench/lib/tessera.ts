// Building and starting tessera for the bench, configured through its own
// environment variables (SPEC §1, src/config.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, output, waitForHealth, type Children } from './children';
import { ROOT } from './paths';

export const SERVER_CORE = 0;
const BUILD_DEADLINE_MS = 180_000;
const CLI_DEADLINE_MS = 30_000;
/** One issuer for every tessera process of the bench, whatever its port, so they all accept the same tokens. */
const BENCH_ISSUER = 'http://tessera.bench';
/** scrypt N = 2^10 for every password: seeding is not what is measured, and the password grant's peer hashes at the same cost. */
export const BENCH_HASH_COST = 10;

export interface Server {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
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

export const sqliteUrl = (dir: string, file = 'bench.db') => `sqlite:${join(dir, file)}`;

/**
 * The environment of every tessera process of the bench. Limits that would
 * refuse the load itself are lifted: RATE_LIMITS=off (upgrade attempts per
 * IP included), and the two socket limits it leaves on (sockets per user,
 * frames per second per socket) raised far beyond what the bench opens.
 */
export function tesseraEnv(databaseUrl: string, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: BENCH_ISSUER,
    DATABASE_URL: databaseUrl,
    RATE_LIMITS: 'off',
    WS_MAX_CONNECTIONS_PER_USER: '1000000',
    WS_FRAMES_PER_SECOND: '1000000',
    LOG_LEVEL: 'warn',
    PASSWORD_HASH_COST: String(BENCH_HASH_COST),
    ACCESS_TOKEN_TTL: '3600', // outlives the longest run
    NODE_ENV: 'production',
  };
}

/** Runs one `tessera` CLI command against `databaseUrl` and returns its stdout. */
export async function tesseraCli(dir: string, databaseUrl: string, args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'tessera.js'), ...args], {
    cwd: dir, // no stray .env from the repo
    env: { ...process.env, ...tesseraEnv(databaseUrl, 0) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return output(child, `tessera ${args.join(' ')}`, CLI_DEADLINE_MS);
}

export interface TesseraOptions {
  readonly dir: string; // working directory: logs, profiles
  readonly databaseUrl: string;
  readonly name?: string; // for the log file and messages
  readonly env?: Readonly<Record<string, string>>; // on top of tesseraEnv
  readonly cpuProfile?: boolean; // run under --cpu-prof, profile written to dir on exit
}

/** `node bin/tessera.js serve` (the build in dist/), pinned to the server core; resolves once /healthz answers. */
export async function startTessera(children: Children, options: TesseraOptions): Promise<Server> {
  const port = await freePort();
  const name = options.name ?? 'tessera';
  const logFile = join(options.dir, `${name.replace(/\W+/g, '-')}.log`);
  const profiling = options.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${options.dir}`] : [];
  const child = children.start({
    core: SERVER_CORE,
    command: [process.execPath, ...profiling, join(ROOT, 'bin', 'tessera.js'), 'serve'],
    env: { ...tesseraEnv(options.databaseUrl, port), ...options.env },
    cwd: options.dir,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`, child, name, logFile);
  return { url, port, pid: child.pid!, child };
}

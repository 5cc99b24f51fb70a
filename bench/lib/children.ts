import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const KILL_GRACE_MS = 3_000;
const HEALTH_DEADLINE_MS = 20_000;
const HEALTH_POLL_MS = 100;

const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/** Whether processes get pinned (taskset exists); reported with the results. */
export const pinning = hasTaskset ? 'taskset: servers on core 0, load on core 1' : 'not pinned (taskset not found)';

function readFdLimits(): { soft: number; hard: number } {
  const [soft, hard] = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().split('\n');
  const parse = (value: string | undefined) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value) || 1024);
  return { soft: parse(soft), hard: parse(hard) };
}

const fds = readFdLimits();
/** Open files each child may have: the soft limit raised to the hard one (10,000 sockets need as many descriptors). */
export const childFdLimit = Math.min(fds.hard, 1_048_576);
/** `ulimit -n` as found and as the children get it; reported with the results. */
export const fdReport = `ulimit -n ${fds.soft} (hard ${Number.isFinite(fds.hard) ? fds.hard : 'unlimited'}), children get ${childFdLimit}`;
// Raises the child's soft limit before it runs; only when it is below what the hard limit allows.
const raiseFds = childFdLimit > fds.soft ? ['sh', '-c', 'ulimit -n "$0" && exec "$@"', String(childFdLimit)] : [];

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface StartOptions {
  readonly core: number;
  readonly command: readonly string[]; // argv, the executable first
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly logFile?: string; // stdout and stderr go here; otherwise stdout is piped and stderr inherited
  readonly stdin?: boolean; // a pipe to write to (the load agent's commands); otherwise ignored
}

/** Every child the bench started; `stopAll` ends each one, by its own pid. */
export class Children {
  private readonly running = new Set<ChildProcess>();

  /** Spawns a process pinned to `core` when taskset exists. */
  start(options: StartOptions): ChildProcess {
    const [executable, ...args] = options.command;
    if (!executable) throw new Error('empty command');
    const argv = [...raiseFds, ...(hasTaskset ? ['taskset', '-c', String(options.core)] : []), executable, ...args];
    const log = options.logFile === undefined ? undefined : openSync(options.logFile, 'a');
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', ...(log === undefined ? (['pipe', 'inherit'] as const) : [log, log])],
    });
    if (log !== undefined) closeSync(log);
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    // A child that could not be spawned never exits; without a listener its error would end the bench before cleanup.
    child.on('error', (error) => {
      this.running.delete(child);
      process.stderr.write(`could not run ${argv.join(' ')}: ${error.message}\n`);
    });
    return child;
  }

  /** SIGTERM, then SIGKILL after a grace period, for every child still running. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((child) => stop(child)));
  }

  /** The same for one child. */
  stop(child: ChildProcess): Promise<void> {
    return stop(child);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  await done;
  clearTimeout(timer);
}

/** Collects a child's stdout and resolves with it when the child exits 0 (rejects otherwise, or after `deadlineMs`). */
export function output(child: ChildProcess, what: string, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${deadlineMs / 1000} s`));
    }, deadlineMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stdout.slice(-2000)}`));
    });
  });
}

/** Polls `url` until it answers 200; fails early when the child exits, or after a deadline. */
export async function waitForHealth(url: string, child: ChildProcess, what: string, logFile?: string): Promise<void> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  const logTail = () => (logFile === undefined ? '' : `\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`${what} exited before it was healthy${logTail()}`);
    const healthy = await fetch(url).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  throw new Error(`${what} was not healthy within ${HEALTH_DEADLINE_MS / 1000} s${logTail()}`);
}

import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { exitOf, spawnCli } from '../cli/cli-process';

const START_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3; // a free port can be taken by someone else between choosing and binding it
const HEALTH_POLL_MS = 50;
const STOP_TIMEOUT_MS = 15_000; // SPEC §7: exits within 10 s of SIGTERM

const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** One JSON log line of the server. */
export type LogLine = Record<string, unknown>;

/** A port that was free a moment ago on loopback. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * `tessera serve` as a real child process on 127.0.0.1 (started through the
 * CLI helper, so it migrates, loads keys and listens exactly as in
 * production), with its stdout JSON log lines collected. Readiness is
 * `/healthz` answering, so it works at any LOG_LEVEL.
 */
export class ChildServer {
  readonly logLines: LogLine[] = [];
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logLines.push(JSON.parse(line) as LogLine);
        } catch {
          this.logLines.push({ level: 'unparsed', msg: line });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    child.stdin!.end();
  }

  /** Starts `tessera serve` in `cwd` with `env` (PORT and HOST are chosen here); resolves once it answers /healthz. */
  static async start(env: Record<string, string>, cwd: string): Promise<ChildServer> {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const server = new ChildServer(spawnCli(['serve'], cwd, { ...env, PORT: String(port), HOST: '127.0.0.1' }), `http://127.0.0.1:${port}`);
      if (await server.waitUntilHealthy()) return server;
      const code = await server.stop();
      if (!server.stderr.includes('EADDRINUSE') || attempt >= START_ATTEMPTS) {
        throw new Error(`tessera serve did not become healthy (exit ${code}): ${server.stderr.trim()}`);
      }
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Log lines at level error or fatal. */
  get errorLines(): LogLine[] {
    return this.logLines.filter((line) => line.level === 'error' || line.level === 'fatal');
  }

  /** Resident set size in bytes, from /proc/<pid>/status (Linux). */
  rss(): number {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** CPU seconds (user + system) the process has used, from /proc/<pid>/stat (Linux). */
  cpuSeconds(): number {
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }

  /** Open file descriptors (files, sockets, pipes), from /proc/<pid>/fd (Linux). */
  openFds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** kill -9: no shutdown code runs, in-flight requests and transactions are cut where they are. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, the graceful stop; resolves with the exit code (SIGKILLs after the deadline). */
  async stop(): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    return exitOf(this.child, STOP_TIMEOUT_MS).catch(() => this.exited);
  }

  private async waitUntilHealthy(): Promise<boolean> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (this.running && Date.now() < deadline) {
      if (await healthy(this.url)) return true;
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
    return false;
  }
}

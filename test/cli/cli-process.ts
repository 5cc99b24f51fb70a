import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import supertest from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTessera } from '../../src/tessera';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = require.resolve('tsx/cjs', { paths: [ROOT] });
export const CLI_TIMEOUT_MS = 15_000;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Starts `tessera <args>` as a child process in `cwd`, with only the given
 * environment (plus PATH and TMPDIR), so nothing of the test runner's
 * environment leaks into the configuration under test.
 */
export function spawnCli(args: readonly string[], cwd: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--require', TSX, MAIN, ...args], { cwd, env: childEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
}

function childEnvironment(env: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(['PATH', 'TMPDIR'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
  return { ...inherited, ...env };
}

/**
 * Like spawnCli, but on a pseudo-terminal of its own (util-linux `script`),
 * as at an operator's shell: what the child writes and the terminal echoes
 * comes out on stdout, and stdin is what is typed. `args` must not need quoting.
 */
export function spawnCliOnTerminal(args: readonly string[], cwd: string, env: Record<string, string>): ChildProcess {
  const command = [process.execPath, '--require', TSX, MAIN, ...args].join(' ');
  return spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], { cwd, env: childEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Everything `child` has written to stdout so far, and a wait (bounded by `timeoutMs`) for a text to appear in it. */
export function screenOf(child: ChildProcess): { text: () => string; waitFor: (text: string, timeoutMs?: number) => Promise<void> } {
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    for (const check of waiters) check();
  });
  const waitFor = (text: string, timeoutMs = CLI_TIMEOUT_MS) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${JSON.stringify(text)} on the screen within ${timeoutMs} ms: ${JSON.stringify(screen)}`));
      }, timeoutMs);
      const check = () => {
        if (!screen.includes(text)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { text: () => screen, waitFor };
}

/** Resolves when `child` exits, with its code; kills it and rejects after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs = CLI_TIMEOUT_MS): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera ${child.spawnargs.slice(4).join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

/** Writes `input` (if any) to a spawned child's stdin, and resolves with its exit code and output once it exits (see exitOf). */
export async function completion(child: ChildProcess, input = '', timeoutMs = CLI_TIMEOUT_MS): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(input);
  const code = await exitOf(child, timeoutMs);
  return { code, stdout, stderr };
}

/** A fresh working directory and SQLite database for CLI runs, and servers on the same database. */
export class CliWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  readonly databaseFile = join(this.dir, 't.db');
  readonly databaseUrl = `sqlite:${this.databaseFile}`;
  readonly env: Record<string, string> = { DATABASE_URL: this.databaseUrl, PASSWORD_HASH_COST: '10', LOG_LEVEL: 'silent' };
  private readonly cleanups: Array<() => Promise<void>> = [];

  /** Runs `tessera <args>` to completion, writing `input` (if any) to its stdin. */
  run(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return completion(spawnCli(args, this.dir, { ...this.env, ...options.env }), options.input);
  }

  /** Runs `tessera <args>` and asserts it succeeded; returns its stdout. */
  async ok(args: readonly string[], input?: string): Promise<string> {
    const result = await this.run(args, { input });
    if (result.code !== 0) throw new Error(`tessera ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  /** A tessera in this process on the workspace's database, listening on loopback. */
  async startServer(): Promise<ReturnType<typeof supertest>> {
    const config = loadConfig({ ...this.env, PORT: '0' });
    const tessera = await createTessera(config, { logger: createLogger(config.logLevel) });
    const port = await tessera.listen(0, '127.0.0.1');
    this.cleanups.push(() => tessera.close());
    return supertest(`http://127.0.0.1:${port}`);
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fresh workspace and a server on its database; a workspace whose server failed to start is closed again. */
export async function startWorkspaceWithServer(): Promise<{ cli: CliWorkspace; server: ReturnType<typeof supertest> }> {
  const cli = new CliWorkspace();
  try {
    return { cli, server: await cli.startServer() };
  } catch (error) {
    await cli.close();
    throw error;
  }
}

/** A password grant for the built-in client. */
export function passwordGrant(server: ReturnType<typeof supertest>, username: string, password: string) {
  return server.post('/token').type('form').send({ grant_type: 'password', username, password });
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Resolves with the first JSON log line of `child` that has `msg`; rejects on exit or after the timeout. */
export function logLine(child: ChildProcess, msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    const onData = (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseJson(line);
        if (entry?.msg === msg) return done(() => resolve(entry));
      }
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`tessera serve exited (${code}) before logging "${msg}"`)));
    const timer = setTimeout(() => done(() => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms`))), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}

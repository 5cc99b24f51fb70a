import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Answer, CommandName, Commands } from './agent-protocol';
import type { Children } from './children';
import { ROOT } from './paths';

export const LOAD_CORE = 1;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** The orchestrator's handle on the load agent (bench/agent.ts), pinned to the load core. */
export class Agent {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.answer(line));
    child.once('exit', (code, signal) => {
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`the load agent exited (${signal ?? `exit ${code}`}) before answering command ${id}`));
      }
      this.pending.clear();
    });
  }

  static start(children: Children): Agent {
    return new Agent(
      children.start({ core: LOAD_CORE, command: [process.execPath, '--require', 'tsx/cjs', join(ROOT, 'bench', 'agent.ts')], cwd: ROOT, stdin: true }),
    );
  }

  /** Runs one command; the agent is killed (and the call rejected) if it does not answer within `deadlineMs`. */
  call<C extends CommandName>(command: C, args: Commands[C]['args'], deadlineMs: number): Promise<Commands[C]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`the load agent did not finish ${command} within ${Math.round(deadlineMs / 1000)} s`));
      }, deadlineMs);
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, timer });
      this.child.stdin!.write(`${JSON.stringify({ id, command, args })}\n`);
    });
  }

  private answer(line: string): void {
    const answer = JSON.parse(line) as Answer;
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    clearTimeout(waiting.timer);
    if (answer.ok) waiting.resolve(answer.result);
    else waiting.reject(new Error(`load agent: ${answer.error}`));
  }
}

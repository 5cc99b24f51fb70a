// The load agent: one long-lived process pinned to the load core (run.ts
// starts it with taskset), so the load generator never shares a core with
// the server it measures and is started once, not once per run. It reads one
// command per line on stdin and answers one JSON line each on stdout, in
// order. See lib/agent-protocol.ts.
import { createInterface } from 'node:readline';
import type { Answer, CommandName, Commands, Request } from './lib/agent-protocol';
import { codeFlowLoad, mintCodes } from './agent/code-flow';
import { httpLoad } from './agent/http-load';
import { pacedLoad } from './agent/paced-load';
import { chat, close, fanout, handshakes, open } from './agent/sockets';

const handlers: { [C in CommandName]: (args: Commands[C]['args']) => Promise<Commands[C]['result']> } = {
  http: (spec) =>
    spec.codeFlow !== undefined
      ? codeFlowLoad({ ...spec, codeFlow: spec.codeFlow })
      : spec.overallRate === undefined
        ? httpLoad(spec)
        : pacedLoad({ ...spec, overallRate: spec.overallRate }),
  handshakes,
  open,
  fanout,
  chat,
  close: ({ tag }) => close(tag),
  mintCodes,
};

async function handle(line: string): Promise<Answer> {
  const request = JSON.parse(line) as Request;
  try {
    const handler = handlers[request.command] as (args: unknown) => Promise<unknown>;
    return { id: request.id, ok: true, result: await handler(request.args) };
  } catch (error) {
    return { id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(async () => {
    process.stdout.write(`${JSON.stringify(await handle(line))}\n`);
  });
});
// The orchestrator closing our stdin (it exited or is done) ends the agent once the queue is empty.
process.stdin.on('end', () => {
  void queue.then(() => process.exit(0));
});

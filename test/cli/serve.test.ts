import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { CliWorkspace, exitOf, logLine, spawnCli } from './cli-process';

const START_TIMEOUT_MS = 15_000;
const SHUTDOWN_DEADLINE_MS = 10_000; // SPEC §7

describe('tessera serve', () => {
  let cli: CliWorkspace;
  let child: ChildProcess | undefined;
  before(() => {
    cli = new CliWorkspace();
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child).catch(() => undefined);
    }
    await cli.close();
  });

  it('logs the bound port, answers /healthz there, and exits 0 on SIGTERM', async function () {
    this.timeout(START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS + 5_000);
    let stderr = '';
    child = spawnCli(['serve'], cli.dir, { ...cli.env, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin!.end();
    const exited = exitOf(child, START_TIMEOUT_MS + SHUTDOWN_DEADLINE_MS);

    const listening = await logLine(child, 'tessera listening', START_TIMEOUT_MS);
    expect(listening).to.include({ level: 'info', host: '127.0.0.1', database: 'sqlite' });
    expect(listening.port).to.be.a('number').and.above(0);

    const health = await fetch(`http://127.0.0.1:${listening.port as number}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });

    const stopping = logLine(child, 'shutting down', SHUTDOWN_DEADLINE_MS);
    child.kill('SIGTERM');
    expect(await stopping).to.include({ signal: 'SIGTERM' });
    expect(await exited, stderr).to.equal(0);
  });

  it('exits 1 with one line naming the address when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const { code, stderr } = await cli.run(['serve'], { env: { PORT: String(port), HOST: '127.0.0.1' } });
      expect(code).to.equal(1);
      expect(stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(stderr).to.include('EADDRINUSE').and.include(`127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

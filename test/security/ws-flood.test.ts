import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { expectAlive, expectErrorShape, upgrade } from './support';

const ATTEMPTS = 10_000;
const CONCURRENCY = 50;
const MAX_HEAP_GROWTH = 50 * 1024 * 1024;

describe('attack: a flood of socket upgrades without a token', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it(`refuses ${ATTEMPTS.toLocaleString('en')} attempts on /ws/x, ${CONCURRENCY} at a time, with 401 or 429, the heap stays flat and the server still answers`, async function () {
    this.timeout(120_000);
    const statuses = new Map<number, number>();
    let next = 0;
    const attempt = async (): Promise<void> => {
      const answer = await upgrade(server, `/ws/x${next % 7}`);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 401 && answer.status !== 429) expect.fail(`attempt answered ${answer.status}: ${answer.text}`);
      if (next % 1_000 === 0) expectErrorShape(answer, `attempt ${next}`);
    };
    const worker = async () => {
      while (next < ATTEMPTS) {
        next += 1;
        await attempt();
      }
    };
    // The first attempts warm every code path up before the heap is measured.
    for (let i = 0; i < CONCURRENCY; i += 1) await attempt();
    const heapBefore = process.memoryUsage().heapUsed;
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const growth = process.memoryUsage().heapUsed - heapBefore;

    const answered = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    expect(answered).to.equal(ATTEMPTS + CONCURRENCY);
    expect([...statuses.keys()].sort()).to.deep.equal([401, 429]);
    expect(growth, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB`).to.be.below(MAX_HEAP_GROWTH);
    await expectAlive(server);
    expect(server.tessera.gateway.registry.size, 'no socket was left open').to.equal(0);
  });
});

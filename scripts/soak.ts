/**
 * `npm run soak [-- --seconds N | --quick]`: a sustained load on one
 * `tessera serve` child (SQLite, RATE_LIMITS=off, loopback only), checked
 * from the outside.
 *
 *   - 500 WebSocket clients in conversations of 10 send nonce'd messages;
 *     every acked message must reach every other member once, in seq order;
 *   - 50 HTTP clients read GET /tasks and GET /messages (pages must be in
 *     seq order without gaps) and rotate their refresh tokens;
 *   - the server's RSS (/proc/<pid>/status VmRSS) and open descriptors
 *     (/proc/<pid>/fd) are read before and after; after a settle period they
 *     must be back within 10 % of the baseline;
 *   - its stdout JSON lines (LOG_LEVEL=warn) are counted by level.
 *
 * The baseline is taken after a short warm-up round of the same load
 * (closed and settled), so the comparison measures what a run leaves
 * behind, not V8 and SQLite growing into their first working set; the
 * start-up figures are printed too. `--quick` is 10 s with 100 sockets.
 * Exits 1 when a message was lost, duplicated or out of order, a request
 * or frame failed, the server logged an error, or RSS/fds did not come back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ChildServer } from '../test/durability/child-server';
import { expectCall, passwordGrant, signup } from '../test/durability/http';
import { ChatSocket, deliveriesOutstanding, tally, type ChatTally, type Member } from './soak/chat';
import { emptyReaderTally, Reader, type ReaderTally } from './soak/readers';

const GROUP = 10; // sockets per conversation
const HTTP_CLIENTS = 50;
const SEND_INTERVAL_MS = 2_000; // per socket, on average: 250 messages/s and 2,250 deliveries/s at 500 sockets
const READER_PAUSE_MS = 250; // per HTTP client between rounds, on average
const SETUP_CONCURRENCY = 25;
const DRAIN_TIMEOUT_MS = 15_000;
const SETTLE_MS = 5_000; // before the baseline
const SETTLE_MAX_MS = 60_000; // for the after figures to come back (V8 returns pages lazily, later on a busy host)
const TOLERANCE = 0.1;
const SAMPLE_MS = 1_000;

const { values } = parseArgs({ options: { seconds: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;
const seconds = Number(values.seconds ?? (quick ? 10 : 60));
if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3_600) throw new Error('--seconds must be an integer from 1 to 3600');
const socketCount = quick ? 100 : 500;
const warmupSeconds = Math.min(seconds, quick ? 3 : 10);
// The whole run is bounded: setup, two rounds, drains and settles, with room to spare.
const HARD_DEADLINE_MS = (seconds + warmupSeconds) * 1_000 + 4 * DRAIN_TIMEOUT_MS + SETTLE_MS + SETTLE_MAX_MS + 120_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

interface Setup {
  readonly members: Member[];
  readonly readers: Reader[];
}

/** Users, one per socket, in conversations of GROUP; HTTP clients are second sessions of the conversations' users. */
async function setUp(base: string): Promise<Setup> {
  const usernames = Array.from({ length: socketCount }, (_, i) => `soak${i}`);
  await mapLimit(usernames, SETUP_CONCURRENCY, (username) => signup(base, username));
  const tokens = await mapLimit(usernames, SETUP_CONCURRENCY, (username) => passwordGrant(base, username));
  const conversations = await mapLimit(Array.from({ length: socketCount / GROUP }, (_, c) => c), SETUP_CONCURRENCY, async (c) => {
    const group = usernames.slice(c * GROUP, (c + 1) * GROUP);
    const created = await expectCall(201, base, 'POST', '/conversations', { token: String(tokens[c * GROUP]!.access_token), json: { members: group } });
    return String(created.id);
  });
  const members = usernames.map((username, i) => ({ username, accessToken: String(tokens[i]!.access_token), conversation: conversations[Math.floor(i / GROUP)]! }));
  const readers = await mapLimit(Array.from({ length: HTTP_CLIENTS }, (_, r) => members[(r * GROUP + Math.floor(r / conversations.length)) % socketCount]!), SETUP_CONCURRENCY, async (member) => {
    const session = await passwordGrant(base, member.username);
    return new Reader(base, member.conversation, String(session.access_token), String(session.refresh_token));
  });
  return { members, readers };
}

interface Peak {
  rss: number;
  fds: number;
}

interface Round {
  readonly chat: ChatTally;
  readonly ackLatencies: number[];
}

/** One round: open every socket, chat and read for `durationS`, drain, close. */
async function round(server: ChildServer, setup: Setup, durationS: number, tag: string, readerTally: ReaderTally, peak: Peak): Promise<Round> {
  const sockets = await mapLimit(setup.members, SETUP_CONCURRENCY, (member) => ChatSocket.open(server.url, member, tag));
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, server.rss());
    peak.fds = Math.max(peak.fds, server.openFds());
  }, SAMPLE_MS);
  for (const socket of sockets) socket.startSending(SEND_INTERVAL_MS);
  const endsAt = Date.now() + durationS * 1_000;
  const reading = setup.readers.map((reader) => reader.run(readerTally, () => Date.now() >= endsAt, READER_PAUSE_MS, durationS * 100));
  await delay(durationS * 1_000);
  for (const socket of sockets) socket.stopSending();
  await Promise.all(reading);
  const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
  while (deliveriesOutstanding(sockets) > 0 && Date.now() < drainUntil) await delay(100);
  clearInterval(sampler);
  const result = { chat: tally(sockets), ackLatencies: sockets.flatMap((socket) => socket.ackLatencies) };
  await Promise.all(sockets.map((socket) => socket.close()));
  return result;
}

function addTallies(a: ChatTally, b: ChatTally): ChatTally {
  return Object.fromEntries(Object.entries(a).map(([key, value]) => [key, value + b[key as keyof ChatTally]])) as unknown as ChatTally;
}

/** Waits (bounded) until RSS and fds are within the tolerance of the baseline; returns the last figures and the time taken. */
async function settle(server: ChildServer, baseline: Peak): Promise<Peak & { ms: number }> {
  const started = Date.now();
  for (;;) {
    const now = { rss: server.rss(), fds: server.openFds() };
    const back = now.rss <= baseline.rss * (1 + TOLERANCE) && now.fds <= baseline.fds * (1 + TOLERANCE);
    if (back || Date.now() - started >= SETTLE_MAX_MS) return { ...now, ms: Date.now() - started };
    await delay(500);
  }
}

/** `p50 / p99 / max` of milliseconds. */
function percentiles(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `${at(0.5).toFixed(1)} / ${at(0.99).toFixed(1)} / ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms`;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const change = (after: number, before: number) => `${after >= before ? '+' : ''}${(((after - before) / before) * 100).toFixed(1)} %`;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
  const server = await ChildServer.start(
    {
      DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`,
      RATE_LIMITS: 'off', // one IP opens every socket: no handshake limit per IP either
      LOG_LEVEL: 'warn',
      PASSWORD_HASH_COST: '10', // set-up speed only: 500 signups and 550 logins
      ACCESS_TOKEN_TTL: '10800', // 3 h: the chat sockets do not renew in-band, so their tokens must outlive the run
    },
    dir,
  );
  const hardStop = setTimeout(() => {
    say(`soak: no result within ${HARD_DEADLINE_MS / 1000} s; killing the server`);
    void server.kill().then(() => process.exit(2));
  }, HARD_DEADLINE_MS);
  try {
    const startup = { rss: server.rss(), fds: server.openFds() };
    say(
      `soak: ${socketCount} sockets in ${socketCount / GROUP} conversations, ${HTTP_CLIENTS} HTTP clients, ${seconds} s ` +
        `(after a ${warmupSeconds} s warm-up); server pid ${server.pid}`,
    );
    const setup = await setUp(server.url);
    const readerTally = emptyReaderTally();
    const peak: Peak = { ...startup };
    const warm = await round(server, setup, warmupSeconds, 'warm', readerTally, peak);
    await delay(SETTLE_MS);
    const baseline = { rss: server.rss(), fds: server.openFds() };
    const runPeak: Peak = { ...baseline };
    const cpuBefore = server.cpuSeconds();
    const run = await round(server, setup, seconds, 'run', readerTally, runPeak);
    const cpuPercent = ((server.cpuSeconds() - cpuBefore) / seconds) * 100; // of one core, including the drain
    const after = await settle(server, baseline);
    const chat = addTallies(warm.chat, run.chat);
    const exitCode = await server.stop();
    const errorLines = server.errorLines.length;
    const warnings = server.logLines.filter((line) => line.level === 'warn');
    const warnLines = warnings.length;

    const rssBack = after.rss <= baseline.rss * (1 + TOLERANCE);
    const fdsBack = after.fds <= baseline.fds * (1 + TOLERANCE);
    const httpFailures = [...readerTally.failures.values()].reduce((a, b) => a + b, 0);
    const rows: Array<[string, string, boolean?]> = [
      ['messages sent / acked (warm-up + run)', `${chat.sent} / ${chat.acked}`, chat.unacked === 0],
      ['  of which in the measured run', `${run.chat.sent} / ${run.chat.acked} (${(run.chat.acked / seconds).toFixed(0)}/s)`],
      ['ack latency p50 / p99 / max (measured run)', percentiles(run.ackLatencies)],
      ['server CPU in the measured run', `${cpuPercent.toFixed(0)} % of one core`],
      ['deliveries expected / received', `${chat.expectedDeliveries} / ${chat.deliveries}`],
      ['lost (acked, never delivered to a member)', String(chat.lost + chat.unacked), chat.lost + chat.unacked === 0],
      ['duplicated deliveries', String(chat.duplicated), chat.duplicated === 0],
      ['out-of-order deliveries / seq gaps', `${chat.outOfOrder} / ${chat.seqGaps}`, chat.outOfOrder + chat.seqGaps === 0],
      ['error frames / unexpected closes', `${chat.errorFrames} / ${chat.unexpectedCloses}`, chat.errorFrames + chat.unexpectedCloses === 0],
      ['HTTP requests / refreshes', `${readerTally.requests} / ${readerTally.refreshes}`],
      ['HTTP latency p50 / p99 / max', percentiles(readerTally.latencies)],
      ['HTTP failures', httpFailures === 0 ? '0' : [...readerTally.failures].map(([what, n]) => `${what}: ${n}`).join(', '), httpFailures === 0],
      ['GET /messages pages out of order', String(readerTally.badPages), readerTally.badPages === 0],
      ['server log lines at error / warn', `${errorLines} / ${warnLines}`, errorLines === 0],
      ['RSS start-up / baseline / peak / after', `${mb(startup.rss)} / ${mb(baseline.rss)} / ${mb(runPeak.rss)} / ${mb(after.rss)} (${change(after.rss, baseline.rss)})`, rssBack],
      ['open fds start-up / baseline / peak / after', `${startup.fds} / ${baseline.fds} / ${runPeak.fds} / ${after.fds} (${change(after.fds, baseline.fds)})`, fdsBack],
      ['settled after', `${(after.ms / 1000).toFixed(1)} s`],
      ['server exit on SIGTERM', String(exitCode), exitCode === 0],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    say('');
    for (const [name, value, ok] of rows) say(`${name.padEnd(width)}  ${ok === false ? 'FAIL' : ok ? ' ok ' : '    '}  ${value}`);
    const failed = rows.some(([, , ok]) => ok === false);
    say(`\nsoak: ${failed ? 'FAILED' : 'passed'}`);
    if (errorLines > 0) for (const line of server.errorLines.slice(0, 5)) say(`  server error: ${JSON.stringify(line)}`);
    for (const message of new Set(warnings.map((line) => String(line.msg)))) say(`  server warning: ${message}`);
    return failed ? 1 : 0;
  } finally {
    clearTimeout(hardStop);
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`soak: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(2);
  },
);

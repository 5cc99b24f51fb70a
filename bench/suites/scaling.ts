// How figures hold up as data grows (full mode only): refresh grants with
// 1k / 100k / 1M stored sessions, GET /messages with 1k and 1M messages in
// a conversation, fan-out p99 with 100 / 1,000 / 5,000 members. Each
// session count has a database (and a tessera) of its own, so the three are
// measured in interleaved rounds; rows are seeded straight into SQLite in
// batched transactions.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { getJson, newSessions, passwordGrant, PUBLIC_CLIENT, signup, BENCH_USER } from '../lib/api';
import type { Context } from '../lib/context';
import { measureRounds, runLoad, type Measured } from '../lib/http-rounds';
import { interleave } from '../lib/interleave';
import { seedConversation, seedMessages, seedSessions, seedUsers, type SeededUser } from '../lib/sqlite-seed';
import { median } from '../lib/stats';
import { ms, perSecond, ratio, type Row, type Section } from '../lib/table';
import { sqliteUrl, startTessera, type Server } from '../lib/tessera';
import { roundDetails, roundProblems } from './http';
import type { SectionSpec } from './section';
import { closeFanout, fanoutMessages, fanoutRound, openFanout, type FanoutFigures, type FanoutTags } from './sockets';

const SESSION_LEVELS = [1_000, 100_000, 1_000_000];
const HISTORY = { small: 1_000, large: 1_000_000 };
const FANOUT_MEMBERS = [100, 1_000, 5_000];
const FILLER_USERS = 1_000; // the seeded sessions belong to these, in turn
const PAGE = 50; // GET /messages reads the newest page, as a client catching up does
const LATENCY_LOAD_SHARE = 0.5;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SPARE_SESSIONS = 10;
const SETTLE_AFTER_SEEDING_MS = 200;

const grouped = (n: number) => n.toLocaleString('en-US');

interface Part {
  readonly rows: Row[];
  readonly details: string[];
  readonly problems: string[];
}

function countSessions(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

interface ScalingServer {
  readonly server: Server;
  readonly file: string;
}

/** A tessera on a database of its own, the bench user signed up, `sessions` stored in all (filler users' seeded ones). */
async function serverWithSessions(context: Context, sessions: number): Promise<ScalingServer> {
  const { dir, children } = context.setup;
  const name = `scaling-${sessions}`;
  const file = join(dir, `${name}.db`);
  const server = await startTessera(children, { dir, databaseUrl: sqliteUrl(dir, `${name}.db`), name: `tessera-${name}` });
  await signup(server.url);
  await passwordGrant(server.url);
  const fillers = seedUsers(file, BENCH_USER, Array.from({ length: FILLER_USERS }, (_, i) => `filler-${i + 1}`)).map((u) => u.id);
  const missing = sessions - countSessions(file);
  const started = Date.now();
  seedSessions(file, Array.from({ length: missing }, (_, i) => fillers[i % fillers.length]!), false);
  // Seeding blocked this process for seconds: the servers closed its idle keep-alive connections meanwhile,
  // and fetch would send the next request on one of them before reading its close. Let the closes in first.
  await delay(SETTLE_AFTER_SEEDING_MS);
  context.say(`  ${grouped(sessions)} sessions stored (${((Date.now() - started) / 1000).toFixed(1)} s to seed)`);
  return { server, file };
}

/** Refresh grants on three servers that differ only in how many sessions they store, in interleaved rounds. */
async function refreshScaling(context: Context, servers: readonly ScalingServer[]): Promise<Part> {
  const { agent, plan } = context.setup;
  const labels = SESSION_LEVELS.map(grouped);
  context.say(`scaling: refresh grants with ${labels.join(' / ')} stored sessions, interleaved rounds`);
  const rounds = await interleave<string, Measured>(
    labels,
    plan.rounds,
    async (label, warmup) => {
      const { server } = servers[labels.indexOf(label)]!;
      const refreshTokens = await newSessions(server.url, plan.connections + SPARE_SESSIONS);
      const request = { method: 'POST' as const, path: '/token', headers: FORM, refreshTokens, extraBody: `&client_id=${PUBLIC_CLIENT}` };
      return runLoad(agent, server, { ...request, connections: plan.connections, durationSeconds: warmup ? plan.warmupSeconds : plan.roundSeconds });
    },
    (round, r) => context.say(`  refresh round ${round}/${plan.rounds}: ${labels.map((label) => `${label} ${Math.round(r[label]!.requestsPerSecond)} req/s`).join(', ')}`),
  );
  const rate = (label: string) => median(rounds.map((r) => r[label]!.requestsPerSecond));
  const versus = (label: string) => median(rounds.map((r) => r[label]!.requestsPerSecond / r[labels[0]!]!.requestsPerSecond));
  const unexpected = rounds.flatMap((r) => Object.values(r)).filter((m) => m.unexpected > 0);
  return {
    rows: labels.map((label, i) => ({
      title: `refresh grant req/s, ${label} stored sessions${i === 0 ? '' : ` (vs ${labels[0]})`}`,
      tessera: perSecond(rate(label)),
      baseline: i === 0 ? '—' : perSecond(rate(labels[0]!)),
      ratio: i === 0 ? '—' : ratio(versus(label)),
      checks: [],
    })),
    details: labels.map((label) => `- refresh with ${label} sessions stored: rounds ${rounds.map((r) => r[label]!.requestsPerSecond.toFixed(0)).join(', ')} req/s`),
    problems: unexpected.map((m) => `refresh scaling: ${m.unexpected} responses other than 200: ${m.unexpectedSamples.join('; ')}`),
  };
}

async function historyScaling(context: Context, { server, file }: ScalingServer): Promise<Part> {
  const { agent, plan } = context.setup;
  const { access_token: token } = await passwordGrant(server.url);
  const bench: SeededUser = { id: ((await getJson(server.url, '/me', token)) as { id: string }).id, username: BENCH_USER };
  const conversations = { small: 'bench-history-small', large: 'bench-history-large' };
  const last = { small: 0, large: 0 };
  for (const size of ['small', 'large'] as const) {
    const started = Date.now();
    seedConversation(file, conversations[size], [bench.id]);
    last[size] = seedMessages(file, conversations[size], bench, HISTORY[size]);
    context.say(`  seeded ${grouped(HISTORY[size])} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const path = (size: 'small' | 'large') => `/messages/${conversations[size]}?after_seq=${last[size] - PAGE}&limit=${PAGE}`;
  const contest = (overallRate?: number) => ({
    id: 'messages',
    targets: { tessera: server, baseline: server },
    // "tessera" is the large conversation, "baseline" the small one, on the same server.
    request: async (side: 'tessera' | 'baseline') => ({ method: 'GET' as const, path: path(side === 'tessera' ? 'large' : 'small'), headers: { authorization: `Bearer ${token}` } }),
    ...(overallRate === undefined ? {} : { overallRate }),
  });
  context.say(`scaling: GET /messages, newest ${PAGE} of ${grouped(HISTORY.large)} vs of ${grouped(HISTORY.small)}`);
  const saturated = await measureRounds(agent, contest(), plan);
  const offered = Math.max(100, Math.round((saturated.baselineRate * LATENCY_LOAD_SHARE) / 100) * 100);
  const latency = await measureRounds(agent, contest(offered), plan);
  const rateTitle = `GET /messages (newest ${PAGE}), ${grouped(HISTORY.large)} vs ${grouped(HISTORY.small)} messages, req/s`;
  const latencyTitle = `GET /messages p99 at ${perSecond(offered)} offered, ${grouped(HISTORY.large)} vs ${grouped(HISTORY.small)} messages`;
  return {
    rows: [
      { title: rateTitle, tessera: perSecond(saturated.tesseraRate), baseline: perSecond(saturated.baselineRate), ratio: ratio(saturated.ratio), checks: [] },
      { title: latencyTitle, tessera: ms(latency.tesseraP99Ms), baseline: ms(latency.baselineP99Ms), ratio: ratio(latency.tesseraP99Ms / latency.baselineP99Ms), checks: [] },
    ],
    details: ['', ...roundDetails(rateTitle, saturated), ...roundDetails(latencyTitle, latency)],
    problems: [...roundProblems(rateTitle, saturated), ...roundProblems(latencyTitle, latency)],
  };
}

/** Fan-out in three conversations of different sizes (members disjoint, one socket each), in interleaved rounds. */
async function fanoutScaling(context: Context): Promise<Part> {
  const { plan } = context.setup;
  const pool = await context.users(FANOUT_MEMBERS.reduce((sum, n) => sum + n, 0));
  const labels = FANOUT_MEMBERS.map(grouped);
  const tags: FanoutTags[] = [];
  try {
    let offset = 0;
    for (const members of FANOUT_MEMBERS) {
      tags.push(await openFanout(context, 'tessera', pool.slice(offset, offset + members)));
      offset += members;
    }
    context.say(`scaling: fan-out to ${labels.join(' / ')} members, interleaved rounds`);
    const rounds = await interleave<string, FanoutFigures>(
      labels,
      plan.rounds,
      (label) => fanoutRound(context, tags[labels.indexOf(label)]!, fanoutMessages(context)),
      (round, r) => context.say(`  fan-out round ${round}/${plan.rounds}: ${labels.map((label) => `${label} p99 ${ms(r[label]!.p99Ms)}`).join(', ')}`),
    );
    const p99 = (label: string) => median(rounds.map((r) => r[label]!.p99Ms));
    const versus = (label: string) => median(rounds.map((r) => r[label]!.p99Ms / r[labels[0]!]!.p99Ms));
    const missing = rounds.reduce((sum, r) => sum + Object.values(r).reduce((s, f) => s + f.missing, 0), 0);
    return {
      rows: labels.map((label, i) => ({
        title: `fan-out p99, ${label} members${i === 0 ? '' : ` (vs ${labels[0]})`}`,
        tessera: ms(p99(label)),
        baseline: i === 0 ? '—' : ms(p99(labels[0]!)),
        ratio: i === 0 ? '—' : ratio(versus(label)),
        checks: [],
      })),
      details: labels.map((label) => `- fan-out to ${label} members, p99 per round: ${rounds.map((r) => r[label]!.p99Ms.toFixed(1)).join(', ')} ms`),
      problems: missing > 0 ? [`scaling fan-out: ${missing} deliveries missing`] : [],
    };
  } finally {
    for (const tag of tags) await closeFanout(context, tag);
  }
}

export const scalingSection: SectionSpec = {
  id: 'scaling',
  title: 'scaling: stored sessions, conversation history, conversation members',
  skip: (context) => (context.mode === 'quick' ? 'full mode only: seeding a million sessions and a million messages takes minutes' : undefined),
  async run(context): Promise<Section> {
    const servers: ScalingServer[] = [];
    // Fan-out first, on the main database: the million-row seeding after it
    // leaves gigabytes of dirty pages whose writeback stalls any fsync.
    const parts: Part[] = [await fanoutScaling(context)];
    try {
      context.say('scaling: one tessera per stored-session count, each on its own database');
      for (const level of SESSION_LEVELS) servers.push(await serverWithSessions(context, level));
      parts.push(await refreshScaling(context, servers));
      parts.push(await historyScaling(context, servers[0]!));
    } finally {
      await Promise.all(servers.map(({ server }) => context.setup.children.stop(server.child)));
    }
    return {
      id: 'scaling',
      title: this.title,
      rows: parts.flatMap((p) => p.rows),
      details: [
        '- fan-out on the main tessera, three conversations with disjoint members (one socket each); sessions and messages in databases of their own, each served by its own tessera',
        ...parts.flatMap((p) => p.details),
        '',
      ],
      problems: parts.flatMap((p) => p.problems),
    };
  },
};

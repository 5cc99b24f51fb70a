// HTTP workloads: tessera against bare Express (resources) and against
// @node-oauth/oauth2-server (token endpoint), autocannon at 50 connections.
import { basicAuth, BENCH_USER, newSessions, passwordGrantBody, PUBLIC_CLIENT } from '../lib/api';
import type { Context } from '../lib/context';
import type { PeerName } from '../lib/peers';
import { measureRounds, type Contest, type RequestSpec, type Rounds } from '../lib/http-rounds';
import { BENCH_HASH_COST } from '../lib/tessera';
import { below, ms, perSecond, ratio, rateAtLeast, ratioAtLeast, type Check, type Row, type Section } from '../lib/table';
import type { SectionSpec } from './section';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SPARE_SESSIONS = 10; // room for a few failed refreshes before the pool runs dry
/** GET /tasks latency is read at this share of tessera's own saturation rate (at saturation, latency is just connections / rate). */
const LATENCY_LOAD_SHARE = 0.5;
const P99_LIMIT_MS = 10;

/** The per-round figures under a row: rates, CPU per request, p99, non-200s. */
export function roundDetails(title: string, r: Rounds): string[] {
  const lines = [
    `**${title}**`,
    '',
    `- rounds, tessera: ${r.rounds.map((round) => Math.round(round.tessera.requestsPerSecond)).join(', ')} req/s`,
    `- rounds, baseline: ${r.rounds.map((round) => Math.round(round.baseline.requestsPerSecond)).join(', ')} req/s`,
  ];
  if (r.tesseraCpuUs !== undefined && r.baselineCpuUs !== undefined && r.cpuRatio !== undefined) {
    lines.push(
      `- server CPU per request (median of rounds): tessera ${Math.round(r.tesseraCpuUs)} µs, baseline ${Math.round(r.baselineCpuUs)} µs; ` +
        `ratio baseline/tessera ${ratio(r.cpuRatio)} (≈ ${perSecond(1e6 / r.tesseraCpuUs)} vs ${perSecond(1e6 / r.baselineCpuUs)} per free core)`,
    );
  }
  lines.push(`- p99 latency (median of rounds): tessera ${ms(r.tesseraP99Ms)}, baseline ${ms(r.baselineP99Ms)}`);
  lines.push(`- responses other than 200, warm-up included: tessera ${r.unexpected}, baseline ${r.baselineUnexpected}`);
  for (const sample of r.unexpectedSamples) lines.push(`  - \`${sample.replace(/`/g, "'")}\``);
  lines.push('');
  return lines;
}

export function roundProblems(title: string, r: Rounds): string[] {
  return r.unexpected + r.baselineUnexpected > 0 ? [`${title}: ${r.unexpected} tessera and ${r.baselineUnexpected} baseline responses other than 200`] : [];
}

export const rateRow = (title: string, r: Rounds, checks: readonly Check[], unit = 'req/s'): Row => ({
  title,
  tessera: perSecond(r.tesseraRate, unit),
  baseline: perSecond(r.baselineRate, unit),
  ratio: ratio(r.ratio),
  checks,
});

interface HttpWorkload {
  readonly id: string;
  readonly title: string; // the row
  readonly baseline: 'bare-express' | 'oauth2-server';
  readonly baselineName: string; // for the section heading
  checks(r: Rounds): Check[];
  request(context: Context, url: string): Promise<RequestSpec>;
}

const bearer = (context: Context) => ({ authorization: `Bearer ${context.setup.login.access_token}` });

const workloads: HttpWorkload[] = [
  {
    id: 'me',
    title: 'bearer-protected GET /me, req/s',
    baseline: 'bare-express',
    baselineName: 'bare Express JSON',
    checks: (r) => [ratioAtLeast(r.ratio, 0.6)],
    request: async (context) => ({ method: 'GET', path: '/me', headers: bearer(context) }),
  },
  {
    id: 'tasks',
    title: 'GET /tasks (20 rows, SQLite, bearer), req/s',
    baseline: 'bare-express',
    baselineName: 'bare Express static JSON',
    checks: (r) => [ratioAtLeast(r.ratio, 0.5)],
    request: async (context) => ({ method: 'GET', path: '/tasks', headers: bearer(context) }),
  },
  {
    id: 'password',
    title: `password grant (scrypt N=2^${BENCH_HASH_COST}, r=8, p=1), req/s`,
    baseline: 'oauth2-server',
    baselineName: '@node-oauth/oauth2-server, same scrypt cost, SQLite model',
    checks: (r) => [ratioAtLeast(r.ratio, 1.0)],
    request: async () => ({ method: 'POST', path: '/token', headers: FORM, body: new URLSearchParams(passwordGrantBody(BENCH_USER)).toString() }),
  },
  {
    id: 'refresh',
    title: 'refresh grant (SQLite, rotation), req/s',
    baseline: 'oauth2-server',
    baselineName: '@node-oauth/oauth2-server refresh with rotation, SQLite model',
    checks: (r) => [ratioAtLeast(r.ratio, 1.5), rateAtLeast(r.tesseraRate, 1_500, 'req/s')],
    // Every run gets fresh sessions: a run ends with requests in flight
    // whose successors it never reads, so a chain cannot go on.
    request: async (context, url) => ({
      method: 'POST',
      path: '/token',
      headers: FORM,
      refreshTokens: await newSessions(url, context.setup.plan.connections + SPARE_SESSIONS),
      extraBody: `&client_id=${PUBLIC_CLIENT}`,
    }),
  },
  {
    id: 'client_credentials',
    title: 'client_credentials grant, req/s',
    baseline: 'oauth2-server',
    baselineName: '@node-oauth/oauth2-server, SQLite model',
    checks: (r) => [ratioAtLeast(r.ratio, 1.5)],
    request: async (context) => ({
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basicAuth(context.setup.client) },
      body: 'grant_type=client_credentials&scope=push',
    }),
  },
];

async function contest(context: Context, workload: HttpWorkload, overallRate?: number, peer: PeerName = workload.baseline): Promise<Contest> {
  const tessera = context.setup.tessera;
  const baseline = await context.peer(peer);
  return {
    id: peer === workload.baseline ? workload.id : `${workload.id} vs ${peer}`,
    targets: { tessera, baseline },
    request: (side) => workload.request(context, side === 'tessera' ? tessera.url : baseline.url),
    ...(overallRate === undefined ? {} : { overallRate }),
  };
}

interface RoundsReport {
  readonly row: Row;
  readonly details: string[];
  readonly problems: string[];
}

/** A row of the table and, under it, its rounds and anything unexpected in them. */
const roundsReport = (row: Row, r: Rounds): RoundsReport => ({ row, details: roundDetails(row.title, r), problems: roundProblems(row.title, r) });

/** GET /tasks at a fixed offered load: the latency a client sees below saturation. */
async function tasksLatency(context: Context, workload: HttpWorkload, saturated: Rounds): Promise<RoundsReport> {
  const offered = Math.max(100, Math.round((saturated.tesseraRate * LATENCY_LOAD_SHARE) / 100) * 100);
  context.say(`GET /tasks at ${offered} req/s offered, 50 connections`);
  const r = await measureRounds(context.setup.agent, await contest(context, workload, offered), context.setup.plan);
  const title = `GET /tasks p99 at 50 connections, ${perSecond(offered)} offered`;
  return roundsReport({ title, tessera: ms(r.tesseraP99Ms), baseline: ms(r.baselineP99Ms), ratio: ratio(r.tesseraP99Ms / r.baselineP99Ms), checks: [below(r.tesseraP99Ms, P99_LIMIT_MS, 'ms')] }, r);
}

function httpSection(workload: HttpWorkload): SectionSpec {
  const title = `${workload.title.replace(/, req\/s$/, '')} vs ${workload.baselineName}`;
  return {
    id: workload.id,
    title,
    async run(context): Promise<Section> {
      const { plan } = context.setup;
      context.say(`${workload.id}: warm-up ${plan.warmupSeconds} s each, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
      const r = await measureRounds(context.setup.agent, await contest(context, workload), plan);
      const parts = [roundsReport(rateRow(workload.title, r, workload.checks(r)), r)];
      if (workload.baseline === 'bare-express') {
        // Reported beside the target's baseline: tessera's server skips a cost stock Express pays on every request
        // (src/server.ts, `expressConstructors`); against an Express built the same way, the ratio is tessera's own work alone.
        const floor = await measureRounds(context.setup.agent, await contest(context, workload, undefined, 'express-constructed'), plan);
        parts.push(roundsReport(rateRow(`${workload.title.replace(/, req\/s$/, '')} vs Express built as tessera's server, req/s`, floor, []), floor));
      }
      if (workload.id === 'tasks') parts.push(await tasksLatency(context, workload, r));
      const rows = parts.map((part) => part.row);
      const details = parts.flatMap((part) => part.details);
      const problems = parts.flatMap((part) => part.problems);
      return { id: workload.id, title, rows, details, problems };
    },
  };
}

export const httpSections: SectionSpec[] = workloads.map(httpSection);

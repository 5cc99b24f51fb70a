// OpenID Connect's authorization code flow (SPEC §10) with a browser that is
// already signed in and a first-party app (no consent page): whole round trips
// per second, and the authorization_code grant alone beside the refresh grant
// of the same app on the same tessera.
import type { CodeFlowSpec } from '../lib/agent-protocol';
import { mapLimit } from '../lib/api';
import { codeFlowSetUp } from '../lib/browser-sign-in';
import type { Context } from '../lib/context';
import { measureRounds, runLoad, type Measured, type RequestSpec } from '../lib/http-rounds';
import { median } from '../lib/stats';
import { ms, perSecond, type Row, type Section } from '../lib/table';
import { rateRow, roundDetails, roundProblems } from './http';
import type { SectionSpec } from './section';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** Codes minted per planned second of a code-grant run; the run ends when all are redeemed, so its length follows the rate. */
const CODES_PER_SECOND = 1_000;
const SPARE_SESSIONS = 10; // as the refresh section: room for a few failed refreshes
const MINT_ALLOWANCE_MS = 60_000;

/** `count` codes of the app, each the body of its token request (minted by the agent, not timed). */
async function mintCodes(context: Context, flow: CodeFlowSpec, count: number): Promise<readonly string[]> {
  const { agent, tessera, plan } = context.setup;
  const { bodies } = await agent.call('mintCodes', { url: tessera.url, connections: Math.min(plan.connections, count), count, flow }, MINT_ALLOWANCE_MS);
  if (bodies.length !== count) throw new Error(`minted ${bodies.length} codes of ${count}`);
  return bodies;
}

/** Refresh tokens of `count` new sessions of the app: codes redeemed one by one, a few in flight. */
async function appRefreshTokens(context: Context, flow: CodeFlowSpec, count: number): Promise<string[]> {
  const url = context.setup.tessera.url;
  return mapLimit(await mintCodes(context, flow, count), 4, async (body) => {
    const res = await fetch(`${url}/token`, { method: 'POST', headers: { ...FORM, authorization: flow.authorization }, body });
    const answer = (await res.json()) as { refresh_token?: unknown };
    if (typeof answer.refresh_token !== 'string') throw new Error(`authorization_code grant: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
    return answer.refresh_token;
  });
}

/** Whole flows on the plan's connections: a warm-up, then the plan's rounds; no baseline. */
async function roundTrips(context: Context, flow: CodeFlowSpec): Promise<{ row: Row; details: string[]; problems: string[] }> {
  const { agent, tessera, plan } = context.setup;
  const run = (seconds: number): Promise<Measured> =>
    runLoad(agent, tessera, { method: 'GET', path: '/authorize', headers: {}, codeFlow: flow, connections: plan.connections, durationSeconds: seconds });
  const warmup = await run(plan.warmupSeconds);
  const rounds: Measured[] = [];
  for (let index = 0; index < plan.rounds; index++) {
    rounds.push(await run(plan.roundSeconds));
    context.say(`  code_flow round ${index + 1}/${plan.rounds}: ${Math.round(rounds[index]!.requestsPerSecond)} flows/s`);
  }
  const title = 'authorization code flow round trips (GET /authorize → POST /token → GET /userinfo), flows/s';
  const cpu = rounds.map((round) => round.cpuPerRequestUs);
  const unexpected = [warmup, ...rounds].reduce((sum, round) => sum + round.unexpected, 0);
  const details = [
    `**${title}**`,
    '',
    `- rounds: ${rounds.map((round) => Math.round(round.requestsPerSecond)).join(', ')} flows/s (${plan.connections} connections, a flow's three requests in turn on one)`,
    ...(cpu.every((us) => us !== undefined) ? [`- server CPU per flow (median of rounds): ${Math.round(median(cpu as number[]))} µs`] : []),
    `- p99 latency of a request (median of rounds): ${ms(median(rounds.map((round) => round.latencyP99Ms)))}`,
    `- answers other than the 303 with a code and two 200s, warm-up included: ${unexpected}`,
    ...[warmup, ...rounds].flatMap((round) => round.unexpectedSamples).slice(0, 5).map((sample) => `  - \`${sample.replace(/`/g, "'")}\``),
    '',
  ];
  const row = { title, tessera: perSecond(median(rounds.map((round) => round.requestsPerSecond)), 'flows/s'), baseline: '—', ratio: '—', checks: [] };
  return { row, details, problems: unexpected > 0 ? [`${title}: ${unexpected} unexpected answers`] : [] };
}

const ID = 'code_flow';
const TITLE = 'OpenID Connect code flow, signed-in browser, first-party app (same tessera, same run)';

export const codeFlowSection: SectionSpec = {
  id: ID,
  title: TITLE,
  async run(context): Promise<Section> {
    const { plan, agent, tessera, dir, databaseUrl } = context.setup;
    const flow = await codeFlowSetUp(tessera.url, dir, databaseUrl);
    context.say(`${ID}: warm-up ${plan.warmupSeconds} s, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
    const trips = await roundTrips(context, flow);

    const grants = await measureRounds(agent, {
      id: 'authorization_code vs refresh',
      targets: { tessera, baseline: tessera },
      request: async (side): Promise<RequestSpec> => {
        const headers = { ...FORM, authorization: flow.authorization };
        return side === 'tessera'
          ? { method: 'POST', path: '/token', headers, oneShotBodies: await mintCodes(context, flow, CODES_PER_SECOND * plan.roundSeconds) }
          : { method: 'POST', path: '/token', headers, refreshTokens: await appRefreshTokens(context, flow, plan.connections + SPARE_SESSIONS) };
      },
    }, plan);
    const title = 'authorization_code grant (PKCE, id token) vs refresh grant (rotation), same app, req/s';
    return {
      id: ID,
      title: TITLE,
      rows: [trips.row, rateRow(title, grants, [])],
      details: [...trips.details, ...roundDetails(title, grants)],
      problems: [...trips.problems, ...roundProblems(title, grants)],
    };
  },
};

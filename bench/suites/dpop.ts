// DPoP (RFC 9449): the same protected request and the same handshake, with a
// DPoP-bound token (one proof verified per request) and with a bearer token,
// both against the bench's tessera in the same run.
import type { SocketTarget } from '../lib/agent-protocol';
import type { Context } from '../lib/context';
import type { RequestSpec } from '../lib/http-rounds';
import { BENCH_PASSWORD, BENCH_USER, PUBLIC_CLIENT } from '../lib/api';
import { newDpopKey, proofMaker, type DpopKey } from '../lib/dpop-proof';
import { measureRounds } from '../lib/http-rounds';
import { interleave } from '../lib/interleave';
import { median } from '../lib/stats';
import { perSecond, ratio, ratioAtLeast, type Section } from '../lib/table';
import { rateRow, roundDetails, roundProblems } from './http';
import type { SectionSpec } from './section';

const HANDSHAKE_CONNECTIONS = 50; // as the handshake section
const AGENT_ALLOWANCE_MS = 60_000;

/** A password grant with a proof of `key`: a DPoP-bound access token of the bench user. */
async function boundToken(url: string, key: DpopKey): Promise<string> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proofMaker(key)('POST', `${url}/token`) },
    body: new URLSearchParams({ grant_type: 'password', username: BENCH_USER, password: BENCH_PASSWORD, client_id: PUBLIC_CLIENT }).toString(),
  });
  const body = (await res.json()) as { access_token?: unknown; token_type?: unknown };
  if (res.status !== 200 || body.token_type !== 'DPoP' || typeof body.access_token !== 'string') throw new Error(`DPoP password grant: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.access_token;
}

type Measure = (context: Context, dpop: { key: DpopKey; accessToken: string }) => Promise<Omit<Section, 'id' | 'title'>>;

/** A section measured with a new key and a DPoP-bound token of the bench user on the bench's tessera. */
const dpopSection = (id: string, title: string, measure: Measure): SectionSpec => ({
  id,
  title,
  async run(context): Promise<Section> {
    const key = newDpopKey();
    return { id, title, ...(await measure(context, { key, accessToken: await boundToken(context.setup.tessera.url, key) })) };
  },
});

const meDpop = dpopSection(
  'me_dpop',
  'DPoP-bound GET /me vs bearer GET /me (same tessera, same run)',
  async (context, { key, accessToken }) => {
    const { plan, agent, tessera } = context.setup;
    context.say(`me_dpop: warm-up ${plan.warmupSeconds} s each, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
    const r = await measureRounds(agent, {
      id: 'me_dpop',
      targets: { tessera, baseline: tessera },
      request: async (side): Promise<RequestSpec> =>
        side === 'tessera'
          ? { method: 'GET', path: '/me', headers: {}, dpop: { key, htu: `${tessera.url}/me`, accessToken } }
          : { method: 'GET', path: '/me', headers: { authorization: `Bearer ${context.benchUser.token}` } },
    }, plan);
    const title = 'DPoP-bound GET /me (a proof verified per request) vs bearer GET /me, req/s';
    return { rows: [rateRow(title, r, [ratioAtLeast(r.ratio, 0.5)])], details: roundDetails(title, r), problems: roundProblems(title, r) };
  },
);

type Side = 'dpop' | 'bearer';

const handshakeDpop = dpopSection(
  'handshake_dpop',
  'DPoP handshakes (proof in the upgrade) vs bearer handshakes (?token=), same tessera',
  async (context, { key, accessToken }) => {
    const { plan, agent, tessera } = context.setup;
    const { username, token } = context.benchUser;
    const targets: Record<Side, SocketTarget[]> = {
      dpop: [{ username, token: accessToken, dpop: key }],
      bearer: [{ username, token }],
    };
    const rounds = await interleave<Side, { perSecond: number; failed: number; failures: readonly string[] }>(
      ['dpop', 'bearer'],
      plan.rounds,
      async (side, warmup) => {
        const seconds = warmup ? plan.warmupSeconds : plan.roundSeconds;
        return agent.call(
          'handshakes',
          { port: tessera.port, dialect: side === 'dpop' ? 'tessera-dpop' : 'tessera', targets: targets[side], connections: HANDSHAKE_CONNECTIONS, durationMs: seconds * 1000 },
          seconds * 1000 + AGENT_ALLOWANCE_MS,
        );
      },
      (round, r) => context.say(`  handshake_dpop round ${round}/${plan.rounds}: DPoP ${Math.round(r.dpop.perSecond)}/s, bearer ${Math.round(r.bearer.perSecond)}/s`),
    );
    const rate = (side: Side) => median(rounds.map((r) => r[side].perSecond));
    const versus = median(rounds.map((r) => r.dpop.perSecond / r.bearer.perSecond));
    const failures = rounds.flatMap((r) => [r.dpop, r.bearer]).filter((run) => run.failed > 0);
    return {
      rows: [{ title: 'DPoP handshakes/s (Authorization: DPoP + proof) vs bearer handshakes/s', tessera: perSecond(rate('dpop'), '/s'), baseline: perSecond(rate('bearer'), '/s'), ratio: ratio(versus), checks: [] }],
      details: [
        `- rounds, DPoP handshakes/s: ${rounds.map((r) => Math.round(r.dpop.perSecond)).join(', ')}`,
        `- rounds, bearer handshakes/s: ${rounds.map((r) => Math.round(r.bearer.perSecond)).join(', ')}`,
        '',
      ],
      problems: failures.map((run) => `${run.failed} handshakes failed: ${run.failures.join('; ')}`),
    };
  },
);

export const dpopSections: SectionSpec[] = [meDpop, handshakeDpop];

// The message path (issue 19): messages stored, acknowledged and delivered
// per second, against a storeless relay on bare `ws` carrying the same
// frames; and the ack latency at half of tessera's own maximum rate.
import { randomBytes } from 'node:crypto';
import type { ChatResult } from '../lib/agent-protocol';
import type { Context } from '../lib/context';
import { interleave } from '../lib/interleave';
import { seedConversation } from '../lib/sqlite-seed';
import { median } from '../lib/stats';
import { below, ms, perSecond, ratio, ratioAtLeast, type Section } from '../lib/table';
import type { Server } from '../lib/tessera';
import type { SectionSpec } from './section';
import { chatTargets, closeSockets, openSockets, type ChatUser } from './sockets';

/** The workload of issue 19: conversations of two, one socket per member, eight messages in flight on each. */
export const PAIRS = 25;
export const IN_FLIGHT = 8;
const ALLOWANCE_MS = 60_000;
const ACK_P99_LIMIT_MS = 20;

export interface PathFigures {
  /** Messages acknowledged per second (each stored first, on tessera). */
  readonly perSecond: number;
  /** Deliveries per second (each message has one other member). */
  readonly deliveredPerSecond: number;
  readonly ackP99Ms: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
}

const suffix = () => randomBytes(4).toString('hex');

/** One round on the sockets under `tags`: closed loop, or open loop at `ratePerSecond`. */
export async function pathRound(context: Context, tags: readonly string[], seconds: number, ratePerSecond?: number): Promise<PathFigures> {
  const r: ChatResult = await context.setup.agent.call(
    'chat',
    { tags, durationMs: seconds * 1000, inFlight: IN_FLIGHT, ...(ratePerSecond === undefined ? {} : { ratePerSecond }) },
    seconds * 1000 + ALLOWANCE_MS,
  );
  return { perSecond: r.acked / r.seconds, deliveredPerSecond: r.delivered / r.seconds, ackP99Ms: r.ackP99Ms ?? Number.NaN, errors: r.errors, errorSamples: r.errorSamples };
}

/** Opens the pairs' sockets on `server` under a new tag; `rooms` are the conversations, two users each in order. */
export async function openPairs(context: Context, server: Server, dialect: 'tessera' | 'ws-relay', users: readonly ChatUser[], rooms: readonly string[]): Promise<string> {
  const tag = `path-${dialect}-${suffix()}`;
  const targets = chatTargets(users, rooms, 2);
  await openSockets(context, tag, server, dialect, targets, targets.length);
  return tag;
}

export const pathProblems = (what: string, figures: readonly PathFigures[]) =>
  figures.filter((f) => f.errors > 0).map((f) => `${f.errors} error frames in a ${what} round: ${f.errorSamples.join('; ')}`);

/** Deliveries within 2% of acks: with two members every acked message has exactly one delivery. */
export const deliveredProblems = (what: string, figures: readonly PathFigures[]) =>
  figures.filter((f) => Math.abs(f.deliveredPerSecond - f.perSecond) > f.perSecond * 0.02).map((f) => `${what}: ${f.perSecond.toFixed(0)} acked/s but ${f.deliveredPerSecond.toFixed(0)} delivered/s`);

type Side = 'tessera' | 'relay';

const messagePath: SectionSpec = {
  id: 'messages',
  title: `message path: stored + acked + delivered vs a storeless relay on bare ws (${PAIRS} two-member conversations, ${IN_FLIGHT} in flight per socket)`,
  async run(context): Promise<Section> {
    const { plan, databaseFile, tessera } = context.setup;
    const users = await context.users(PAIRS * 2);
    const rooms = Array.from({ length: PAIRS }, () => `bench-path-${suffix()}`);
    rooms.forEach((room, c) => seedConversation(databaseFile, room, [users[2 * c]!.id, users[2 * c + 1]!.id]));
    const tags: Record<Side, string> = {
      tessera: await openPairs(context, tessera, 'tessera', users, rooms),
      relay: await openPairs(context, await context.peer('ws-relay'), 'ws-relay', users, rooms),
    };
    context.say(`messages: ${PAIRS} conversations of two, ${IN_FLIGHT} in flight per socket, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
    try {
      const rounds = await interleave<Side, PathFigures>(
        ['tessera', 'relay'],
        plan.rounds,
        (side, warmup) => pathRound(context, [tags[side]], warmup ? plan.warmupSeconds : plan.roundSeconds),
        (round, r) => context.say(`  messages round ${round}/${plan.rounds}: tessera ${Math.round(r.tessera.perSecond)} msg/s, relay ${Math.round(r.relay.perSecond)} msg/s`),
      );
      const rate = (side: Side) => median(rounds.map((r) => r[side].perSecond));
      const versus = median(rounds.map((r) => r.tessera.perSecond / r.relay.perSecond));
      const half = rate('tessera') / 2;
      context.say(`  ack latency at ${Math.round(half)} msg/s (half of tessera's maximum), ${plan.rounds} rounds`);
      const paced: PathFigures[] = [];
      for (let round = 0; round < plan.rounds; round++) paced.push(await pathRound(context, [tags.tessera], plan.roundSeconds, half));
      const p99 = median(paced.map((r) => r.ackP99Ms));
      const all = [...rounds.flatMap((r) => [r.tessera, r.relay]), ...paced];
      return {
        id: 'messages',
        title: this.title,
        rows: [
          { title: 'messages/s stored + acked + delivered vs storeless bare-ws relay', tessera: perSecond(rate('tessera'), 'msg/s'), baseline: perSecond(rate('relay'), 'msg/s'), ratio: ratio(versus), checks: [ratioAtLeast(versus, 0.25)] },
          { title: "ack p99 at half of tessera's maximum rate", tessera: ms(p99), baseline: '—', ratio: '—', checks: [below(p99, ACK_P99_LIMIT_MS, 'ms')] },
        ],
        details: [
          `- closed loop: every socket keeps ${IN_FLIGHT} messages outstanding and sends the next when an ack answers one; msg/s = acks/s; every message has one other member, so deliveries/s must equal it`,
          `- rounds, acked / delivered msg/s: tessera ${rounds.map((r) => `${r.tessera.perSecond.toFixed(0)} / ${r.tessera.deliveredPerSecond.toFixed(0)}`).join(', ')}; relay ${rounds.map((r) => `${r.relay.perSecond.toFixed(0)} / ${r.relay.deliveredPerSecond.toFixed(0)}`).join(', ')}`,
          `- rounds, ack p99 at saturation (ms): tessera ${rounds.map((r) => r.tessera.ackP99Ms.toFixed(1)).join(', ')}; relay ${rounds.map((r) => r.relay.ackP99Ms.toFixed(1)).join(', ')}`,
          `- open loop at ${half.toFixed(0)} msg/s, ack p99 (ms): ${paced.map((r) => r.ackP99Ms.toFixed(1)).join(', ')}`,
          '',
        ],
        problems: [...pathProblems('messages', all), ...deliveredProblems('messages', rounds.map((r) => r.tessera))],
      };
    } finally {
      await closeSockets(context, tags.tessera);
      await closeSockets(context, tags.relay);
    }
  },
};

export const messagePathSection = messagePath;

// WebSocket workloads: handshakes against bare ws and Socket.IO, memory per
// idle socket and 10,000 idle sockets, fan-out latency, chat throughput.
// Every socket is a lean raw-TCP client in the load agent (agent/raw-ws.ts).
import { randomBytes } from 'node:crypto';
import type { DialectName, SocketTarget } from '../lib/agent-protocol';
import type { Context, TokenUser } from '../lib/context';
import { interleave } from '../lib/interleave';
import { cpuMicros, rssBytes } from '../lib/proc';
import { seedConversation } from '../lib/sqlite-seed';
import { median } from '../lib/stats';
import { below, kib, mib, ms, perSecond, ratio, ratioAtLeast, ratioAtMost, type Row, type Section } from '../lib/table';
import { startTessera, type Server } from '../lib/tessera';
import type { SectionSpec } from './section';

const HANDSHAKE_CONNECTIONS = 50; // handshakes in flight, as HTTP connections elsewhere
const OPEN_CONCURRENCY = 100; // handshakes in flight while opening idle sockets
const AGENT_ALLOWANCE_MS = 60_000; // on top of what a command should take
const SETTLE_MS = 1_000; // after opening or closing sockets, before RSS is read
const FANOUT_TIMEOUT_MS = 10_000; // per message
const CHAT_GROUP = 10; // members per conversation
const CHAT_CONVERSATIONS = 10;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const suffix = () => randomBytes(4).toString('hex');
const joined = (values: readonly number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(', ');

/** Opens `count` sockets under `tag` in the agent; every one must open (a retry each allowed, and said). */
export async function openSockets(context: Context, tag: string, server: Server, dialect: DialectName, targets: readonly SocketTarget[], count: number): Promise<number> {
  const result = await context.setup.agent.call(
    'open',
    { tag, port: server.port, dialect, targets, count, concurrency: OPEN_CONCURRENCY },
    count * 10 + AGENT_ALLOWANCE_MS, // 10 ms a socket is far slower than any server here
  );
  if (result.failed > 0) throw new Error(`${result.failed} of ${count} sockets to ${dialect} did not open: ${result.failures.join('; ')}`);
  if (result.retried > 0) context.note(`${result.retried} of ${count} sockets to ${dialect} (${tag}) opened only at the second try: ${result.failures.join('; ')}`);
  return result.seconds;
}

export const closeSockets = (context: Context, tag: string) => context.setup.agent.call('close', { tag }, AGENT_ALLOWANCE_MS * 2);

// ---- handshakes ----------------------------------------------------------

/**
 * tessera: a fresh process that serves only the handshakes, as the baselines do (the targets are judged on it);
 * mixed: the bench's main process, after the HTTP workloads (reported): V8 has by then tuned Node's shared
 * stream and socket code, and where its objects are allocated, for HTTP as well, and each handshake costs more.
 */
type HandshakeSide = 'tessera' | 'mixed' | 'bare' | 'socketio';
const HANDSHAKE_DIALECTS: Record<HandshakeSide, DialectName> = { tessera: 'tessera', mixed: 'tessera', bare: 'bare-ws', socketio: 'socket.io' };
const HANDSHAKE_NAMES: Record<HandshakeSide, string> = { tessera: 'tessera', mixed: 'tessera (main process)', bare: 'bare ws', socketio: 'Socket.IO' };
const HANDSHAKE_SIDES = Object.keys(HANDSHAKE_NAMES) as HandshakeSide[];

interface HandshakeRun {
  readonly perSecond: number;
  readonly cpuUs: number | undefined;
  readonly failed: number;
  readonly failures: readonly string[];
}

const handshake: SectionSpec = {
  id: 'handshake',
  title: 'authenticated WebSocket handshakes vs bare ws and Socket.IO (JWT in io.use)',
  async run(context): Promise<Section> {
    const { plan, agent, children, dir, databaseUrl } = context.setup;
    const fresh = await startTessera(children, { dir, databaseUrl, name: 'tessera-handshake' });
    try {
      const servers: Record<HandshakeSide, Server> = {
        tessera: fresh,
        mixed: context.setup.tessera,
        bare: await context.peer('bare-ws'),
        socketio: await context.peer('socketio'),
      };
      const bench = context.benchUser;
      const targets = [{ username: bench.username, token: bench.token }];
      context.say(`handshake: ${HANDSHAKE_CONNECTIONS} in flight, warm-up ${plan.warmupSeconds} s each, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
      const rounds = await interleave<HandshakeSide, HandshakeRun>(
        HANDSHAKE_SIDES,
        plan.rounds,
        async (side, warmup) => {
          const seconds = warmup ? plan.warmupSeconds : plan.roundSeconds;
          const server = servers[side];
          const cpuBefore = cpuMicros(server.pid);
          const result = await agent.call(
            'handshakes',
            { port: server.port, dialect: HANDSHAKE_DIALECTS[side], targets, connections: HANDSHAKE_CONNECTIONS, durationMs: seconds * 1000 },
            seconds * 1000 + AGENT_ALLOWANCE_MS,
          );
          const cpuAfter = cpuMicros(server.pid);
          const cpuUs = cpuBefore === undefined || cpuAfter === undefined || result.completed === 0 ? undefined : (cpuAfter - cpuBefore) / result.completed;
          return { perSecond: result.perSecond, cpuUs, failed: result.failed, failures: result.failures };
        },
        (round, r) =>
          context.say(`  handshake round ${round}/${plan.rounds}: ${HANDSHAKE_SIDES.map((side) => `${HANDSHAKE_NAMES[side]} ${Math.round(r[side].perSecond)}/s`).join(', ')}`),
      );
      const rate = (side: HandshakeSide) => median(rounds.map((r) => r[side].perSecond));
      const versus = (side: HandshakeSide, other: HandshakeSide) => median(rounds.map((r) => r[side].perSecond / r[other].perSecond));
      const cpu = (side: HandshakeSide) => {
        const values = rounds.map((r) => r[side].cpuUs);
        return values.every((v) => v !== undefined) ? `${Math.round(median(values as number[]))} µs` : 'n/a';
      };
      const rows: Row[] = [
        { title: 'authenticated WS handshakes/s vs bare ws', tessera: perSecond(rate('tessera'), '/s'), baseline: perSecond(rate('bare'), '/s'), ratio: ratio(versus('tessera', 'bare')), checks: [ratioAtLeast(versus('tessera', 'bare'), 0.7)] },
        {
          title: 'authenticated WS handshakes/s vs Socket.IO + JWT io.use',
          tessera: perSecond(rate('tessera'), '/s'),
          baseline: perSecond(rate('socketio'), '/s'),
          ratio: ratio(versus('tessera', 'socketio')),
          checks: [ratioAtLeast(versus('tessera', 'socketio'), 2.0)],
        },
        {
          title: 'authenticated WS handshakes/s on the main process after the HTTP workloads, vs bare ws',
          tessera: perSecond(rate('mixed'), '/s'),
          baseline: perSecond(rate('bare'), '/s'),
          ratio: ratio(versus('mixed', 'bare')),
          checks: [],
        },
      ];
      const failures = rounds.flatMap((r) => Object.entries(r) as Array<[HandshakeSide, HandshakeRun]>).filter(([, run]) => run.failed > 0);
      return {
        id: 'handshake',
        title: this.title,
        rows,
        details: [
          '- tessera: a fresh process of its own that serves only the handshakes, as the baselines do; "main process": the process every HTTP workload before ran against (the same code, its JIT and allocation state shaped by HTTP as well)',
          ...HANDSHAKE_SIDES.map((side) => `- rounds, ${HANDSHAKE_NAMES[side]} handshakes/s: ${joined(rounds.map((r) => r[side].perSecond))}`),
          `- server CPU per handshake (median of rounds): ${HANDSHAKE_SIDES.map((side) => `${HANDSHAKE_NAMES[side]} ${cpu(side)}`).join(', ')}`,
          '',
        ],
        problems: failures.map(([side, run]) => `${run.failed} ${HANDSHAKE_NAMES[side]} handshakes failed: ${run.failures.join('; ')}`),
      };
    } finally {
      await children.stop(fresh.child);
    }
  },
};

// ---- memory ----------------------------------------------------------------

type MemorySide = 'tessera' | 'bare';

interface MemoryRun {
  readonly before: number; // RSS, bytes
  readonly after: number;
  readonly perSocket: number;
  readonly openSeconds: number;
}

/** Sockets held for the memory figures: 10,000 in full mode, so the same runs give the 10,000-socket RSS. */
const idleSockets = (context: Context) => (context.mode === 'full' ? 10_000 : 1_000);
const IDLE_USERS = 1_000; // the tessera sockets belong to this many users, each token verified once
const WARM_SOCKETS = 200;
const RSS_LIMIT_MIB = 300;

/** One fresh server process: warm up, read RSS, open `count` idle sockets, read RSS again, close, stop. */
async function memoryRun(context: Context, side: MemorySide, count: number, users: readonly TokenUser[]): Promise<MemoryRun> {
  const { children, dir, databaseUrl } = context.setup;
  const server = side === 'tessera' ? await startTessera(children, { dir, databaseUrl, name: 'tessera-memory' }) : await context.freshPeer('bare-ws');
  const dialect: DialectName = side === 'tessera' ? 'tessera' : 'bare-ws';
  const targets = side === 'tessera' ? users.map((u) => ({ username: u.username, token: u.token })) : [{}];
  try {
    await openSockets(context, 'memory-warm', server, dialect, targets, WARM_SOCKETS);
    await closeSockets(context, 'memory-warm');
    await settle();
    const before = rssBytes(server.pid) ?? Number.NaN;
    const openSeconds = await openSockets(context, 'memory', server, dialect, targets, count);
    await settle();
    const after = rssBytes(server.pid) ?? Number.NaN;
    await closeSockets(context, 'memory');
    return { before, after, perSocket: (after - before) / count, openSeconds };
  } finally {
    await children.stop(server.child);
  }
}

const memory: SectionSpec = {
  id: 'memory',
  title: 'memory per idle authenticated socket vs bare ws, and RSS with many idle sockets',
  async run(context): Promise<Section> {
    const { plan } = context.setup;
    const count = idleSockets(context);
    const users = await context.users(IDLE_USERS);
    context.say(`memory: ${count.toLocaleString('en-US')} idle sockets on a fresh server process per run, ${plan.rounds} rounds`);
    const rounds = await interleave<MemorySide, MemoryRun>(
      ['tessera', 'bare'],
      plan.rounds,
      async (side, warmup) => (warmup ? { before: 0, after: 0, perSocket: 0, openSeconds: 0 } : memoryRun(context, side, count, users)),
      (round, r) => context.say(`  memory round ${round}/${plan.rounds}: tessera ${kib(r.tessera.perSocket)}/socket (RSS ${mib(r.tessera.after)}), bare ws ${kib(r.bare.perSocket)}/socket`),
    );
    const perSocket = (side: MemorySide) => median(rounds.map((r) => r[side].perSocket));
    const versus = median(rounds.map((r) => r.tessera.perSocket / r.bare.perSocket));
    const rss = median(rounds.map((r) => r.tessera.after));
    const full = count === 10_000;
    return {
      id: 'memory',
      title: this.title,
      rows: [
        { title: 'memory per idle authenticated socket (RSS)', tessera: kib(perSocket('tessera')), baseline: kib(perSocket('bare')), ratio: ratio(versus), checks: [ratioAtMost(versus, 1.5)] },
        {
          title: `${count.toLocaleString('en-US')} idle sockets, RSS`,
          tessera: mib(rss),
          baseline: '—',
          ratio: '—',
          checks: full ? [below(rss / 1_048_576, RSS_LIMIT_MIB, 'MiB')] : [],
        },
      ],
      details: [
        `- every run starts a fresh server process, opens and closes ${WARM_SOCKETS} sockets, waits ${SETTLE_MS / 1000} s, reads VmRSS, opens ${count.toLocaleString('en-US')} idle sockets (tessera: ${IDLE_USERS} users' tokens in turn), waits ${SETTLE_MS / 1000} s and reads VmRSS again`,
        `- rounds, tessera KiB/socket: ${joined(rounds.map((r) => r.tessera.perSocket / 1024), 1)}; RSS before → after (MiB): ${rounds.map((r) => `${mib(r.tessera.before)} → ${mib(r.tessera.after)}`).join(', ')}`,
        `- rounds, bare ws KiB/socket: ${joined(rounds.map((r) => r.bare.perSocket / 1024), 1)}; RSS before → after: ${rounds.map((r) => `${mib(r.bare.before)} → ${mib(r.bare.after)}`).join(', ')}`,
        `- seconds to open them: tessera ${joined(rounds.map((r) => r.tessera.openSeconds), 1)}; bare ws ${joined(rounds.map((r) => r.bare.openSeconds), 1)}`,
        ...(full ? [] : [`- quick mode holds ${count.toLocaleString('en-US')} sockets; the 10,000-socket RSS target is judged in full mode only`]),
        '',
      ],
      problems: [],
    };
  },
};

// ---- fan-out ---------------------------------------------------------------

export interface FanoutFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly missing: number;
}

type FanoutSide = 'tessera' | 'socketio';
const FANOUT_RECEIVERS = 1_000;
export const fanoutMessages = (context: Context) => (context.mode === 'full' ? 30 : 10);

/** Opens one sender and `receivers.length` receiver sockets for a fan-out on `side`; returns the tags. */
export interface FanoutTags {
  readonly senderTag: string;
  readonly receiverTag: string;
}

export async function openFanout(context: Context, side: FanoutSide, receivers: readonly TokenUser[]): Promise<FanoutTags> {
  const bench = context.benchUser;
  const tag = `fanout-${side}-${suffix()}`;
  const room = `bench-fanout-${suffix()}`;
  const server = side === 'tessera' ? context.setup.tessera : await context.peer('socketio');
  const dialect: DialectName = side === 'tessera' ? 'tessera' : 'socket.io';
  if (side === 'tessera') seedConversation(context.setup.databaseFile, room, [bench.id, ...receivers.map((u) => u.id)]);
  const targets = receivers.map((u) => ({ username: u.username, token: u.token, room }));
  await openSockets(context, `${tag}-rx`, server, dialect, targets, targets.length);
  await openSockets(context, `${tag}-tx`, server, dialect, [{ username: bench.username, token: bench.token, room }], 1);
  return { senderTag: `${tag}-tx`, receiverTag: `${tag}-rx` };
}

export async function fanoutRound(context: Context, tags: FanoutTags, messages: number): Promise<FanoutFigures> {
  const r = await context.setup.agent.call('fanout', { ...tags, messages, timeoutMs: FANOUT_TIMEOUT_MS }, messages * FANOUT_TIMEOUT_MS + AGENT_ALLOWANCE_MS);
  // No delivery at all leaves no latency (NaN, sent as null).
  return { p50Ms: r.p50Ms ?? Number.NaN, p99Ms: r.p99Ms ?? Number.NaN, maxMs: r.maxMs ?? Number.NaN, missing: r.missing };
}

export async function closeFanout(context: Context, tags: FanoutTags): Promise<void> {
  await closeSockets(context, tags.receiverTag);
  await closeSockets(context, tags.senderTag);
}

const FANOUT_LARGE = 5_000; // reported beside the 1,000 of the target

const fanout: SectionSpec = {
  id: 'fanout',
  title: `fan-out 1 → ${FANOUT_RECEIVERS.toLocaleString('en-US')} sockets vs Socket.IO room broadcast (and 1 → ${FANOUT_LARGE.toLocaleString('en-US')})`,
  async run(context): Promise<Section> {
    const { plan } = context.setup;
    const messages = fanoutMessages(context);
    const rows: Row[] = [];
    const details: string[] = [
      `- latency: from the sender's write to each receiver's read, in the one agent process (the agent reading every socket is part of it, on both sides)`,
      `- tessera stores each message (SQLite) before it fans out; Socket.IO relays with \`socket.to(room).emit\``,
    ];
    let missing = 0;
    for (const size of [FANOUT_RECEIVERS, FANOUT_LARGE]) {
      const receivers = await context.users(size);
      context.say(`fanout: 1 → ${size} sockets, ${messages} messages per round, one at a time, ${plan.rounds} rounds`);
      const tags = { tessera: await openFanout(context, 'tessera', receivers), socketio: await openFanout(context, 'socketio', receivers) };
      try {
        const rounds = await interleave<FanoutSide, FanoutFigures>(
          ['tessera', 'socketio'],
          plan.rounds,
          (side) => fanoutRound(context, tags[side], messages),
          (round, r) => context.say(`  fanout 1 → ${size} round ${round}/${plan.rounds}: p99 tessera ${ms(r.tessera.p99Ms)}, Socket.IO ${ms(r.socketio.p99Ms)}`),
        );
        const p99 = (side: FanoutSide) => median(rounds.map((r) => r[side].p99Ms));
        const versus = median(rounds.map((r) => r.tessera.p99Ms / r.socketio.p99Ms));
        missing += rounds.reduce((sum, r) => sum + r.tessera.missing + r.socketio.missing, 0);
        rows.push({
          title: `fan-out 1 → ${size.toLocaleString('en-US')} sockets, p99 latency`,
          tessera: ms(p99('tessera')),
          baseline: ms(p99('socketio')),
          ratio: ratio(versus),
          checks: size === FANOUT_RECEIVERS ? [ratioAtMost(versus, 0.5), below(p99('tessera'), 50, 'ms')] : [],
        });
        details.push(
          `- 1 → ${size}, rounds, p50 / p99 / max (ms): tessera ${rounds.map((r) => `${r.tessera.p50Ms.toFixed(1)} / ${r.tessera.p99Ms.toFixed(1)} / ${r.tessera.maxMs.toFixed(1)}`).join(', ')}`,
          `- 1 → ${size}, rounds, p50 / p99 / max (ms): Socket.IO ${rounds.map((r) => `${r.socketio.p50Ms.toFixed(1)} / ${r.socketio.p99Ms.toFixed(1)} / ${r.socketio.maxMs.toFixed(1)}`).join(', ')}`,
        );
      } finally {
        for (const side of ['tessera', 'socketio'] as const) await closeFanout(context, tags[side]);
      }
    }
    return {
      id: 'fanout',
      title: this.title,
      rows,
      details: [...details, ''],
      problems: missing > 0 ? [`${missing} fan-out deliveries did not arrive within ${FANOUT_TIMEOUT_MS / 1000} s`] : [],
    };
  },
};

// ---- chat ------------------------------------------------------------------

type ChatSide = 'tessera' | 'socketio';

interface ChatFigures {
  readonly messagesPerSecond: number; // delivered to every other member
  readonly ackedPerSecond: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
}

export interface ChatUser {
  readonly username: string;
  readonly token: string;
}

/** One socket per user, members of `rooms` in groups of `group` in order, each with its conversation as room. */
export function chatTargets(users: readonly ChatUser[], rooms: readonly string[], group: number): SocketTarget[] {
  return users.map((u, i) => ({ username: u.username, token: u.token, room: rooms[Math.floor(i / group)]! }));
}

/** One closed-loop chat round on the sockets under `tags`. */
async function chatRound(context: Context, tags: readonly string[], seconds: number, group: number): Promise<ChatFigures> {
  const r = await context.setup.agent.call('chat', { tags, durationMs: seconds * 1000, inFlight: 1 }, seconds * 1000 + AGENT_ALLOWANCE_MS);
  return { messagesPerSecond: r.delivered / (group - 1) / r.seconds, ackedPerSecond: r.acked / r.seconds, errors: r.errors, errorSamples: r.errorSamples };
}

const chat: SectionSpec = {
  id: 'chat',
  title: 'chat messages end to end vs Socket.IO relay without storage',
  async run(context): Promise<Section> {
    const { plan, databaseFile, tessera } = context.setup;
    const users = await context.users(CHAT_GROUP * CHAT_CONVERSATIONS);
    const rooms = Array.from({ length: CHAT_CONVERSATIONS }, () => `bench-chat-${suffix()}`);
    rooms.forEach((room, c) => seedConversation(databaseFile, room, users.slice(c * CHAT_GROUP, (c + 1) * CHAT_GROUP).map((u) => u.id)));
    const targets = chatTargets(users, rooms, CHAT_GROUP);
    const tags: Record<ChatSide, string> = { tessera: `chat-tessera-${suffix()}`, socketio: `chat-socketio-${suffix()}` };
    context.say(`chat: ${CHAT_CONVERSATIONS} conversations of ${CHAT_GROUP}, one socket each, one message in flight per socket, ${plan.rounds} rounds of ${plan.roundSeconds} s`);
    await openSockets(context, tags.tessera, tessera, 'tessera', targets, targets.length);
    await openSockets(context, tags.socketio, await context.peer('socketio'), 'socket.io', targets, targets.length);
    try {
      const rounds = await interleave<ChatSide, ChatFigures>(
        ['tessera', 'socketio'],
        plan.rounds,
        (side, warmup) => chatRound(context, [tags[side]], warmup ? plan.warmupSeconds : plan.roundSeconds, CHAT_GROUP),
        (round, r) => context.say(`  chat round ${round}/${plan.rounds}: tessera ${Math.round(r.tessera.messagesPerSecond)} msg/s, Socket.IO ${Math.round(r.socketio.messagesPerSecond)} msg/s`),
      );
      const rate = (side: ChatSide) => median(rounds.map((r) => r[side].messagesPerSecond));
      const versus = median(rounds.map((r) => r.tessera.messagesPerSecond / r.socketio.messagesPerSecond));
      const errors = rounds.flatMap((r) => [r.tessera, r.socketio]).filter((r) => r.errors > 0);
      return {
        id: 'chat',
        title: this.title,
        rows: [{ title: 'chat messages/s end to end (stored + delivered)', tessera: perSecond(rate('tessera'), 'msg/s'), baseline: perSecond(rate('socketio'), 'msg/s'), ratio: ratio(versus), checks: [] }],
        details: [
          `- messages/s = deliveries/s ÷ ${CHAT_GROUP - 1} (every message reaches the ${CHAT_GROUP - 1} other members); each socket sends its next message when the ack of its last arrives`,
          `- rounds, msg/s: tessera ${joined(rounds.map((r) => r.tessera.messagesPerSecond))}; Socket.IO ${joined(rounds.map((r) => r.socketio.messagesPerSecond))}`,
          `- rounds, acks/s: tessera ${joined(rounds.map((r) => r.tessera.ackedPerSecond))}; Socket.IO ${joined(rounds.map((r) => r.socketio.ackedPerSecond))}`,
          '',
        ],
        problems: errors.map((r) => `${r.errors} error frames in a chat round: ${r.errorSamples.join('; ')}`),
      };
    } finally {
      await closeSockets(context, tags.tessera);
      await closeSockets(context, tags.socketio);
    }
  },
};

export const socketSections: SectionSpec[] = [handshake, memory, fanout, chat];

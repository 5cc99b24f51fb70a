// Scale-out figures: tessera on PostgreSQL + Redis, two processes beside one
// (chat delivered across processes), and refresh grants on PostgreSQL
// beside SQLite. A fresh schema and a fresh Redis key prefix per run, both
// removed afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createConversation, mapLimit, newSessions, passwordGrant, PUBLIC_CLIENT, signup } from '../lib/api';
import { measureRounds } from '../lib/http-rounds';
import { interleave } from '../lib/interleave';
import { median } from '../lib/stats';
import { perSecond, ratio, ratioAtLeast, type Section } from '../lib/table';
import { startTessera, type Server } from '../lib/tessera';
import { roundDetails, roundProblems } from './http';
import type { SectionSpec } from './section';
import { seedConversation } from '../lib/sqlite-seed';
import { deliveredProblems, IN_FLIGHT, openPairs, PAIRS, pathProblems, pathRound, type PathFigures } from './message-path';
import { chatTargets, closeSockets, openSockets, type ChatUser } from './sockets';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REACH_TIMEOUT_MS = 2_000;
const GROUP = 2;
const CONVERSATIONS = PAIRS;
const SETUP_CONCURRENCY = 4;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SPARE_SESSIONS = 10;

async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: REACH_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL is not reachable at ${POSTGRES_URL} (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redisClient(): Redis {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: REACH_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  return redis;
}

async function redisProblem(): Promise<string | undefined> {
  const redis = redisClient();
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? undefined : `Redis at ${REDIS_URL} did not answer PING`;
  } catch (error) {
    return `Redis is not reachable at ${REDIS_URL} (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    redis.disconnect();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: REACH_TIMEOUT_MS });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes the keys under `prefix`, a bounded number of SCAN pages. */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = redisClient();
  try {
    await redis.connect();
    let cursor = '0';
    for (let page = 0; page < 1_000; page++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}

/** `count` users signed up through the API (the cluster has its own database), each with a token. */
async function signedUpUsers(url: string, prefix: string, count: number): Promise<ChatUser[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  return mapLimit(names, SETUP_CONCURRENCY, async (username) => {
    await signup(url, username);
    const { access_token: token } = await passwordGrant(url, username);
    return { username, token };
  });
}

/** Conversations of GROUP users each, started by their first member through the API; returns their ids in order. */
function conversations(url: string, users: readonly ChatUser[]): Promise<string[]> {
  const groups = Array.from({ length: users.length / GROUP }, (_, c) => users.slice(c * GROUP, (c + 1) * GROUP));
  return mapLimit(groups, SETUP_CONCURRENCY, ([first, ...others]) => createConversation(url, first!.token, others.map((u) => u.username)));
}

type ChatSide = 'two' | 'one' | 'sqlite';

const cluster: SectionSpec = {
  id: 'cluster',
  title: 'scale-out: PostgreSQL + Redis, two processes vs one, and PostgreSQL vs SQLite',
  async skip() {
    return (await postgresProblem()) ?? (await redisProblem());
  },
  async run(context): Promise<Section> {
    const { dir, plan, agent } = context.setup;
    const id = randomBytes(6).toString('hex');
    const schema = `bench_${id}`;
    const prefix = `tessera-bench-${id}:`;
    const env = { REDIS_URL, REDIS_PREFIX: prefix };
    const databaseUrl = `${POSTGRES_URL}?schema=${schema}`;
    const nodes: Server[] = [];
    try {
      // The first process migrates the fresh schema; the second starts on it.
      nodes.push(await startTessera(context.setup.children, { dir, databaseUrl, env, name: 'tessera-pg-a' }));
      nodes.push(await startTessera(context.setup.children, { dir, databaseUrl, env, name: 'tessera-pg-b' }));
      const [a, b] = nodes as [Server, Server];
      context.say(`cluster: two tessera processes on PostgreSQL schema ${schema}, Redis prefix ${prefix}`);
      await signup(a.url);
      const users = await signedUpUsers(a.url, 'pg-u', 2 * GROUP * CONVERSATIONS);
      const sets: Record<'two' | 'one', ChatUser[]> = { two: users.slice(0, GROUP * CONVERSATIONS), one: users.slice(GROUP * CONVERSATIONS) };
      const twoTargets = chatTargets(sets.two, await conversations(a.url, sets.two), GROUP);
      const oneRooms = await conversations(a.url, sets.one);
      // Two processes: the members of each conversation are on different processes, so every delivery crosses Redis.
      const onA = twoTargets.filter((_, i) => i % 2 === 0);
      const onB = twoTargets.filter((_, i) => i % 2 === 1);
      const tags: Record<ChatSide, string[]> = { two: [`cluster-a-${id}`, `cluster-b-${id}`], one: [], sqlite: [] };
      await openSockets(context, tags.two[0]!, a, 'tessera', onA, onA.length);
      await openSockets(context, tags.two[1]!, b, 'tessera', onB, onB.length);
      tags.one.push(await openPairs(context, a, 'tessera', sets.one, oneRooms));
      // The same workload on the main tessera (SQLite): its own users and conversations.
      const sqliteUsers = await context.users(GROUP * CONVERSATIONS);
      const sqliteRooms = Array.from({ length: CONVERSATIONS }, (_, c) => `bench-cluster-${id}-${c}`);
      sqliteRooms.forEach((room, c) => seedConversation(context.setup.databaseFile, room, [sqliteUsers[2 * c]!.id, sqliteUsers[2 * c + 1]!.id]));
      tags.sqlite.push(await openPairs(context, context.setup.tessera, 'tessera', sqliteUsers, sqliteRooms));
      const chat = await interleave<ChatSide, PathFigures>(
        ['two', 'one', 'sqlite'],
        plan.rounds,
        (side, warmup) => pathRound(context, tags[side], warmup ? plan.warmupSeconds : plan.roundSeconds),
        (round, r) =>
          context.say(`  cluster chat round ${round}/${plan.rounds}: two PG processes ${Math.round(r.two.perSecond)} msg/s, one ${Math.round(r.one.perSecond)} msg/s, SQLite ${Math.round(r.sqlite.perSecond)} msg/s`),
      );
      for (const tag of Object.values(tags).flat()) await closeSockets(context, tag);

      context.say('cluster: refresh grants on PostgreSQL vs SQLite');
      const sqlite = context.setup.tessera;
      const refresh = await measureRounds(
        agent,
        {
          id: 'refresh-pg',
          targets: { tessera: a, baseline: sqlite },
          request: async (side) => ({
            method: 'POST',
            path: '/token',
            headers: FORM,
            refreshTokens: await newSessions(side === 'tessera' ? a.url : sqlite.url, plan.connections + SPARE_SESSIONS),
            extraBody: `&client_id=${PUBLIC_CLIENT}`,
          }),
        },
        plan,
      );
      const rate = (side: ChatSide) => median(chat.map((r) => r[side].perSecond));
      const versus = (side: ChatSide, other: ChatSide) => median(chat.map((r) => r[side].perSecond / r[other].perSecond));
      const refreshTitle = 'refresh grants/s: PostgreSQL vs SQLite (one process each)';
      return {
        id: 'cluster',
        title: this.title,
        rows: [
          { title: 'chat messages/s: two processes (PG + Redis) vs one', tessera: perSecond(rate('two'), 'msg/s'), baseline: perSecond(rate('one'), 'msg/s'), ratio: ratio(versus('two', 'one')), checks: [ratioAtLeast(versus('two', 'one'), 0.9)] },
          { title: 'chat messages/s: PostgreSQL vs SQLite (one process each)', tessera: perSecond(rate('one'), 'msg/s'), baseline: perSecond(rate('sqlite'), 'msg/s'), ratio: ratio(versus('one', 'sqlite')), checks: [ratioAtLeast(versus('one', 'sqlite'), 0.5)] },
          { title: refreshTitle, tessera: perSecond(refresh.tesseraRate), baseline: perSecond(refresh.baselineRate), ratio: ratio(refresh.ratio), checks: [] },
        ],
        details: [
          `- both processes on the server core (the machine has two: this prices going through Redis, it cannot show more capacity); the message-path workload: ${CONVERSATIONS} conversations of two per side, one socket per member, ${IN_FLIGHT} in flight per socket, the two members of each conversation on different processes`,
          `- rounds, acked msg/s: two processes ${chat.map((r) => r.two.perSecond.toFixed(0)).join(', ')}; one ${chat.map((r) => r.one.perSecond.toFixed(0)).join(', ')}; SQLite ${chat.map((r) => r.sqlite.perSecond.toFixed(0)).join(', ')}`,
          '',
          ...roundDetails(refreshTitle, refresh),
        ],
        problems: [
          ...pathProblems('cluster chat', chat.flatMap((r) => Object.values(r))),
          ...deliveredProblems('cluster chat', chat.flatMap((r) => Object.values(r))),
          ...roundProblems(refreshTitle, refresh),
        ],
      };
    } finally {
      await Promise.all(nodes.map((node) => context.setup.children.stop(node.child)));
      await dropSchema(schema);
      await deleteKeys(prefix);
    }
  },
};

export const clusterSection = cluster;

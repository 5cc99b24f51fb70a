import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/connection';
import { hashRefreshToken } from '../../src/oauth/refresh-tokens';
import { onEachDatabase, POSTGRES_URL } from '../support/server';
import { ChildServer } from './child-server';
import { call, refreshGrant } from './http';
import { allMessages, forkedSessions, orphans, seqProblems, sqliteIntegrity, type MessageRow } from './invariants';
import { Storm, type Post } from './storm';

const STORM_MS = 1_500;
// Longer than kill → restart → checks can take on a slow machine: the grace
// path (a lost answer) is then checked for sure instead of racing the 10 s default.
const REUSE_GRACE_S = 300;
const SETUP_TIMEOUT_MS = 90_000;

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

const nonceKey = (row: { sender: string; nonce: string | null }) => `${row.sender}/${row.nonce}`;

const repost = (base: string, post: Post) =>
  call(base, 'POST', `/messages/${post.conversation}`, { token: post.accessToken, json: { content: post.content, nonce: post.nonce } });

onEachDatabase('tessera killed with -9 mid-storm, then restarted on the same database', (kind) => {
  let dir: string | undefined;
  let schema: string | undefined;
  let first: ChildServer | undefined;
  let server: ChildServer | undefined;
  let db: Knex | undefined;
  let storm: Storm;

  before(async function () {
    this.timeout(SETUP_TIMEOUT_MS);
    dir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
    schema = kind === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
    const databaseUrl = schema ? `${POSTGRES_URL}?schema=${schema}` : `sqlite:${join(dir, 'tessera.db')}`;
    const env = {
      DATABASE_URL: databaseUrl,
      ISSUER: 'http://tessera.test', // fixed: the default names the port, which changes on restart
      LOG_LEVEL: 'warn',
      PASSWORD_HASH_COST: '10',
      RATE_LIMITS: 'off',
      REFRESH_REUSE_GRACE: String(REUSE_GRACE_S),
    };
    first = await ChildServer.start(env, dir);
    storm = await Storm.prepare(first.url);
    await storm.runThenKill(first.url, first, STORM_MS);
    server = await ChildServer.start(env, dir); // migrates again, loads the same keys
    db = openDatabase(databaseUrl);
    console.log(
      `      (${storm.acked.length} messages and ${storm.refreshesAcknowledged} refreshes acknowledged, ${storm.cut.length} posts cut by the kill)`,
    );
  });

  after(async function () {
    this.timeout(30_000);
    await first?.kill();
    await server?.stop();
    if (schema) await db?.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await db?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledged messages and refreshes until the kill cut requests off', () => {
    expect(storm.unexpected).to.deep.equal([]);
    expect(storm.acked.length).to.be.above(0);
    expect(storm.refreshesAcknowledged).to.be.above(0);
    expect(storm.cut.length).to.be.above(0);
  });

  it('keeps every acknowledged message exactly once, by id and by (sender, nonce), at the seq it was acknowledged with', async () => {
    const rows = await allMessages(db!);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const idCounts = countBy(rows, (row) => row.id);
    const nonceCounts = countBy(rows, nonceKey);
    const problems = storm.acked.flatMap((post) => {
      const row: MessageRow | undefined = byId.get(post.id);
      if (!row) return [`${post.id} (${post.nonce}) is missing`];
      const found = [];
      if (idCounts.get(post.id) !== 1) found.push(`${post.id} stored ${idCounts.get(post.id)} times`);
      if (nonceCounts.get(nonceKey({ sender: post.username, nonce: post.nonce })) !== 1) found.push(`${post.username}/${post.nonce} stored more than once`);
      if (row.conversation_id !== post.conversation || Number(row.seq) !== post.seq || row.nonce !== post.nonce || row.sender !== post.username) {
        found.push(`${post.id} moved: ${JSON.stringify(row)}`);
      }
      return found;
    });
    expect(problems).to.deep.equal([]);
  });

  it('keeps seq gap-free from 1 to N in every conversation', async () => {
    expect(await seqProblems(db!)).to.deep.equal([]);
  });

  it('leaves no session with two live refresh tokens', async () => {
    expect(await forkedSessions(db!)).to.deep.equal([]);
  });

  it('leaves no message or membership without its conversation', async () => {
    expect(await orphans(db!)).to.deep.equal([]);
  });

  if (kind === 'sqlite') {
    it('leaves a SQLite file that passes PRAGMA integrity_check', async () => {
      expect(await sqliteIntegrity(db!)).to.deep.equal(['ok']);
    });
  }

  // The client-side invariant: the newest refresh token a client was answered
  // with still works after the crash. Either the kill struck before its next
  // rotation committed (it is live and rotates), or after (the answer was lost:
  // it was rotated, and within the grace it yields its recorded successor,
  // never a fork) — the database says which, and both are checked.
  it('refreshes with the last refresh token each chain was answered with, whether or not its next rotation committed', async () => {
    const lostAnswers: string[] = [];
    for (const chain of storm.chains) {
      const row = await db!('refresh_tokens').where({ token_hash: hashRefreshToken(chain.current) }).first();
      expect(row, `${chain.username}'s last acknowledged refresh token`).to.exist;
      const successor = row.rotated_at === null ? undefined : await db!('refresh_tokens').where({ id: row.successor_id }).first();
      if (row.rotated_at !== null) {
        lostAnswers.push(chain.username);
        expect(successor, 'the successor of a rotated token').to.include({ rotated_at: null });
      }
      const answer = await refreshGrant(server!.url, chain.current);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      const next = String(answer.body.refresh_token);
      if (successor) expect(hashRefreshToken(next)).to.equal(successor.token_hash);
      expect((await refreshGrant(server!.url, next)).status).to.equal(200);
    }
    console.log(`      (${lostAnswers.length} of ${storm.chains.length} chains had their last answer lost)`);
    expect(await forkedSessions(db!)).to.deep.equal([]);
  });

  it('stores a cut post exactly once when its client retries the nonce after the restart', async () => {
    for (const post of storm.cut) {
      const stored = await db!('messages').where({ sender: post.username, nonce: post.nonce }).select('id');
      const answer = await repost(server!.url, post);
      if (stored.length === 1) {
        expect(answer.status).to.equal(200);
        expect(answer.body.id).to.equal(stored[0].id);
      } else {
        expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      }
      expect(await db!('messages').where({ sender: post.username, nonce: post.nonce }).select('id')).to.have.length(1);
    }
    expect(await seqProblems(db!)).to.deep.equal([]);
  });
});

// Rows written straight into tessera's SQLite file (its schema in
// db/migrations/), in batches inside transactions: thousands of users and
// memberships, and a million sessions or messages, would take the API far
// longer than the measurements themselves. Each row is what tessera itself
// writes for the same thing; only what no workload reads back (filler
// sessions' token hashes) is random.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';

const TENANT = 'default';
const BATCH = 20_000;
const SESSION_LIFETIME_MS = 30 * 24 * 3_600_000; // REFRESH_TOKEN_TTL's default
/** The scopes a user gets when a grant names none (SPEC §3.3). */
export const USER_SCOPE = 'tasks:read tasks:write calendar:read calendar:write messages:read messages:write';

export interface SeededUser {
  readonly id: string;
  readonly username: string;
}

function withDatabase<T>(file: string, work: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    // A bigger page cache for keys that land all over their index (token
    // hashes), and no fsync: a bench database need not survive a power cut.
    db.pragma('cache_size = -1000000');
    db.pragma('synchronous = OFF');
    return work(db);
  } finally {
    db.close();
  }
}

const idBase = Date.now().toString(16).padStart(12, '0');
let idSequence = 0;

/**
 * Time-ordered ids shaped like UUIDs (as UUIDv7): a million rows with them
 * go at the end of their primary-key index instead of all over it, which
 * seeds about twice as fast. tessera treats ids as opaque strings.
 */
function orderedId(): string {
  const hex = idBase + (idSequence++).toString(16).padStart(20, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Runs `insert(index)` for 0…count-1, BATCH rows per transaction. */
function batched(db: Database.Database, count: number, insert: (index: number) => void): void {
  const batch = db.transaction((from: number, to: number) => {
    for (let index = from; index < to; index++) insert(index);
  });
  for (let from = 0; from < count; from += BATCH) batch(from, Math.min(count, from + BATCH));
}

/** A copy of `template`'s row (its password hash included) for each new username; returns them all. */
export function seedUsers(file: string, template: string, usernames: readonly string[]): SeededUser[] {
  return withDatabase(file, (db) => {
    const row = db.prepare('SELECT password_hash, roles FROM users WHERE tenant_id = ? AND username_key = ?').get(TENANT, template) as
      | { password_hash: string; roles: string }
      | undefined;
    if (!row) throw new Error(`no user ${template} to copy`);
    const insert = db.prepare(
      'INSERT INTO users (id, tenant_id, username, username_key, email, password_hash, roles, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?, 0, ?, ?)',
    );
    const now = Date.now();
    const users = usernames.map((username) => ({ id: randomUUID(), username }));
    batched(db, users.length, (i) => insert.run(users[i]!.id, TENANT, users[i]!.username, users[i]!.username.toLowerCase(), row.password_hash, row.roles, now, now));
    return users;
  });
}

/** A conversation `id` created by the first member, with every user a member (POST /conversations takes at most 100). */
export function seedConversation(file: string, id: string, memberIds: readonly string[]): void {
  withDatabase(file, (db) => {
    const now = Date.now();
    db.prepare('INSERT INTO conversations (tenant_id, id, title, created_by, last_seq, created_at) VALUES (?, ?, ?, ?, 0, ?)').run(TENANT, id, id, memberIds[0]!, now);
    const insert = db.prepare('INSERT INTO conversation_members (tenant_id, conversation_id, user_id, joined_at) VALUES (?, ?, ?, ?)');
    batched(db, memberIds.length, (i) => insert.run(TENANT, id, memberIds[i]!, now));
  });
}

/**
 * One live session of the built-in client per user id, each with one
 * unused refresh token (stored as its SHA-256, as tessera stores them).
 * Returns the tokens when `keepTokens`, for grants that need them.
 */
export function seedSessions(file: string, userIds: readonly string[], keepTokens: boolean): string[] {
  return withDatabase(file, (db) => {
    const session = db.prepare(
      `INSERT INTO sessions (id, tenant_id, user_id, client_id, scope, created_at, last_used_at, expires_at, revoked_at, revoked_reason, ip, user_agent)
       VALUES (?, ?, ?, 'tessera', ?, ?, ?, ?, NULL, NULL, '127.0.0.1', 'tessera-bench')`,
    );
    const refresh = db.prepare(
      'INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, rotated_at, successor_id, successor_sealed) VALUES (?, ?, ?, ?, NULL, NULL, NULL)',
    );
    const now = Date.now();
    const tokens: string[] = [];
    batched(db, userIds.length, (i) => {
      const id = orderedId();
      const token = randomBytes(32).toString('base64url');
      if (keepTokens) tokens.push(token);
      session.run(id, TENANT, userIds[i]!, USER_SCOPE, now, now, now + SESSION_LIFETIME_MS);
      refresh.run(orderedId(), id, createHash('sha256').update(token).digest('hex'), now);
    });
    return tokens;
  });
}

/** Appends `count` messages from `sender` to a conversation, continuing its seq, and moves its last_seq on. */
export function seedMessages(file: string, conversationId: string, sender: SeededUser, count: number): number {
  return withDatabase(file, (db) => {
    const { last_seq: lastSeq } = db.prepare('SELECT last_seq FROM conversations WHERE tenant_id = ? AND id = ?').get(TENANT, conversationId) as { last_seq: number };
    const insert = db.prepare(
      `INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, sender, role, type, content, nonce, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'user', 'text', ?, NULL, ?)`,
    );
    const now = Date.now();
    batched(db, count, (i) => insert.run(orderedId(), TENANT, conversationId, lastSeq + i + 1, sender.id, sender.username, `seeded message ${lastSeq + i + 1}`, now));
    db.prepare('UPDATE conversations SET last_seq = ? WHERE tenant_id = ? AND id = ?').run(lastSeq + count, TENANT, conversationId);
    return lastSeq + count;
  });
}

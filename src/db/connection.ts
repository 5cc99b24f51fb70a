import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knex, { type Knex } from 'knex';
import { types } from 'pg';
import { DEFAULT_DATABASE_LIMITS, type DatabaseLimits } from '../config';
import { migrationSource } from './migration-source';

export type Database = Knex;

// int8 (epoch milliseconds) as numbers: every timestamp tessera stores fits in 2^53.
types.setTypeParser(20, (value) => Number(value));

const SQLITE_BUSY_TIMEOUT_MS = 5_000;
// Checkpoint the WAL every 10,000 pages (≈ 40 MB) rather than SQLite's 1,000: a checkpoint copies each
// page once however often it was rewritten, and token writes rewrite the same session and index pages.
const SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000;

// statement_timeout is enforced by the server, so it says nothing when the network goes silent: the
// client gives up this much later, leaving the server's own cancellation time to arrive first.
const QUERY_TIMEOUT_MARGIN_MS = 1_000;
// TCP keepalive probes an idle connection after this long rather than the kernel's 2 hours.
const KEEPALIVE_IDLE_MS = 10_000;

let sqliteNativeBinding: object | undefined;

/**
 * Makes every SQLite connection opened from now on use this already loaded
 * better-sqlite3 addon instead of finding `better_sqlite3.node` on disk
 * (the single executable carries the addon inside itself; src/cli/binary.ts).
 */
export function useSqliteNativeBinding(binding: object): void {
  sqliteNativeBinding = binding;
}

interface PooledPostgresConnection {
  readyForQuery?: boolean;
  connection: { on(event: 'readyForQuery', listener: () => void): unknown };
}

/**
 * Which pooled PostgreSQL connections are fit to hand out. One whose query
 * timed out unanswered is on a silent network path, and would hold every
 * later query behind that one. Once that has been seen, the network may have
 * lost the other connections too (a NAT or firewall that forgot them answers
 * nothing, ever, while they look idle and well): every connection that has
 * not answered anything since is dropped as well, and new ones are opened.
 */
function pooledPostgresConnections() {
  const lastAnswer = new WeakMap<PooledPostgresConnection, number>();
  let distrustedBefore = 0;
  return {
    afterCreate(connection: PooledPostgresConnection, done: (error: Error | null, connection: unknown) => void) {
      lastAnswer.set(connection, Date.now());
      connection.connection.on('readyForQuery', () => lastAnswer.set(connection, Date.now()));
      done(null, connection);
    },
    validate(connection: PooledPostgresConnection): boolean {
      if (connection.readyForQuery !== true) {
        distrustedBefore = Date.now();
        return false;
      }
      return (lastAnswer.get(connection) ?? 0) >= distrustedBefore;
    },
  };
}

/**
 * The knex configuration for a `sqlite:<path>` or `postgres://` URL; `limits`
 * bound PostgreSQL's pool and how long any query may wait. Every knex instance
 * is built from it.
 */
export function knexConfig(databaseUrl: string, limits: DatabaseLimits = DEFAULT_DATABASE_LIMITS): Knex.Config {
  // A failing statement's message carries its SQL with placeholders, never the bound values (passwords' hashes, TOTP secrets, codes' hashes), which would reach the error log.
  return { ...dialectConfig(databaseUrl, limits), compileSqlOnError: false };
}

function dialectConfig(databaseUrl: string, limits: DatabaseLimits): Knex.Config {
  if (databaseUrl.startsWith('sqlite:')) {
    const filename = databaseUrl.slice('sqlite:'.length);
    return {
      client: 'better-sqlite3',
      // knex hands connection.options.nativeBinding to better-sqlite3's constructor.
      connection: { filename, ...(sqliteNativeBinding ? { options: { nativeBinding: sqliteNativeBinding } } : {}) },
      useNullAsDefault: true,
      pool: {
        afterCreate(connection: { pragma(sql: string): unknown }, done: (error: Error | null, connection: unknown) => void) {
          connection.pragma('journal_mode = WAL');
          connection.pragma('synchronous = NORMAL');
          connection.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
          connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          connection.pragma('foreign_keys = ON');
          done(null, connection);
        },
      },
      migrations: { migrationSource },
    };
  }
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return {
    client: 'pg',
    connection: {
      connectionString: url.toString(),
      statement_timeout: limits.statementTimeoutMs,
      query_timeout: limits.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
      connectionTimeoutMillis: limits.acquireTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    },
    searchPath: schema ? [schema] : undefined,
    pool: { min: 0, max: limits.poolMax, ...pooledPostgresConnections() },
    acquireConnectionTimeout: limits.acquireTimeoutMs,
    migrations: { migrationSource, schemaName: schema },
  };
}

/** Opens the database; for SQLite creates the file's directory first. */
export function openDatabase(databaseUrl: string, limits: DatabaseLimits = DEFAULT_DATABASE_LIMITS): Database {
  const config = knexConfig(databaseUrl, limits);
  if (config.client === 'better-sqlite3') {
    const { filename } = config.connection as { filename: string };
    if (filename !== ':memory:') mkdirSync(dirname(resolve(filename)), { recursive: true });
  }
  return knex(config);
}

export function isPostgres(db: Database): boolean {
  return db.client.config.client === 'pg';
}

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrate(db: Database): Promise<string[]> {
  const config = db.client.config as Knex.Config;
  const schemaName = config.migrations?.schemaName;
  const run = async () => {
    if (schemaName) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schemaName]);
    const [, ran] = (await db.migrate.latest(config.migrations)) as [number, string[]];
    return ran;
  };
  if (!isPostgres(db)) return run();
  // The processes of a cluster start together: on a fresh database they would all create knex's own
  // tables at once, and all but one fail. An advisory lock, held by this transaction, lets one go first.
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`tessera migrate ${schemaName ?? ''}`]);
    return run();
  });
}

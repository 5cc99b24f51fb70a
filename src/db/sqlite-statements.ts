import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';

const STATEMENT_CACHE_LIMIT = 256;
const caches = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/**
 * A prepared statement of `connection`, prepared once: preparing costs more
 * than running a point query, and knex prepares every statement anew.
 */
export function cachedStatement(connection: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement {
  let statements = caches.get(connection);
  if (!statements) caches.set(connection, (statements = new Map()));
  let prepared = statements.get(sql);
  if (!prepared) {
    if (statements.size >= STATEMENT_CACHE_LIMIT) statements.delete(statements.keys().next().value!);
    prepared = connection.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared;
}

/** Fixed SQL run on one SQLite connection, synchronously. */
export interface SqliteStatements {
  get<T>(sql: string, ...bindings: unknown[]): T | undefined;
  run(sql: string, ...bindings: unknown[]): void;
}

/** True for SQLite outside a transaction: fixed statements may then run on knex's connection directly. */
export const onSqliteConnection = (db: Knex) => !db.isTransaction && (db.client.config as Knex.Config).client === 'better-sqlite3';

type Transaction = BetterSqlite3.Transaction<(work: (statements: SqliteStatements) => unknown) => unknown>;
const transactions = new WeakMap<BetterSqlite3.Database, Transaction>();

function transactionOf(connection: BetterSqlite3.Database): Transaction {
  let transaction = transactions.get(connection);
  if (!transaction) {
    const statements: SqliteStatements = {
      get: <R>(sql: string, ...bindings: unknown[]) => cachedStatement(connection, sql).get(...bindings) as R | undefined,
      run: (sql, ...bindings) => void cachedStatement(connection, sql).run(...bindings),
    };
    transaction = connection.transaction((work: (statements: SqliteStatements) => unknown) => work(statements));
    transactions.set(connection, transaction);
  }
  return transaction;
}

type Outcome = { readonly value: unknown } | { readonly error: unknown };

interface Queued {
  readonly work: (statements: SqliteStatements) => unknown;
  readonly settle: (outcome: Outcome) => void;
}

const queues = new WeakMap<Knex, Queued[]>();

/** Runs the queued calls in one transaction, each in a savepoint of its own, and settles them once it committed. */
async function commitQueued(db: Knex): Promise<void> {
  const queued = queues.get(db) ?? [];
  queues.delete(db);
  let outcomes: Outcome[];
  try {
    const connection = (await db.client.acquireConnection()) as BetterSqlite3.Database;
    try {
      const transaction = transactionOf(connection);
      outcomes = transaction.immediate(() =>
        queued.map(({ work }): Outcome => {
          try {
            // Inside a transaction better-sqlite3 runs this in a savepoint: a failure undoes this call's writes only.
            return { value: transaction(work) };
          } catch (error) {
            // Some errors (a full disk, I/O) end the whole transaction: then nothing of it may count.
            if (!connection.inTransaction) throw error;
            return { error };
          }
        }),
      ) as Outcome[];
    } finally {
      // Once committed, the outcomes stand: a failed release must not turn them into errors.
      await Promise.resolve(db.client.releaseConnection(connection)).catch(() => undefined);
    }
  } catch (error) {
    outcomes = queued.map(() => ({ error }));
  }
  outcomes.forEach((outcome, i) => queued[i]!.settle(outcome));
}

/**
 * Runs `work` in an IMMEDIATE transaction on knex's own SQLite connection
 * (its pool holds one, so knex's transactions and this one never
 * interleave), synchronously, with statements prepared once per connection.
 * The calls made in one turn of the event loop share the transaction (group
 * commit: a commit writes every page it changed to the WAL, which costs more
 * than a token's own statements), each in a savepoint of its own; each
 * call's promise settles once the transaction has committed.
 */
export function sqliteTransaction<T>(db: Knex, work: (statements: SqliteStatements) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let queue = queues.get(db);
    if (!queue) {
      queues.set(db, (queue = []));
      setImmediate(() => void commitQueued(db));
    }
    queue.push({ work, settle: (outcome) => ('error' in outcome ? reject(outcome.error) : resolve(outcome.value as T)) });
  });
}

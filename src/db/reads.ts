import BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Database } from './connection';
import { cachedStatement } from './sqlite-statements';

/**
 * Runs SELECTs. On SQLite the hot, non-transactional reads go through a
 * read-only connection of their own with cached prepared statements: knex
 * prepares every statement anew and goes through its pool, which costs more
 * than the read itself. In WAL mode that connection sees every committed
 * write at once. Elsewhere queries run through knex.
 */
export interface Reads {
  all<T>(query: Knex.QueryBuilder): Promise<T[]>;
  first<T>(query: Knex.QueryBuilder): Promise<T | undefined>;
  /**
   * The first row of a fixed SELECT written in SQL both databases accept
   * (`?` placeholders): for the hottest reads, since building a query with
   * knex costs more than SQLite takes to run it.
   */
  row<T>(sql: string, bindings: readonly unknown[]): Promise<T | undefined>;
  close(): void;
}

const sqliteBinding = (value: unknown) => (typeof value === 'boolean' ? Number(value) : value instanceof Date ? value.valueOf() : value);

// knex.raw answers with the driver's result: an array of rows from better-sqlite3, `{ rows }` from pg.
const rawRows = <T>(result: unknown) => (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];

/** Reads straight through knex (`db` or a transaction): PostgreSQL, and any read inside a transaction. */
export const knexReads = (db: Knex): Reads => ({
  all: async <T>(query: Knex.QueryBuilder) => (await query) as T[],
  first: async <T>(query: Knex.QueryBuilder) => ((await query.limit(1)) as T[])[0],
  row: async <T>(sql: string, bindings: readonly unknown[]) => rawRows<T>(await db.raw(sql, bindings as Knex.RawBinding[]))[0],
  close: () => undefined,
});

/** Turns what a statement returns for one row into the row object. */
type RowOf = (returned: unknown) => Record<string, unknown>;

const asObject: RowOf = (returned) => returned as Record<string, unknown>;

/** Switches the statement to arrays and names their values in JS. */
function namedFromArrays(statement: BetterSqlite3.Statement): RowOf {
  const names = statement.columns().map((column) => column.name);
  statement.raw(true);
  return (returned) => {
    const values = returned as unknown[];
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  };
}

export function createReads(db: Database): Reads {
  const config = db.client.config as Knex.Config;
  if (config.client !== 'better-sqlite3') return knexReads(db);
  const { filename, options } = config.connection as { filename: string; options?: { nativeBinding?: object } };
  if (filename === ':memory:') return knexReads(db);
  // Opened lazily: the file exists once knex has created and migrated it.
  let connection: BetterSqlite3.Database | undefined;

  function open(): BetterSqlite3.Database {
    const opened = new BetterSqlite3(filename, { readonly: true, fileMustExist: true, ...(options?.nativeBinding ? { nativeBinding: options.nativeBinding as never } : {}) });
    opened.pragma('busy_timeout = 5000');
    return opened;
  }

  // Rows come as arrays and become objects here: better-sqlite3 builds each
  // object property by property through V8's API, which costs about twice as much.
  // Only for SQL that names its columns: SQLite re-prepares a statement after a
  // schema change (a migration run elsewhere), and a `*` could then bring other
  // columns than the names read when it was first prepared.
  const readers = new WeakMap<BetterSqlite3.Statement, RowOf>();
  function readerOf(sql: string) {
    const statement = cachedStatement((connection ??= open()), sql);
    let toRow = readers.get(statement);
    if (!toRow) {
      toRow = sql.includes('*') ? asObject : namedFromArrays(statement);
      readers.set(statement, toRow);
    }
    return { statement, toRow };
  }
  const all = <T>(sql: string, bindings: readonly unknown[]): T[] => {
    const { statement, toRow } = readerOf(sql);
    return (statement.all(...bindings.map(sqliteBinding)) as unknown[]).map(toRow) as T[];
  };
  const run = <T>(query: Knex.QueryBuilder): T[] => {
    const { sql, bindings } = query.toSQL().toNative();
    return all<T>(sql, bindings);
  };

  return {
    all: async <T>(query: Knex.QueryBuilder) => run<T>(query),
    first: async <T>(query: Knex.QueryBuilder) => run<T>(query.limit(1))[0],
    async row<T>(sql: string, bindings: readonly unknown[]): Promise<T | undefined> {
      const { statement, toRow } = readerOf(sql);
      const returned: unknown = statement.get(...bindings.map(sqliteBinding));
      return returned === undefined ? undefined : (toRow(returned) as T);
    },
    close() {
      connection?.close();
      connection = undefined;
    },
  };
}

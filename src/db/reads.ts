import BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Database } from './connection';

/**
 * Runs SELECTs built with knex. On SQLite the hot, non-transactional reads
 * go through a read-only connection of their own with cached prepared
 * statements: knex prepares every statement anew and goes through its
 * pool, which costs more than the read itself. In WAL mode that connection
 * sees every committed write at once. Elsewhere queries run through knex.
 */
export interface Reads {
  all<T>(query: Knex.QueryBuilder): Promise<T[]>;
  first<T>(query: Knex.QueryBuilder): Promise<T | undefined>;
  close(): void;
}

const STATEMENT_CACHE_LIMIT = 256;

const sqliteBinding = (value: unknown) => (typeof value === 'boolean' ? Number(value) : value instanceof Date ? value.valueOf() : value);

/** Reads straight through knex: PostgreSQL, and any read inside a transaction. */
export const knexReads = (): Reads => ({
  all: async <T>(query: Knex.QueryBuilder) => (await query) as T[],
  first: async <T>(query: Knex.QueryBuilder) => ((await query.limit(1)) as T[])[0],
  close: () => undefined,
});

export function createReads(db: Database): Reads {
  const config = db.client.config as Knex.Config;
  if (config.client !== 'better-sqlite3') return knexReads();
  const { filename, options } = config.connection as { filename: string; options?: { nativeBinding?: object } };
  if (filename === ':memory:') return knexReads();
  // Opened lazily: the file exists once knex has created and migrated it.
  let connection: BetterSqlite3.Database | undefined;
  const statements = new Map<string, BetterSqlite3.Statement>();

  function open(): BetterSqlite3.Database {
    const opened = new BetterSqlite3(filename, { readonly: true, fileMustExist: true, ...(options?.nativeBinding ? { nativeBinding: options.nativeBinding as never } : {}) });
    opened.pragma('busy_timeout = 5000');
    return opened;
  }

  function statement(sql: string): BetterSqlite3.Statement {
    let prepared = statements.get(sql);
    if (!prepared) {
      connection ??= open();
      if (statements.size >= STATEMENT_CACHE_LIMIT) statements.delete(statements.keys().next().value!);
      prepared = connection.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  }

  const run = <T>(query: Knex.QueryBuilder): T[] => {
    const { sql, bindings } = query.toSQL().toNative();
    return statement(sql).all(...bindings.map(sqliteBinding)) as T[];
  };

  return {
    all: async <T>(query: Knex.QueryBuilder) => run<T>(query),
    first: async <T>(query: Knex.QueryBuilder) => run<T>(query.limit(1))[0],
    close() {
      connection?.close();
      connection = undefined;
      statements.clear();
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knex from 'knex';
import supertest from 'supertest';
import { loadConfig, type Environment } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { createTessera, type Tessera } from '../../src/tessera';

export type DatabaseKind = 'sqlite' | 'postgres';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A running tessera on loopback, over a fresh SQLite file or a fresh PostgreSQL schema. */
export interface TestServer {
  readonly tessera: Tessera;
  readonly url: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly request: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

/** True when the PostgreSQL the tests use answers. */
export async function postgresReachable(): Promise<boolean> {
  const db = knex({ client: 'pg', connection: { connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 }, pool: { min: 0, max: 1 } });
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await db.destroy();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const db = knex({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 } });
  try {
    await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
  } finally {
    await db.destroy();
  }
}

export interface ServerOptions {
  /** Replaces the silent logger (a test that reads the logs passes its own). */
  readonly logger?: Logger;
  /** The services' clock (a test of expiry moves it). */
  readonly clock?: () => number;
  /** Listen on this port instead of any free one (a test whose ISSUER must name the port). */
  readonly port?: number;
}

/** Starts tessera with test-friendly defaults (cheap password hashes, no logs) and `env` on top. */
export async function startServer(env: Environment = {}, database: DatabaseKind = 'sqlite', { logger, clock, port: fixedPort }: ServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const databaseUrl = database === 'sqlite' ? `sqlite:${join(dir, 'tessera.db')}` : `${POSTGRES_URL}?schema=${schema}`;
  const config = loadConfig({ PASSWORD_HASH_COST: '10', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, PORT: '0', ...env });
  const tessera = await createTessera(config, { logger: logger ?? createLogger(config.logLevel), ...(clock ? { clock } : {}) });
  const port = await tessera.listen(fixedPort ?? 0, '127.0.0.1');
  return {
    tessera,
    port,
    url: `http://127.0.0.1:${port}`,
    databaseUrl,
    request: supertest(tessera.server),
    async close() {
      await tessera.close();
      if (database === 'postgres') await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A second tessera process on the database of `first`, as a TestServer (closing it leaves the database to `first`). */
export async function startSecondProcess(first: TestServer, env: Environment = {}, { clock }: ServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({ PASSWORD_HASH_COST: '10', LOG_LEVEL: 'silent', DATABASE_URL: first.databaseUrl, PORT: '0', ...env });
  const tessera = await createTessera(config, { logger: createLogger(config.logLevel), ...(clock ? { clock } : {}) });
  const port = await tessera.listen(0, '127.0.0.1');
  return { tessera, port, url: `http://127.0.0.1:${port}`, databaseUrl: first.databaseUrl, request: supertest(tessera.server), close: () => tessera.close() };
}

/**
 * Declares a suite once per database: always SQLite, and PostgreSQL when it
 * answers (in CI it must: there an unreachable PostgreSQL fails the suite).
 */
export function onEachDatabase(title: string, suite: (database: DatabaseKind) => void): void {
  describe(`${title} (SQLite)`, () => suite('sqlite'));
  describe(`${title} (PostgreSQL)`, function () {
    before(async function () {
      if (await postgresReachable()) return;
      if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${POSTGRES_URL}`);
      console.log(`      (skipped: PostgreSQL is not reachable at ${POSTGRES_URL})`);
      this.skip();
    });
    suite('postgres');
  });
}

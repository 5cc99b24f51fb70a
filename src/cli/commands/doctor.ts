import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import type { Config } from '../../config';
import { knexConfig, type Database } from '../../db/connection';
import { migrationSource } from '../../db/migration-source';
import { createSigningKeyQueries } from '../../db/queries/signing-keys';
import { BUILT_IN_TENANT } from '../../tenants/tenant';
import { CliError, parseCommandArgs, type Command } from '../command';
import { cliConfig } from '../context';

const usage = `Usage: tessera doctor [--json]

Checks the configuration, the database (reachable, migrations applied), the
signing keys and Redis, and warns about risky settings. Changes nothing.
Exit code 0 when no check failed, 1 otherwise.`;

const REDIS_TIMEOUT_MS = 2_000;
const ALL_INTERFACES = new Set(['0.0.0.0', '::', '[::]']);

type Status = 'ok' | 'warn' | 'FAIL';

interface Check {
  readonly status: Status;
  readonly check: string;
  readonly detail: string;
}

const check = (status: Status, name: string, detail: string): Check => ({ status, check: name, detail });

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)) || 'unknown error';

/** Where the database is, in words, without credentials. */
function databaseName(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) return `SQLite at ${resolve(databaseUrl.slice('sqlite:'.length))}`;
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  return `PostgreSQL at ${url.host}${url.pathname}${schema ? ` (schema ${schema})` : ''}`;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function hasTable(db: Database, table: string): Promise<boolean> {
  const schemaName = (db.client.config as Knex.Config).migrations?.schemaName;
  return schemaName ? db.schema.withSchema(schemaName).hasTable(table) : db.schema.hasTable(table);
}

/** The names of the applied migrations, read without creating knex's tables (doctor changes nothing). */
async function appliedMigrations(db: Database): Promise<string[]> {
  if (!(await hasTable(db, 'knex_migrations'))) return [];
  const config = (db.client.config as Knex.Config).migrations;
  const [completed] = (await db.migrate.list({ ...config, disableMigrationsListValidation: true })) as [Array<{ name: string }>, unknown[]];
  return completed.map((migration) => migration.name);
}

async function checkMigrations(applied: readonly string[]): Promise<Check> {
  const known = (await migrationSource.getMigrations([])).map((migration) => migrationSource.getMigrationName(migration));
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    return check('FAIL', 'migrations', `the database has migrations this tessera does not know (${unknown.join(', ')}): a newer version migrated it`);
  }
  const pending = known.filter((name) => !applied.includes(name));
  if (pending.length > 0) {
    return check('warn', 'migrations', `${pending.length} of ${known.length} not applied yet (${pending.join(', ')}); tessera migrate or the next tessera serve applies them`);
  }
  return check('ok', 'migrations', `all ${known.length} applied`);
}

async function checkSigningKeys(db: Database | undefined, config: Config): Promise<Check> {
  if (config.jwtAlg === 'HS256') return check('ok', 'signing keys', 'HS256 signs with JWT_SECRET');
  const rows = db && (await hasTable(db, 'signing_keys')) ? await createSigningKeyQueries(db).listPublished(BUILT_IN_TENANT, Date.now()) : [];
  const signing = rows.find((row) => row.retired_at === null && row.alg === config.jwtAlg);
  if (!signing) return check('warn', 'signing keys', `no ${config.jwtAlg} key yet; created on first serve`);
  return check('ok', 'signing keys', `${config.jwtAlg} key ${signing.kid} signs new tokens`);
}

/** The database checks: reachable, migrations, keys. Never creates the SQLite file. */
async function checkDatabase(config: Config): Promise<Check[]> {
  const where = databaseName(config.databaseUrl);
  if (config.databaseUrl.startsWith('sqlite:') && !existsSync(resolve(config.databaseUrl.slice('sqlite:'.length)))) {
    return [
      check('warn', 'database', `${where} does not exist yet; tessera migrate or the first tessera serve creates it`),
      await checkMigrations([]),
      await checkSigningKeys(undefined, config),
    ];
  }
  // knex's own warnings (a stack per failed connection attempt) would repeat what the check line says.
  const quiet = () => undefined;
  const db = knex({ ...knexConfig(config.databaseUrl, config.databaseLimits), log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet } });
  try {
    try {
      await db.raw('select 1');
    } catch (error) {
      return [check('FAIL', 'database', `cannot reach ${where}: ${reason(error)}`)];
    }
    return [check('ok', 'database', `${where} answers`), await checkMigrations(await appliedMigrations(db)), await checkSigningKeys(db, config)];
  } finally {
    await db.destroy();
  }
}

async function checkRedis(redisUrl: string | undefined): Promise<Check> {
  if (!redisUrl) return check('ok', 'redis', 'not configured (REDIS_URL unset): fan-out and rate limits stay in this process');
  const where = new URL(redisUrl).host;
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    disconnectTimeout: 100, // a socket still connecting is destroyed soon after disconnect(), not 2 s later
  });
  let connectionError: Error | undefined; // ioredis reports why on 'error'; the ping only says the connection closed
  redis.on('error', (error: Error) => (connectionError ??= error));
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), REDIS_TIMEOUT_MS, 'no answer');
    return check('ok', 'redis', `${where} answers PING`);
  } catch (error) {
    return check('FAIL', 'redis', `cannot reach ${where}: ${reason(connectionError ?? error)}`);
  } finally {
    // A refused connection has already ended; disconnecting it again would hold the process for disconnectTimeout.
    if (redis.status !== 'end') redis.disconnect();
  }
}

/** Settings that work but are risky: a warning each, else an ok line. */
function checkSettings(config: Config): Check[] {
  const address = `${config.host}:${config.port}`;
  return [
    config.production && config.issuer.startsWith('http://')
      ? check('warn', 'issuer', `${config.issuer} is plain http in production; set ISSUER to the https:// address clients use`)
      : check('ok', 'issuer', config.issuer),
    config.rateLimits.enabled
      ? check('ok', 'rate limits', 'on')
      : check('warn', 'rate limits', 'RATE_LIMITS=off: no limit on /token, /signup, /register, failed logins or socket handshakes per IP; only for benchmarks or behind a gateway that limits'),
    config.clientRegistration === 'open' && !config.rateLimits.enabled
      ? check('warn', 'client registration', 'CLIENT_REGISTRATION=open with RATE_LIMITS=off: anyone may register any number of clients')
      : check('ok', 'client registration', config.clientRegistration),
    config.metricsToken !== undefined
      ? check('ok', 'metrics', '/metrics wants METRICS_TOKEN')
      : config.production
        ? check('warn', 'metrics', 'METRICS_TOKEN is unset: /metrics answers 403 in production; set it to scrape metrics')
        : check('ok', 'metrics', '/metrics is open without METRICS_TOKEN (not production; in production it answers 403)'),
    ALL_INTERFACES.has(config.host) && config.trustProxy === false
      ? check('warn', 'listen address', `${address} listens on every interface and TRUST_PROXY is not set: behind a reverse proxy every client looks like the proxy to rate limits and session IPs`)
      : check('ok', 'listen address', address),
  ];
}

async function runChecks(): Promise<Check[]> {
  let config: Config;
  try {
    config = cliConfig();
  } catch (error) {
    if (error instanceof CliError) return [check('FAIL', 'configuration', error.message)];
    throw error;
  }
  return [
    check('ok', 'configuration', `every variable parses (NODE_ENV ${config.production ? 'production' : 'not production'}, JWT_ALG ${config.jwtAlg})`),
    ...(await checkDatabase(config)),
    await checkRedis(config.redisUrl),
    ...checkSettings(config),
  ];
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check the configuration, database, keys and Redis without changing anything',
  usage,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, usage);
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return;
    }
    const checks = await runChecks();
    process.stdout.write(
      values.json
        ? `${JSON.stringify(checks, null, 2)}\n`
        : checks.map(({ status, check: name, detail }) => `${status.padEnd(4)}  ${name}: ${detail}\n`).join(''),
    );
    if (checks.some((c) => c.status === 'FAIL')) process.exitCode = 1;
  },
};

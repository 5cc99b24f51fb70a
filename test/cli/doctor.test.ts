import { expect } from 'chai';
import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { CliWorkspace, type CliResult } from './cli-process';

interface Check {
  status: 'ok' | 'warn' | 'FAIL';
  check: string;
  detail: string;
}

const lines = ({ stdout }: CliResult) => stdout.split('\n').filter(Boolean);
const linesOf = (result: CliResult, status: string) => lines(result).filter((line) => line.startsWith(`${status} `));

/** A loopback port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The table names of a SQLite file, read directly. */
function tablesOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((row) => row.name);
  } finally {
    db.close();
  }
}

describe('tessera doctor', () => {
  let cli: CliWorkspace;
  beforeEach(() => {
    cli = new CliWorkspace();
  });
  afterEach(() => cli.close());

  describe('on a migrated SQLite database with a signing key', () => {
    let kid: string;
    beforeEach(async () => {
      // keys list migrates and creates the first key, as the first serve would.
      const keys = JSON.parse(await cli.ok(['keys', 'list', '--json'])) as Array<{ kid: string; alg: string }>;
      kid = keys.find((key) => key.alg === 'ES256')!.kid;
    });

    it('prints an ok line for every check and exits 0', async () => {
      const result = await cli.run(['doctor']);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      for (const line of lines(result)) expect(line).to.match(/^ok {4}[a-z ]+: \S/);
      expect(lines(result).map((line) => line.slice(6).split(':')[0])).to.include.members(['configuration', 'database', 'migrations', 'signing keys', 'redis']);
      expect(result.stdout).to.include(`signing keys: ES256 key ${kid} signs new tokens`);
      expect(result.stdout).to.include(`database: SQLite at ${cli.databaseFile} answers`);
    });

    it('prints the same checks as JSON with --json', async () => {
      const [text, json] = await Promise.all([cli.run(['doctor']), cli.run(['doctor', '--json'])]);
      expect(json.code).to.equal(0);
      const checks = JSON.parse(json.stdout) as Check[];
      expect(checks.map(({ status, check, detail }) => `${status.padEnd(4)}  ${check}: ${detail}`)).to.deep.equal(lines(text));
      expect(checks.every((c) => c.status === 'ok')).to.equal(true);
    });

    it('exits 1 with FAIL migrations when the database holds a migration this version does not know', async () => {
      const db = new Database(cli.databaseFile);
      db.prepare('INSERT INTO knex_migrations (name, batch, migration_time) VALUES (?, ?, ?)').run('29991231_001_future', 99, Date.now());
      db.close();
      const result = await cli.run(['doctor']);
      expect(result.code).to.equal(1);
      expect(linesOf(result, 'FAIL')).to.have.length(1);
      expect(linesOf(result, 'FAIL')[0]).to.match(/^FAIL {2}migrations: .*29991231_001_future.*newer version/);
    });
  });

  it('exits 1 with a FAIL line naming JWT_SECRET when JWT_ALG=HS256 has no secret', async () => {
    const result = await cli.run(['doctor'], { env: { JWT_ALG: 'HS256' } });
    expect(result.code).to.equal(1);
    expect(lines(result)).to.have.length(1);
    expect(lines(result)[0]).to.match(/^FAIL {2}configuration: invalid configuration: JWT_SECRET: /);
  });

  it('exits 1 with FAIL redis when REDIS_URL points at a port nothing listens on', async () => {
    await cli.ok(['migrate']);
    const port = await closedPort();
    const result = await cli.run(['doctor'], { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    expect(result.code).to.equal(1);
    expect(linesOf(result, 'FAIL')).to.deep.equal([`FAIL  redis: cannot reach 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`]);
  });

  it('bounds the Redis ping: a server that accepts but never answers is a FAIL after 2 s', async () => {
    await cli.ok(['migrate']);
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const result = await cli.run(['doctor'], { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
      expect(result.code).to.equal(1);
      expect(linesOf(result, 'FAIL')).to.deep.equal([`FAIL  redis: cannot reach 127.0.0.1:${port}: no answer within 2 s`]);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('says an empty database has no migrations applied and no key yet, exits 0, and leaves it unmigrated', async () => {
    writeFileSync(cli.databaseFile, '');
    const result = await cli.run(['doctor']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^ok {4}database: /m);
    expect(result.stdout).to.match(/^warn {2}migrations: (\d+) of \1 not applied yet \(20261123_001_initial, .*tessera migrate/m);
    expect(result.stdout).to.match(/^warn {2}signing keys: no ES256 key yet; created on first serve$/m);
    expect(tablesOf(cli.databaseFile)).to.deep.equal([]);
  });

  it('says a SQLite file that does not exist yet will be created, and does not create it', async () => {
    const result = await cli.run(['doctor']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include(`warn  database: SQLite at ${cli.databaseFile} does not exist yet`);
    expect(linesOf(result, 'FAIL')).to.deep.equal([]);
    expect(existsSync(cli.databaseFile)).to.equal(false);
  });

  it('warns about an http ISSUER in production, RATE_LIMITS=off (with open client registration), no METRICS_TOKEN and HOST=0.0.0.0 without TRUST_PROXY, and still exits 0', async () => {
    await cli.ok(['keys', 'list']);
    const env = { NODE_ENV: 'production', ISSUER: 'http://auth.example.test', RATE_LIMITS: 'off', HOST: '0.0.0.0', CLIENT_REGISTRATION: 'open' };
    const result = await cli.run(['doctor'], { env });
    expect(result.code).to.equal(0);
    expect(linesOf(result, 'warn').map((line) => line.slice(6).split(':')[0])).to.deep.equal(['issuer', 'rate limits', 'client registration', 'metrics', 'listen address']);
    expect(result.stdout).to.match(/^warn {2}client registration: CLIENT_REGISTRATION=open with RATE_LIMITS=off/m);
    expect(result.stdout).to.match(/^warn {2}metrics: METRICS_TOKEN is unset: \/metrics answers 403 in production/m);
    expect(result.stdout).to.match(/^warn {2}issuer: http:\/\/auth\.example\.test is plain http in production/m);
    expect(result.stdout).to.match(/^warn {2}listen address: 0\.0\.0\.0:8080 .*TRUST_PROXY/m);
  });

  it('does not warn about HOST=0.0.0.0 with TRUST_PROXY set, nor about an https ISSUER or METRICS_TOKEN set in production', async () => {
    await cli.ok(['keys', 'list']);
    const env = { NODE_ENV: 'production', ISSUER: 'https://auth.example.test', HOST: '0.0.0.0', TRUST_PROXY: '1', METRICS_TOKEN: 'a-metrics-token-of-32-characters' };
    const result = await cli.run(['doctor'], { env });
    expect(result.code).to.equal(0);
    expect(linesOf(result, 'warn')).to.deep.equal([]);
    expect(result.stdout).to.include('ok    listen address: 0.0.0.0:8080');
  });
});

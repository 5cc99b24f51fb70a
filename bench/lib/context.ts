// What every section of the bench shares: the main tessera (SQLite), the
// load agent, the bench user and client, the baselines (started when a
// section first needs one) and a pool of users with access tokens.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Agent } from './agent-client';
import { accessTokensFor, BENCH_USER, discovery, type BenchClient, type TokenResponse } from './api';
import type { Children } from './children';
import type { Plan } from './http-rounds';
import { startPeer, type PeerName } from './peers';
import { seedSessions, seedUsers, USER_SCOPE, type SeededUser } from './sqlite-seed';
import type { Server } from './tessera';

export type Mode = 'quick' | 'full';

/** A user of the pool: its row, and an access token (scope: the user scopes) for its sockets. */
export interface TokenUser extends SeededUser {
  readonly token: string;
}

export interface Setup {
  readonly mode: Mode;
  readonly plan: Plan;
  readonly dir: string;
  readonly children: Children;
  readonly agent: Agent;
  readonly tessera: Server;
  readonly databaseUrl: string; // sqlite:<databaseFile>
  readonly databaseFile: string;
  readonly login: TokenResponse; // the bench user's first password grant
  readonly client: BenchClient;
  readonly me: object; // tessera's GET /me body
  readonly tasks: unknown; // tessera's GET /tasks body
}

export class Context {
  /** Things a reader of results.md should know about this run (retries after a stall). */
  readonly notes: string[] = [];
  private readonly peers = new Map<PeerName, Promise<Server>>();
  private readonly pool: TokenUser[] = [];
  private bench: SeededUser | undefined;

  constructor(readonly setup: Setup) {}

  get mode(): Mode {
    return this.setup.mode;
  }

  say(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  /** Says it, and keeps it for results.md. */
  note(line: string): void {
    this.notes.push(line);
    this.say(`  note: ${line}`);
  }

  /** The bench user, with its row id (from GET /me). */
  get benchUser(): SeededUser & { token: string } {
    this.bench ??= { id: (this.setup.me as { id: string }).id, username: BENCH_USER };
    return { ...this.bench, token: this.setup.login.access_token };
  }

  /** A baseline, started the first time it is asked for. */
  peer(name: PeerName): Promise<Server> {
    let started = this.peers.get(name);
    if (!started) {
      started = this.peerEnv(name).then((env) => startPeer(this.setup.children, this.setup.dir, name, env));
      this.peers.set(name, started);
    }
    return started;
  }

  /** A new process of a baseline, not shared: for figures that need a fresh process (memory). */
  async freshPeer(name: PeerName): Promise<Server> {
    return startPeer(this.setup.children, this.setup.dir, name, await this.peerEnv(name));
  }

  private async peerEnv(name: PeerName): Promise<Record<string, string>> {
    const { tessera, dir } = this.setup;
    switch (name) {
      case 'bare-express':
        return { ME_BODY: JSON.stringify(this.setup.me), TASKS_BODY: JSON.stringify(this.setup.tasks) };
      case 'express-constructed':
        return { ...(await this.peerEnv('bare-express')), PROTOTYPES: 'constructed' };
      case 'bare-ws':
        return { WELCOME_FRAME: this.welcomeFrame() };
      case 'ws-relay':
        return {};
      case 'socketio': {
        const { issuer, jwks } = await discovery(tessera.url);
        return { ISSUER: issuer, JWKS_JSON: JSON.stringify(jwks) };
      }
      case 'oauth2-server': {
        const seedFile = join(dir, 'oauth2-server-seed.json');
        writeFileSync(seedFile, JSON.stringify(this.oauthPeerSeed()));
        return { SEED_FILE: seedFile, DATABASE_FILE: join(dir, 'oauth2-server.db') };
      }
    }
  }

  /** tessera's welcome frame for the bench user, the same length as the real one. */
  private welcomeFrame(): string {
    return JSON.stringify({ type: 'welcome', username: BENCH_USER, connection_id: randomUUID(), expires_at: new Date(Date.now() + 3_600_000).toISOString() });
  }

  /** tessera's own rows for the bench user and the clients, read from its database. */
  private oauthPeerSeed(): object {
    const db = new Database(this.setup.databaseFile, { readonly: true });
    try {
      return {
        users: db.prepare('SELECT id, username_key AS username, password_hash FROM users WHERE username_key = ?').all(BENCH_USER),
        clients: db.prepare("SELECT id, secret_hash, grant_types, scope FROM clients WHERE tenant_id = 'default'").all(),
        userScope: USER_SCOPE,
      };
    } finally {
      db.close();
    }
  }

  /**
   * At least `count` users (bench-u1, bench-u2, …) with an access token each:
   * rows copied from the bench user, a seeded session each, and one refresh
   * grant each for its token. Grown on demand, kept for the run.
   */
  async users(count: number): Promise<TokenUser[]> {
    const missing = count - this.pool.length;
    if (missing > 0) {
      const started = Date.now();
      const names = Array.from({ length: missing }, (_, i) => `bench-u${this.pool.length + i + 1}`);
      const users = seedUsers(this.setup.databaseFile, BENCH_USER, names);
      const refreshTokens = seedSessions(
        this.setup.databaseFile,
        users.map((user) => user.id),
        true,
      );
      const tokens = await accessTokensFor(this.setup.tessera.url, refreshTokens);
      users.forEach((user, i) => this.pool.push({ ...user, token: tokens[i]! }));
      this.say(`  ${missing} users with tokens ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pool ${this.pool.length})`);
    }
    return this.pool.slice(0, count);
  }
}

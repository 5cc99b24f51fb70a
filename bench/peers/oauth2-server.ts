// The token-server baseline: @node-oauth/oauth2-server 5 through its Express
// wrapper (@node-oauth/express-oauth-server), as their documentation shows,
// with a model on SQLite (better-sqlite3, WAL and synchronous=NORMAL as
// tessera sets them). Same data as tessera: SEED_FILE holds tessera's own
// user rows (scrypt hashes, verified here with the same N, r, p and key
// length, so the same cost) and client rows (SHA-256 secret hashes).
// Access tokens are ES256 JWTs (the documented generateAccessToken hook,
// jsonwebtoken with a KeyObject), as tessera's are; refresh tokens are the
// library's default random tokens, rotated on every use (its default,
// alwaysIssueNewRefreshToken) by deleting the used row and storing the new one.
import { createHash, generateKeyPairSync, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ExpressOAuthServer from '@node-oauth/express-oauth-server';
import type { Client, ClientCredentialsModel, PasswordModel, RefreshToken, RefreshTokenModel, Token, User } from '@node-oauth/oauth2-server';
import Database from 'better-sqlite3';
import express from 'express';
import jwt from 'jsonwebtoken';

export interface PeerSeed {
  readonly users: ReadonlyArray<{ id: string; username: string; password_hash: string }>;
  readonly clients: ReadonlyArray<{ id: string; secret_hash: string | null; grant_types: string; scope: string }>;
  readonly userScope: string; // what a user gets when `scope` is omitted (SPEC §3.3)
}

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const issuer = `http://${host}:${port}`;
const ACCESS_TOKEN_LIFETIME = 3600; // s, as the bench's tessera
const seed = JSON.parse(readFileSync(process.env.SEED_FILE ?? '', 'utf8')) as PeerSeed;

const db = new Database(process.env.DATABASE_FILE ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL);
  CREATE TABLE clients (id TEXT PRIMARY KEY, secret_hash TEXT, grants TEXT NOT NULL, scope TEXT NOT NULL);
  CREATE TABLE tokens (
    access_token TEXT NOT NULL, access_token_expires_at INTEGER NOT NULL,
    refresh_token TEXT UNIQUE, refresh_token_expires_at INTEGER,
    scope TEXT NOT NULL, client_id TEXT NOT NULL REFERENCES clients(id), user_id TEXT NOT NULL
  );
`);
db.transaction(() => {
  const user = db.prepare('INSERT INTO users (id, username, password_hash) VALUES (?, ?, ?)');
  for (const row of seed.users) user.run(row.id, row.username, row.password_hash);
  const client = db.prepare('INSERT INTO clients (id, secret_hash, grants, scope) VALUES (?, ?, ?, ?)');
  for (const row of seed.clients) client.run(row.id, row.secret_hash, row.grant_types, row.scope);
})();

const statements = {
  client: db.prepare<[string], { id: string; secret_hash: string | null; grants: string; scope: string }>('SELECT * FROM clients WHERE id = ?'),
  user: db.prepare<[string], { id: string; username: string; password_hash: string }>('SELECT * FROM users WHERE username = ?'),
  saveToken: db.prepare('INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)'),
  refreshToken: db.prepare<[string], { refresh_token: string; refresh_token_expires_at: number; scope: string; client_id: string; user_id: string; username: string }>(
    `SELECT t.refresh_token, t.refresh_token_expires_at, t.scope, t.client_id, t.user_id, u.username
     FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.refresh_token = ?`,
  ),
  revoke: db.prepare('DELETE FROM tokens WHERE refresh_token = ?'),
};

// tessera's hash format: $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>, base64url.
const HASH_FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(stored);
  if (!match) return Promise.resolve(false);
  const [, logN, r, p, salt, hash] = match;
  const expected = Buffer.from(hash!, 'base64url');
  const N = 2 ** Number(logN);
  const options: ScryptOptions = { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), Buffer.from(salt!, 'base64url'), expected.length, options, (error, actual) =>
      error ? reject(error) : resolve(timingSafeEqual(actual, expected)),
    );
  });
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomUUID();

const model: PasswordModel & RefreshTokenModel & ClientCredentialsModel = {
  async getClient(clientId: string, clientSecret: string | null) {
    const row = statements.client.get(clientId);
    if (!row) return false;
    if (row.secret_hash !== null && (clientSecret === null || !timingSafeEqual(sha256(clientSecret), Buffer.from(row.secret_hash, 'hex')))) return false;
    return { id: row.id, grants: row.grants.split(' '), scope: row.scope };
  },
  async getUser(username: string, password: string) {
    const row = statements.user.get(username.toLowerCase());
    return row && (await verifyPassword(password, row.password_hash)) ? { id: row.id, username: row.username } : false;
  },
  async getUserFromClient(client: Client) {
    return { id: client.id };
  },
  async validateScope(user: User, client: Client, scope?: string[]) {
    const allowed = new Set((client.scope as string).split(' '));
    // Omitted: a user gets the user scopes, a client (client_credentials) its own.
    const wanted = scope ?? (user.username === undefined ? [...allowed] : seed.userScope.split(' '));
    return wanted.every((s) => allowed.has(s)) ? wanted : false;
  },
  async generateAccessToken(client: Client, user: User, scope: string[]) {
    return jwt.sign(
      { client_id: client.id, scope: scope.join(' '), username: user.username },
      privateKey,
      { algorithm: 'ES256', keyid: kid, header: { alg: 'ES256', typ: 'at+jwt' }, expiresIn: ACCESS_TOKEN_LIFETIME, issuer, audience: issuer, subject: String(user.id), jwtid: randomUUID() },
    );
  },
  async saveToken(token: Token, client: Client, user: User) {
    statements.saveToken.run(
      token.accessToken,
      token.accessTokenExpiresAt?.getTime() ?? 0,
      token.refreshToken ?? null,
      token.refreshTokenExpiresAt?.getTime() ?? null,
      (token.scope ?? []).join(' '),
      client.id,
      String(user.id),
    );
    return { ...token, client, user };
  },
  async getRefreshToken(refreshToken: string) {
    const row = statements.refreshToken.get(refreshToken);
    if (!row) return false;
    return {
      refreshToken: row.refresh_token,
      refreshTokenExpiresAt: new Date(row.refresh_token_expires_at),
      scope: row.scope.split(' ').filter(Boolean),
      client: { id: row.client_id, grants: [] },
      user: { id: row.user_id, username: row.username },
    };
  },
  async revokeToken(token: RefreshToken) {
    return statements.revoke.run(token.refreshToken).changes > 0;
  },
  // The token endpoint never authenticates bearer tokens; the interface wants these.
  async getAccessToken() {
    return false;
  },
  async verifyScope() {
    return false;
  },
};

const oauth = new ExpressOAuthServer({ model, accessTokenLifetime: ACCESS_TOKEN_LIFETIME });
const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
// Like tessera's built-in public client: password and refresh grants with a client_id and no secret.
app.post('/token', express.urlencoded({ extended: false }), oauth.token({ requireClientAuthentication: { password: false, refresh_token: false } }));

const server = app.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));

// Setting up what the workloads need through tessera's own API and CLI
// (and, for the token-server peer, the same calls against it).
import { tesseraCli } from './tessera';

export const BENCH_USER = 'bench';
export const BENCH_PASSWORD = 'bench-password-1';
export const PUBLIC_CLIENT = 'tessera'; // SPEC §3.1: the built-in public client
const CONCURRENCY = 4; // grants in flight while seeding

export interface TokenResponse {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly [field: string]: unknown;
}

export interface BenchClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

async function call(url: string, init: RequestInit, what: string): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const json = (body: unknown, token?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  body: JSON.stringify(body),
});

/** Runs `work` over `items`, `limit` at a time, in order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += limit) results.push(...(await Promise.all(items.slice(start, start + limit).map(work))));
  return results;
}

/** Registers the confidential client `bench` (scope push) with the CLI. */
export async function addBenchClient(dir: string, databaseUrl: string): Promise<BenchClient> {
  const shown = JSON.parse(await tesseraCli(dir, databaseUrl, ['client', 'add', 'bench', '--scope', 'push', '--json'])) as Record<string, unknown>;
  const { client_id: clientId, client_secret: clientSecret } = shown;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') throw new Error('tessera client add printed no id and secret');
  return { clientId, clientSecret };
}

export async function signup(url: string, username = BENCH_USER): Promise<void> {
  await call(`${url}/signup`, json({ username, password: BENCH_PASSWORD }), `signup ${username}`);
}

/** The password grant body the bench sends, to tessera and to the token-server peer alike. */
export const passwordGrantBody = (username = BENCH_USER) => ({ grant_type: 'password', username, password: BENCH_PASSWORD, client_id: PUBLIC_CLIENT });

/** One password grant: a new session. */
export async function passwordGrant(url: string, username = BENCH_USER): Promise<TokenResponse> {
  return (await call(`${url}/token`, form(passwordGrantBody(username)), `password grant for ${username}`)) as TokenResponse;
}

/** One refresh grant (rotation): the next access and refresh token of a session. */
export async function refreshGrant(url: string, refreshToken: string): Promise<TokenResponse> {
  return (await call(`${url}/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT }), 'refresh grant')) as TokenResponse;
}

/** `count` fresh sessions of the bench user; returns their refresh tokens. */
export async function newSessions(url: string, count: number): Promise<string[]> {
  return mapLimit(Array.from({ length: count }, () => BENCH_USER), CONCURRENCY, async (username) => {
    const { refresh_token: token } = await passwordGrant(url, username);
    if (typeof token !== 'string') throw new Error('password grant returned no refresh token');
    return token;
  });
}

/** An access token for each refresh token (one grant each, a few in flight). */
export function accessTokensFor(url: string, refreshTokens: readonly string[]): Promise<string[]> {
  return mapLimit(refreshTokens, CONCURRENCY, async (token) => (await refreshGrant(url, token)).access_token);
}

export const basicAuth = (client: BenchClient) => `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

/** GET `path` with a bearer token; the parsed body. */
export async function getJson(url: string, path: string, accessToken: string): Promise<unknown> {
  return call(`${url}${path}`, { headers: { authorization: `Bearer ${accessToken}` } }, `GET ${path}`);
}

/** Creates `count` tasks for the token's user. */
export async function createTasks(url: string, accessToken: string, count: number): Promise<void> {
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    (i) => call(`${url}/tasks`, json({ title: `bench task ${i + 1}`, description: 'A task of the bench user, as a client would list it.' }, accessToken), 'POST /tasks'),
  );
}

/** POST /conversations with `members`; returns its id (the session_id of its messages). */
export async function createConversation(url: string, accessToken: string, members: readonly string[]): Promise<string> {
  const body = (await call(`${url}/conversations`, json({ members }, accessToken), 'POST /conversations')) as { id?: unknown };
  if (typeof body.id !== 'string') throw new Error('POST /conversations returned no id');
  return body.id;
}

/** The issuer and the public keys, for a peer that verifies tessera's tokens. */
export async function discovery(url: string): Promise<{ issuer: string; jwks: unknown }> {
  const metadata = (await call(`${url}/.well-known/oauth-authorization-server`, {}, 'metadata')) as { issuer: string };
  return { issuer: metadata.issuer, jwks: await call(`${url}/.well-known/jwks.json`, {}, 'jwks') };
}

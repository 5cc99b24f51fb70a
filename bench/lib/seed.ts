// Setting up what the workloads need, through tessera's own API and CLI.
import { tesseraCli } from './servers';

export const BENCH_USER = 'bench';
const BENCH_PASSWORD = 'bench-password-1';
const SESSION_CONCURRENCY = 4; // password grants in flight while seeding

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
  return JSON.parse(text) as unknown;
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Registers the confidential client `bench` (scope push) with the CLI, before the server starts. */
export async function addBenchClient(dir: string): Promise<BenchClient> {
  const shown = JSON.parse(await tesseraCli(dir, ['client', 'add', 'bench', '--scope', 'push', '--json'])) as Record<string, unknown>;
  const { client_id: clientId, client_secret: clientSecret } = shown;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') throw new Error('tessera client add printed no id and secret');
  return { clientId, clientSecret };
}

/** Signs the bench user up. */
export async function signupBenchUser(url: string): Promise<void> {
  await call(
    `${url}/signup`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }) },
    'signup',
  );
}

/** One password grant for the bench user: a new session. */
export async function passwordGrant(url: string): Promise<TokenResponse> {
  return (await call(`${url}/token`, form({ grant_type: 'password', username: BENCH_USER, password: BENCH_PASSWORD }), 'password grant')) as TokenResponse;
}

/** `count` fresh sessions of the bench user; returns their refresh tokens. */
export async function newSessions(url: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let start = 0; start < count; start += SESSION_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SESSION_CONCURRENCY, count - start) }, () => passwordGrant(url));
    for (const response of await Promise.all(batch)) {
      if (typeof response.refresh_token !== 'string') throw new Error('password grant returned no refresh token');
      tokens.push(response.refresh_token);
    }
  }
  return tokens;
}

export const basicAuth = (client: BenchClient) => `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

/** A client_credentials grant for the bench client. */
export async function clientCredentialsGrant(url: string, client: BenchClient): Promise<TokenResponse> {
  const init = form({ grant_type: 'client_credentials', scope: 'push' });
  return (await call(`${url}/token`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: basicAuth(client) } }, 'client_credentials grant')) as TokenResponse;
}

/** GET /me with a bearer token. */
export async function getMe(url: string, accessToken: string): Promise<object> {
  return (await call(`${url}/me`, { headers: { authorization: `Bearer ${accessToken}` } }, 'GET /me')) as object;
}

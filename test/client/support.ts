import WebSocket from 'ws';
import { memoryStore, TesseraClient, type ClientOptions, type TokenSet, type TokenStore, type WebSocketConstructor } from '../../client/src/index';
import type { Emitter } from '../../client/src/emitter';
import type { TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';

/** How long a test waits for an event before it fails. */
export const WAIT_MS = 3_000;

/** One request the client made, as the server answered it. */
export interface Call {
  readonly method: string;
  readonly path: string;
  /** The `grant_type` of a POST /token. */
  readonly grant: string | undefined;
  readonly status: number;
}

/** The real global fetch, recording each call: what the tests count (refresh grants, retries). */
export function recordingFetch(calls: Call[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const grant = init?.body instanceof URLSearchParams ? (init.body.get('grant_type') ?? undefined) : undefined;
    const res = await fetch(input, init);
    calls.push({ method: init?.method ?? 'GET', path: url.pathname, grant, status: res.status });
    return res;
  };
}

/** A server → client frame as received. */
export interface Frame {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** `ws`, recording each URL it opens and every frame it receives (Node 20 has no global WebSocket). */
export function recordingWebSocket(urls: string[], frames: Frame[]): WebSocketConstructor {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      urls.push(url);
      super(url);
      this.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    }
  };
}

export interface TestClient {
  readonly client: TesseraClient;
  /** Every request the client made. */
  readonly calls: Call[];
  /** Its token store, for a test to read or to plant tokens in. */
  readonly store: TokenStore;
}

/** A client of `server` whose requests are recorded in `calls`. */
export function clientOf(server: TestServer, options: ClientOptions = {}): TestClient {
  const calls: Call[] = [];
  const store = options.store ?? memoryStore();
  const client = new TesseraClient({ baseUrl: server.url, fetch: recordingFetch(calls), WebSocket, ...options, store });
  return { client, calls, store };
}

/** Signs `username` up over the API and logs a new recorded client in. */
export async function loggedIn(server: TestServer, username: string, options: ClientOptions = {}): Promise<TestClient> {
  await signup(server, username);
  const test = clientOf(server, options);
  await test.client.login(username, PASSWORD);
  return test;
}

/** The refresh grants among the calls. */
export const refreshGrants = (calls: readonly Call[]) => calls.filter((call) => call.grant === 'refresh_token');

/**
 * An access token of the same session that the server already considers expired
 * (signed an hour ago), with an expiry the client believes: the next call hits 401.
 */
export async function plantStaleToken(server: TestServer, { client, store }: TestClient): Promise<TokenSet> {
  const tokens = (await store.get())!;
  const claims = (await client.claims())!;
  const issued = server.tessera.services.accessTokens.issue(
    { subject: claims.sub, username: claims.username, clientId: claims.client_id, scopes: claims.scope.split(' '), roles: claims.roles, sessionId: claims.sid },
    Date.now() - 3_600_000,
  );
  const stale = { ...tokens, access_token: issued.token };
  await store.set(stale);
  return stale;
}

/** Resolves with the next `event` that passes `test`; fails after `timeoutMs`. */
export function nextEvent<E extends object, K extends keyof E>(emitter: Emitter<E>, event: K, test: (value: E[K]) => boolean = () => true, timeoutMs = WAIT_MS): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = emitter.on(event, (value) => {
      if (!test(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Every value of `event` from now on, in order. */
export function collect<E extends object, K extends keyof E>(emitter: Emitter<E>, event: K): E[K][] {
  const values: E[K][] = [];
  emitter.on(event, (value) => values.push(value));
  return values;
}

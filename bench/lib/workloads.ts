import type { LoadSpec } from './load-spec';
import { basicAuth, newSessions, type BenchClient } from './seed';

export type TargetName = 'tessera' | 'baseline';

/** What a workload's figure is judged against. */
export type Goal = { readonly kind: 'ratio'; readonly min: number } | { readonly kind: 'rate'; readonly min: number } | undefined;

/** The request part of a LoadSpec; run.ts adds connections and duration. */
export type RequestSpec = Omit<LoadSpec, 'connections' | 'durationSeconds' | 'url'>;

export interface Workload {
  readonly id: string;
  readonly title: string;
  readonly goal: Goal;
  /** The requests for one run against `target`; may create sessions on tessera first. */
  request(target: TargetName, url: string): Promise<RequestSpec>;
}

export interface WorkloadContext {
  readonly accessToken: string;
  readonly client: BenchClient;
  readonly connections: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SPARE_SESSIONS = 10; // room for a few failed refreshes before the pool runs dry
const FAKE_REFRESH_TOKEN = 'x'.repeat(43); // the length of a real one (32 bytes, base64url)

/** The three workloads of the bench, in the order they run. */
export function workloads(context: WorkloadContext): Workload[] {
  return [
    {
      id: 'me',
      title: 'GET /me, bearer token',
      goal: { kind: 'ratio', min: 0.6 },
      request: async () => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${context.accessToken}` } }),
    },
    {
      id: 'refresh',
      title: 'POST /token refresh_token (SQLite, rotation)',
      goal: { kind: 'rate', min: 1_500 },
      // Every tessera run gets fresh sessions: a run ends with requests in
      // flight whose successors it never reads, so a chain cannot go on.
      request: async (target, url) => ({
        method: 'POST',
        path: '/token',
        headers: FORM,
        refreshTokens:
          target === 'tessera'
            ? await newSessions(url, context.connections + SPARE_SESSIONS)
            : Array.from({ length: context.connections + SPARE_SESSIONS }, () => FAKE_REFRESH_TOKEN),
      }),
    },
    {
      id: 'client_credentials',
      title: 'POST /token client_credentials',
      goal: undefined,
      request: async () => ({
        method: 'POST',
        path: '/token',
        headers: { ...FORM, authorization: basicAuth(context.client) },
        body: 'grant_type=client_credentials&scope=push',
      }),
    },
  ];
}

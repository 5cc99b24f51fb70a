import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { USER_SCOPES } from '../../src/auth/scopes';
import { RFC3339_UTC } from '../support/expectations';
import { clientAuth, startConversation, userAuth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { call, expectAlive, expectSpecAnswer, fuzzRuns, jsonCall, nastyJson, nastyKey, nastyString, reportSeedOnFailure, type Call } from './support';

/** One operation of the OpenAPI document. */
interface Route {
  readonly method: string;
  readonly template: string;
  readonly query: readonly string[];
  readonly bodyFields: readonly string[];
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

/** Every REST route, from GET /openapi.json: a route added later is fuzzed without touching this file. */
async function routesOf(server: TestServer): Promise<Route[]> {
  const doc = (await server.request.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, OpenApiOperation>> };
  return Object.entries(doc.paths).flatMap(([template, operations]) =>
    Object.entries(operations).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      bodyFields: Object.keys(op.requestBody?.content['application/json']?.schema?.properties ?? {}),
    })),
  );
}

const two = (n: number) => String(n).padStart(2, '0');
const offset = fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([sign, h, m]) => `${sign}${two(h)}:${two(m)}`));

/** Any RFC 3339 time with an offset, often at the first or last day an offset can carry past year 0000 or 9999. */
const rfc3339Time: fc.Arbitrary<string> = fc
  .record({
    date: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })),
      fc.constantFrom<[number, number, number]>([0, 1, 1], [9999, 12, 31]),
    ),
    time: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })),
    offset,
  })
  .map(({ date: [year, month, day], time, offset: zone }) => `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${time.map(two).join(':')}${zone}`);

// Values that get past a field's validation often enough to reach the handler and the database.
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  start_time: rfc3339Time,
  end_time: rfc3339Time,
  due_date: fc.oneof(rfc3339Time, fc.constant(null)),
  completed: fc.boolean(),
  disabled: fc.boolean(),
  confidential: fc.boolean(),
  all: fc.boolean(),
  members: fc.array(fc.constantFrom('alice', 'bob', 'root', 'nobody', 'ALICE'), { maxLength: 3 }),
  roles: fc.constantFrom([], ['admin']),
  status: fc.constantFrom('confirmed', 'tentative', 'cancelled'),
  grant_types: fc.constantFrom(['client_credentials'], ['password', 'refresh_token']),
  scope: fc.constantFrom('push', 'tasks:read', ''),
  type: fc.constantFrom('text', 'note'),
  password: fc.constant(PASSWORD),
  current_password: fc.constant(PASSWORD),
};

const bodyValue = (field: string) => fc.oneof({ weight: 3, arbitrary: PLAUSIBLE[field] ?? nastyString }, { weight: 1, arbitrary: nastyJson });

/** Percent-encodes every UTF-8 byte but the unreserved ones (encodeURIComponent throws on lone surrogates). */
const encodePathSegment = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');

// Path segments sent as they are: broken percent-encoding, traversal, encoded slashes.
const RAW_SEGMENTS = ['%', '%E0%A4%A', '%zz', '..', '%2e%2e', 'a%2Fb', '%00', '%ED%A0%80', '*', '~'];

type AuthKind = 'none' | 'alice' | 'admin' | 'client' | 'garbage';
type IdKind = 'task' | 'event' | 'conversation' | 'session';

/** Which of bob's ids a path template names (a real id there must be a 404 for alice). */
function idKindOf(template: string): IdKind | undefined {
  if (/^\/tasks\/\{id\}$/.test(template)) return 'task';
  if (/^\/calendar\/events\/\{id\}$/.test(template)) return 'event';
  if (/^\/messages\/\{session_id\}$/.test(template)) return 'conversation';
  if (/^\/sessions\/\{id\}$/.test(template)) return 'session';
  return undefined;
}

/** Every string under a timestamp-like key of a response is RFC 3339 UTC (SPEC §1). */
function expectTimestamps(value: unknown, context: string): void {
  if (Array.isArray(value)) for (const item of value) expectTimestamps(item, context);
  else if (value !== null && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) {
      if (/(_at|_time|_date|^timestamp)$/.test(key) && typeof nested === 'string') expect(nested, `${context}: ${key}`).to.match(RFC3339_UTC);
      else expectTimestamps(nested, context);
    }
  }
}

onEachDatabase('fuzzing every REST route', (database) => {
  let server: TestServer;
  let routes: Route[];
  let bob: Record<IdKind, string> & { userId: string };
  let bobRows: { task: unknown; event: unknown; messages: number };
  let tokenFor: (kind: AuthKind) => string | undefined;
  reportSeedOnFailure();

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off', ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD }, database);
    routes = await routesOf(server);
    const alice = await userAuth(server, 'alice');
    const victim = await userAuth(server, 'bob');
    const task = await server.request.post('/tasks').set(victim.auth).send({ title: 'bob only' }).expect(201);
    const event = await server.request.post('/calendar/events').set(victim.auth).send({ title: 'bob only', start_time: '2030-01-01T10:00:00Z', end_time: '2030-01-01T11:00:00Z' }).expect(201);
    const conversation = await startConversation(server, victim.auth, [], 'bob only');
    await server.request.post(`/messages/${conversation}`).set(victim.auth).send({ content: 'secret' }).expect(201);
    const session = ((await server.request.get('/sessions').set(victim.auth).expect(200)).body as Array<{ id: string }>)[0]!.id;
    bob = { task: task.body.id, event: event.body.id, conversation, session, userId: victim.id };
    bobRows = { task: task.body, event: event.body, messages: 1 };

    const { accessTokens, users, tenantId } = server.tessera.services;
    const root = (await users.queries.findByUsername(tenantId, 'root'))!;
    const { clientId } = await clientAuth(server, 'push');
    // A fresh session id per token: a /logout the fuzzer sends ends only that token's session, not the next run's.
    tokenFor = (kind) => {
      const sessionId = randomUUID();
      if (kind === 'alice') return accessTokens.issue({ subject: alice.id, username: 'alice', clientId: 'tessera', scopes: USER_SCOPES, roles: [], sessionId }).token;
      if (kind === 'admin') return accessTokens.issue({ subject: root.id, username: 'root', clientId: 'tessera', scopes: [...USER_SCOPES, 'admin'], roles: ['admin'], sessionId }).token;
      if (kind === 'client') return accessTokens.issue({ subject: clientId, clientId, scopes: ['push'], roles: [], sessionId }).token;
      return kind === 'garbage' ? 'e30.e30.e30' : undefined;
    };
  });
  after(() => server.close());

  function requestFor(route: Route) {
    const params = [...route.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    const own = idKindOf(route.template);
    const segment = fc.oneof(
      { weight: own ? 3 : 0, arbitrary: fc.constant({ kind: own, raw: own ? bob[own] : '' }) },
      { weight: 2, arbitrary: fc.constantFrom<IdKind | 'userId'>('task', 'event', 'conversation', 'session', 'userId').map((kind) => ({ kind, raw: bob[kind] })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'username' as const, raw: 'bob' }) },
      { weight: 3, arbitrary: nastyString.filter((s) => s.length > 0 && s.length < 2_000).map((s) => ({ kind: undefined, raw: encodePathSegment(s) })) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((raw) => ({ kind: undefined, raw })) },
    );
    const body = fc.oneof(
      { weight: 3, arbitrary: fc.record(Object.fromEntries(route.bodyFields.map((field) => [field, bodyValue(field)])), { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.tuple(fc.record(Object.fromEntries(route.bodyFields.map((f) => [f, bodyValue(f)])), { requiredKeys: [] }), nastyKey, nastyJson).map(([o, k, v]) => ({ ...o, [k]: v })) },
      { weight: 1, arbitrary: nastyJson },
    );
    const queryName = route.query.length > 0 ? fc.oneof(fc.constantFrom(...route.query), nastyKey) : nastyKey;
    return fc.record({
      route: fc.constant(route),
      segments: fc.tuple(...params.map(() => segment)),
      query: fc.array(fc.tuple(queryName, fc.oneof(nastyString.filter((s) => s.length < 2_000), rfc3339Time, fc.constantFrom('1', '200', '201', 'true'))), { maxLength: 3 }),
      body: fc.option(body, { freq: 5 }),
      auth: fc.constantFrom<AuthKind>('alice', 'alice', 'alice', 'admin', 'client', 'none', 'garbage'),
    });
  }

  it('answers random JSON bodies, path and query values on every route with a SPEC answer, never a 5xx or a hang, and never another user\'s object', async function () {
    this.timeout(40_000);
    expect(routes.length, 'routes in the OpenAPI document').to.be.above(30);
    let leaksChecked = 0;
    // Routes that take one of bob's ids get a fixed share of the runs, however many other routes there are.
    const idRoutes = routes.filter((route) => idKindOf(route.template) !== undefined);
    const someRoute = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...routes) }, { weight: 1, arbitrary: fc.constantFrom(...idRoutes) });
    const property = fc.asyncProperty(someRoute.chain(requestFor), async ({ route, segments, query, body, auth }) => {
      let index = 0;
      const path = route.template.replace(/\{\w+\}/g, () => segments[index++]!.raw);
      const search = query.map(([k, v]) => `${encodePathSegment(k)}=${encodePathSegment(v)}`).join('&');
      const token = tokenFor(auth);
      const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
      const fullPath = search ? `${path}?${search}` : path;
      const request: Call = body === null ? { method: route.method, path: fullPath, headers } : jsonCall(route.method, fullPath, body, headers);
      const answer = await call(server, request);
      const context = `${auth} ${route.method} ${fullPath.slice(0, 200)} ${String(request.body ?? '').slice(0, 200)}`;
      expectSpecAnswer(answer, context);
      const target = idKindOf(route.template);
      if (auth === 'alice' && target !== undefined && segments[0]?.kind === target) {
        expect(answer.status, `${context}: bob's ${target} reached by alice`).to.be.at.least(400);
        leaksChecked += 1;
      }
      if (answer.status < 300) expectTimestamps(answer.body, context);
    });
    await fc.assert(property, fuzzRuns(500));
    expect(leaksChecked, "runs that sent alice to one of bob's objects").to.be.above(10);
    await expectAlive(server);
  });

  it("leaves bob's task, event and conversation as they were", async () => {
    const { db } = server.tessera.services;
    const bobAuth = { Authorization: `Bearer ${server.tessera.services.accessTokens.issue({ subject: bob.userId, username: 'bob', clientId: 'tessera', scopes: USER_SCOPES, roles: [], sessionId: randomUUID() }).token}` };
    expect((await server.request.get(`/tasks/${bob.task}`).set(bobAuth).expect(200)).body).to.deep.equal(bobRows.task);
    expect((await server.request.get(`/calendar/events/${bob.event}`).set(bobAuth).expect(200)).body).to.deep.equal(bobRows.event);
    expect(await db('messages').where({ conversation_id: bob.conversation }).count({ n: '*' }).first().then((row) => Number(row?.n))).to.equal(bobRows.messages);
  });

  it('refuses any RFC 3339 time it cannot read back, and reads back the same instant as RFC 3339 UTC otherwise', async function () {
    this.timeout(30_000);
    const token = tokenFor('alice')!;
    const property = fc.asyncProperty(rfc3339Time, rfc3339Time, async (start, end) => {
      const headers = { Authorization: `Bearer ${token}` };
      const created = await call(server, jsonCall('POST', '/calendar/events', { title: 'edge', start_time: start, end_time: end }, headers));
      expectSpecAnswer(created, `${start} .. ${end}`);
      if (created.status !== 201) return;
      const read = await call(server, { path: `/calendar/events/${(created.body as { id: string }).id}`, headers });
      const event = read.body as { start_time: string; end_time: string };
      expect(event.start_time, start).to.match(RFC3339_UTC);
      expect(event.end_time, end).to.match(RFC3339_UTC);
      expect([Date.parse(event.start_time), Date.parse(event.end_time)]).to.deep.equal([Date.parse(start), Date.parse(end)]);
    });
    await fc.assert(property, fuzzRuns(150));
  });
});

import { expect } from 'chai';
import type WebSocket from 'ws';
import { enrol } from '../accounts/passkey-support';
import { startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { call, expectErrorShape, jsonCall, openSocket, type Answer, type Call } from './support';

type BobId = 'task' | 'event' | 'conversation' | 'session' | 'passkey' | 'userId' | 'username';

/** Every route with a path parameter: whose id goes in, what body comes along, and what alice must get. */
const ROUTES: ReadonlyArray<{ method: string; template: string; id: BobId; body?: object; status: number; startsNew?: true }> = [
  { method: 'GET', template: '/tasks/{id}', id: 'task', status: 404 },
  { method: 'PATCH', template: '/tasks/{id}', id: 'task', body: { title: 'pwned', completed: true }, status: 404 },
  { method: 'DELETE', template: '/tasks/{id}', id: 'task', status: 404 },
  { method: 'GET', template: '/calendar/events/{id}', id: 'event', status: 404 },
  { method: 'PATCH', template: '/calendar/events/{id}', id: 'event', body: { title: 'pwned' }, status: 404 },
  { method: 'DELETE', template: '/calendar/events/{id}', id: 'event', status: 404 },
  { method: 'GET', template: '/messages/{session_id}', id: 'conversation', status: 404 },
  // SPEC §5.3: a session_id no conversation has yet starts one, so only the taken id can be compared.
  { method: 'POST', template: '/messages/{session_id}', id: 'conversation', body: { content: 'pwned' }, status: 404, startsNew: true },
  { method: 'POST', template: '/conversations/{session_id}/members', id: 'conversation', body: { members: ['alice'] }, status: 404 },
  { method: 'DELETE', template: '/conversations/{session_id}/members/{username}', id: 'conversation', status: 404 },
  { method: 'DELETE', template: '/sessions/{id}', id: 'session', status: 404 },
  // Only alice's own apps are within the route's reach: bob's id is no app of hers.
  { method: 'DELETE', template: '/me/apps/{client_id}', id: 'userId', status: 404 },
  { method: 'GET', template: '/presence/{username}', id: 'username', status: 404 },
  { method: 'PATCH', template: '/me/passkeys/{id}', id: 'passkey', body: { name: 'pwned' }, status: 404 },
  { method: 'DELETE', template: '/me/passkeys/{id}', id: 'passkey', status: 404 },
  // Not alice's to call at all: the admin API and the service push.
  { method: 'PATCH', template: '/admin/users/{id}', id: 'userId', body: { disabled: true }, status: 403 },
  { method: 'DELETE', template: '/admin/users/{id}/sessions', id: 'userId', status: 403 },
  { method: 'DELETE', template: '/admin/users/{id}/2fa', id: 'userId', status: 403 },
  { method: 'GET', template: '/admin/users/{id}/passkeys', id: 'userId', status: 403 },
  { method: 'DELETE', template: '/admin/users/{id}/passkeys/{pid}', id: 'userId', status: 403 },
  { method: 'DELETE', template: '/admin/clients/{id}', id: 'userId', status: 403 },
  { method: 'PATCH', template: '/admin/clients/{id}', id: 'userId', body: { first_party: true }, status: 403 },
  { method: 'GET', template: '/admin/tenants/{id}', id: 'userId', status: 403 },
  { method: 'PATCH', template: '/admin/tenants/{id}', id: 'userId', body: { signup: 'open' }, status: 403 },
  { method: 'DELETE', template: '/admin/tenants/{id}', id: 'userId', status: 403 },
  { method: 'POST', template: '/push/{username}', id: 'username', body: { type: 'pwned', data: {} }, status: 403 },
];

// The id goes into the first parameter; a second one (a member's name) is bob, the conversation's own member.
const pathOf = (template: string, value: string) => template.replace(/\{\w+\}/, encodeURIComponent(value)).replace(/\{\w+\}/, 'bob');
const request = (method: string, path: string, auth: Auth, body?: object): Call =>
  body === undefined ? { method, path, headers: auth } : jsonCall(method, path, body, auth);

/** The next frame of a socket, or a failure after 2 s. */
function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no frame within 2 s')), 2_000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(data)) as Record<string, unknown>);
    });
  });
}

onEachDatabase("attack: another user's ids on every route", (database) => {
  let server: TestServer;
  let alice: Auth;
  let bob: Auth;
  let ids: Record<BobId, string>;
  let initial: Record<string, Answer>;

  const bobsView = async () => ({
    task: await call(server, { path: `/tasks/${ids.task}`, headers: bob }),
    event: await call(server, { path: `/calendar/events/${ids.event}`, headers: bob }),
    messages: await call(server, { path: `/messages/${ids.conversation}`, headers: bob }),
    sessions: await call(server, { path: '/sessions', headers: bob }),
    passkeys: await call(server, { path: '/me/passkeys', headers: bob }),
  });

  before(async () => {
    server = await startServer({}, database);
    alice = (await userAuth(server, 'alice')).auth;
    const victim = await userAuth(server, 'bob');
    bob = victim.auth;
    const task = await server.request.post('/tasks').set(bob).send({ title: 'bob only' }).expect(201);
    const event = await server.request.post('/calendar/events').set(bob).send({ title: 'bob only', start_time: '2030-01-01T10:00:00Z', end_time: '2030-01-01T11:00:00Z' }).expect(201);
    const conversation = await startConversation(server, bob, [], 'bob only');
    await server.request.post(`/messages/${conversation}`).set(bob).send({ content: 'for bob' }).expect(201);
    const session = (await server.request.get('/sessions').set(bob).expect(200)).body[0].id as string;
    const { passkey } = await enrol(server, bob.Authorization.slice('Bearer '.length));
    ids = { task: task.body.id, event: event.body.id, conversation, session, passkey: passkey.id, userId: victim.id, username: 'bob' };
    initial = await bobsView();
  });
  after(() => server.close());

  it('lists every route of the OpenAPI document that takes a path parameter', async () => {
    const doc = (await server.request.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const withParams = Object.entries(doc.paths)
      .filter(([template]) => template.includes('{'))
      .flatMap(([template, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${template}`));
    expect(ROUTES.map((route) => `${route.method} ${route.template}`)).to.have.members(withParams);
  });

  for (const route of ROUTES) {
    const unlike = route.startsNew ? '' : ', exactly as for an id that does not exist';
    it(`answers ${route.method} ${route.template} with bob's ${route.id} ${route.status}${unlike}`, async () => {
      const theirs = await call(server, request(route.method, pathOf(route.template, ids[route.id]), alice, route.body));
      expect(theirs.status, theirs.text).to.equal(route.status);
      expectErrorShape(theirs, route.template);
      if (route.startsNew) return;
      const missing = await call(server, request(route.method, pathOf(route.template, route.id === 'username' ? 'nobody' : '00000000-0000-4000-8000-000000000000'), alice, route.body));
      expect({ status: missing.status, body: missing.body }).to.deep.equal({ status: theirs.status, body: theirs.body });
    });
  }

  it("refuses alice's socket a resume of bob's conversation and a message into it", async () => {
    const token = alice.Authorization.slice('Bearer '.length);
    const ws = await openSocket(server, 'alice', token);
    try {
      ws.send(JSON.stringify({ type: 'resume', session_id: ids.conversation, after_seq: 0 }));
      expect(await nextFrame(ws)).to.include({ type: 'error', code: 'not_found' });
      ws.send(JSON.stringify({ type: 'message', session_id: ids.conversation, content: 'pwned', nonce: 'n1' }));
      expect(await nextFrame(ws)).to.include({ type: 'error', code: 'not_found', nonce: 'n1' });
    } finally {
      ws.terminate();
    }
  });

  it("leaves bob's task, event, messages, sessions and passkeys exactly as they were", async () => {
    const now: Record<string, Answer> = await bobsView();
    for (const key of Object.keys(initial)) {
      expect(now[key]!.status, key).to.equal(200);
      expect(now[key]!.body, key).to.deep.equal(initial[key]!.body);
    }
  });
});

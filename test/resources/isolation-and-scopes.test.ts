import { expect } from 'chai';
import { expectError, expectInvalidToken } from '../support/expectations';
import { challengedScope, postMessage, scopedAuth, startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

type Method = 'get' | 'post' | 'patch' | 'delete';
type Call = readonly [Method, string, Record<string, unknown>?];

onEachDatabase('resource isolation and scopes (SPEC §2, §5)', (database) => {
  let server: TestServer;
  let alice: Auth;
  let bob: Auth;
  let task: Record<string, unknown>;
  let event: Record<string, unknown>;
  let sessionId: string;

  before(async () => {
    server = await startServer({}, database);
    alice = (await userAuth(server, 'alice')).auth;
    bob = (await userAuth(server, 'bob')).auth;
    task = (await server.request.post('/tasks').set(alice).send({ title: "Alice's task" }).expect(201)).body;
    event = (await server.request.post('/calendar/events').set(alice).send({ title: "Alice's event", start_time: '2026-03-10T10:00:00Z', end_time: '2026-03-10T11:00:00Z' }).expect(201)).body;
    sessionId = await startConversation(server, alice, [], "Alice's notes");
    expect((await postMessage(server, alice, sessionId, { content: 'note to self' })).status).to.equal(201);
  });
  after(() => server.close());

  const call = ([method, path, body]: Call, auth?: Auth) => {
    const req = server.request[method](path);
    if (auth) req.set(auth);
    return body ? req.send(body) : req;
  };

  /** Every route that takes the id of one of Alice's objects. */
  const onAlicesIds = (ids: { task: string; event: string; session: string }): Call[] => [
    ['get', `/tasks/${ids.task}`],
    ['patch', `/tasks/${ids.task}`, { title: 'taken over', completed: true }],
    ['delete', `/tasks/${ids.task}`],
    ['get', `/calendar/events/${ids.event}`],
    ['patch', `/calendar/events/${ids.event}`, { title: 'taken over' }],
    ['delete', `/calendar/events/${ids.event}`],
    ['get', `/messages/${ids.session}`],
    ['post', `/messages/${ids.session}`, { content: 'let me in' }],
  ];

  describe("another user's objects", () => {
    it("answers 404 to Bob on every route with each of Alice's ids, exactly as for ids that do not exist", async () => {
      const alices = onAlicesIds({ task: task.id as string, event: event.id as string, session: sessionId });
      const nobody = '00000000-0000-4000-8000-000000000000';
      // POST /messages to an unused session_id starts a conversation, so its "absent" twin is the GET.
      const missing = onAlicesIds({ task: nobody, event: nobody, session: 'no-such-session' }).map(([method, path, body]): Call =>
        method === 'post' ? ['get', path] : [method, path, body],
      );
      for (const [i, route] of alices.entries()) {
        const res = await call(route, bob);
        expectError(res, 404, 'not_found');
        const absent = await call(missing[i]!, alice);
        expect(absent.status).to.equal(404);
        expect(res.body, `${route[0]} ${route[1]}`).to.deep.equal(absent.body);
      }
    });

    it("leaves Alice's objects as they were after Bob's attempts", async () => {
      for (const route of onAlicesIds({ task: task.id as string, event: event.id as string, session: sessionId })) await call(route, bob);
      expect((await server.request.get(`/tasks/${task.id}`).set(alice)).body).to.deep.equal(task);
      expect((await server.request.get(`/calendar/events/${event.id}`).set(alice)).body).to.deep.equal(event);
      const messages = await server.request.get(`/messages/${sessionId}`).set(alice);
      expect(messages.body.map((m: { content: string }) => m.content)).to.deep.equal(['note to self']);
      const rows = await server.tessera.services.db('messages').where({ conversation_id: sessionId });
      expect(rows).to.have.length(1);
    });

    it("shows Bob none of Alice's objects in his lists", async () => {
      for (const path of ['/tasks', '/calendar/events', '/conversations']) {
        const res = await server.request.get(path).set(bob);
        expect(res.status, path).to.equal(200);
        expect(res.body, path).to.deep.equal([]);
      }
    });
  });

  describe('scopes', () => {
    const taskRoutes = (): Array<[Call, string]> => [
      [['post', '/tasks', { title: 'x' }], 'tasks:write'],
      [['patch', `/tasks/${task.id}`, { title: 'x' }], 'tasks:write'],
      [['delete', `/tasks/${task.id}`], 'tasks:write'],
      [['get', '/calendar/events'], 'calendar:read'],
      [['get', '/conversations'], 'messages:read'],
    ];
    const calendarRoutes = (): Array<[Call, string]> => [
      [['post', '/calendar/events', { title: 'x', start_time: '2026-03-10T10:00:00Z', end_time: '2026-03-10T11:00:00Z' }], 'calendar:write'],
      [['patch', `/calendar/events/${event.id}`, { title: 'x' }], 'calendar:write'],
      [['delete', `/calendar/events/${event.id}`], 'calendar:write'],
      [['get', '/tasks'], 'tasks:read'],
    ];
    const messageRoutes = (): Array<[Call, string]> => [
      [['post', `/messages/${sessionId}`, { content: 'x' }], 'messages:write'],
      [['post', '/conversations', { members: [] }], 'messages:write'],
      [['get', `/tasks/${task.id}`], 'tasks:read'],
    ];
    const CASES: Array<[string, () => Array<[Call, string]>, () => Call[]]> = [
      ['tasks:read', taskRoutes, () => [['get', '/tasks'], ['get', `/tasks/${task.id}`]]],
      ['calendar:read', calendarRoutes, () => [['get', '/calendar/events'], ['get', `/calendar/events/${event.id}`]]],
      ['messages:read', messageRoutes, () => [['get', '/conversations'], ['get', `/messages/${sessionId}`]]],
    ];

    for (const [scope, refused, allowed] of CASES) {
      it(`gives a token with only ${scope} 403 insufficient_scope naming the missing scope, and changes nothing`, async () => {
        const auth = await scopedAuth(server, 'alice', scope);
        for (const [route, needed] of refused()) {
          const res = await call(route, auth);
          expectError(res, 403, 'insufficient_scope');
          expect(res.headers['www-authenticate'], `${route[0]} ${route[1]}`).to.match(/^Bearer realm="tessera", /).and.include('error="insufficient_scope"');
          expect(challengedScope(res), `${route[0]} ${route[1]}`).to.equal(needed);
        }
        for (const route of allowed()) expect((await call(route, auth)).status, `${route[0]} ${route[1]}`).to.equal(200);
        expect((await server.request.get(`/tasks/${task.id}`).set(alice)).body).to.deep.equal(task);
        expect((await server.request.get(`/calendar/events/${event.id}`).set(alice)).body).to.deep.equal(event);
        expect(await server.tessera.services.db('messages').where({ conversation_id: sessionId })).to.have.length(1);
      });
    }

    it('gives a token with only messages:write 403 on reading messages', async () => {
      const auth = await scopedAuth(server, 'alice', 'messages:write');
      const res = await server.request.get(`/messages/${sessionId}`).set(auth);
      expectError(res, 403, 'insufficient_scope');
      expect(challengedScope(res)).to.equal('messages:read');
    });
  });

  describe('no token', () => {
    const EVERY_ROUTE: Call[] = [
      ['get', '/tasks'],
      ['post', '/tasks', { title: 'x' }],
      ['get', '/tasks/some-id'],
      ['patch', '/tasks/some-id', { title: 'x' }],
      ['delete', '/tasks/some-id'],
      ['get', '/calendar/events'],
      ['post', '/calendar/events', { title: 'x' }],
      ['get', '/calendar/events/some-id'],
      ['patch', '/calendar/events/some-id', { title: 'x' }],
      ['delete', '/calendar/events/some-id'],
      ['get', '/conversations'],
      ['post', '/conversations', { members: [] }],
      ['get', '/messages/some-session'],
      ['post', '/messages/some-session', { content: 'x' }],
      ['post', '/push/alice', { type: 'x', data: {} }],
    ];

    it('answers 401 unauthorized with a bare Bearer challenge on every resource route (RFC 6750 §3.1)', async () => {
      for (const route of EVERY_ROUTE) {
        const res = await call(route);
        expectError(res, 401, 'unauthorized');
        expect(res.headers['www-authenticate'], `${route[0]} ${route[1]}`).to.equal('Bearer realm="tessera"');
      }
      expect(await server.tessera.services.db('conversations').where({ id: 'some-session' })).to.deep.equal([]);
    });

    it('answers 401 invalid_token to a token that is not one on every resource route', async () => {
      for (const route of EVERY_ROUTE) expectInvalidToken(await call(route, { Authorization: 'Bearer not.a.token' }));
    });
  });
});

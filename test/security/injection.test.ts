import { expect } from 'chai';
import { createLogger } from '../../src/logger';
import { Mailbox } from '../accounts/account-security-support';
import { scopedAuth, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { login, PASSWORD } from '../support/users';
import { call, CONTROL_CHARACTERS, expectErrorShape, expectSpecAnswer, jsonCall, openSocket, SQL_INJECTIONS } from './support';

/** A text field: where it is written, and where the stored value is read back. */
interface TextField {
  readonly name: string;
  write(server: TestServer, auth: Auth, value: string): Promise<unknown>;
}

const created = async (server: TestServer, method: string, path: string, auth: Auth, body: object): Promise<Record<string, unknown>> => {
  const answer = await call(server, jsonCall(method, path, body, auth));
  expect(answer.status, `${method} ${path}: ${answer.text}`).to.be.oneOf([200, 201]);
  return answer.body as Record<string, unknown>;
};
const read = async (server: TestServer, path: string, auth: Auth) => {
  const answer = await call(server, { path, headers: auth });
  expect(answer.status, `GET ${path}: ${answer.text}`).to.equal(200);
  return answer.body as Record<string, unknown>;
};

const EVENT = { title: 'event', start_time: '2030-01-01T10:00:00Z', end_time: '2030-01-01T11:00:00Z' };
const FIELDS: TextField[] = [
  { name: 'task title', write: async (s, a, v) => (await read(s, `/tasks/${(await created(s, 'POST', '/tasks', a, { title: v })).id as string}`, a)).title },
  { name: 'task description (PATCH)', write: async (s, a, v) => {
    const id = (await created(s, 'POST', '/tasks', a, { title: 'x' })).id as string;
    await created(s, 'PATCH', `/tasks/${id}`, a, { description: v });
    return (await read(s, `/tasks/${id}`, a)).description;
  } },
  ...(['title', 'description', 'location'] as const).map((field): TextField => ({
    name: `event ${field}`,
    write: async (s, a, v) => (await read(s, `/calendar/events/${(await created(s, 'POST', '/calendar/events', a, { ...EVENT, [field]: v })).id as string}`, a))[field],
  })),
  { name: 'conversation title', write: async (s, a, v) => {
    const id = (await created(s, 'POST', '/conversations', a, { title: v })).id as string;
    const list = (await call(s, { path: '/conversations?limit=200', headers: a })).body as Array<{ id: string; title: string }>;
    return list.find((conversation) => conversation.id === id)?.title;
  } },
  { name: 'message content and nonce', write: async (s, a, v) => {
    const first = await created(s, 'POST', '/messages/injected', a, { content: v, nonce: v });
    const again = await created(s, 'POST', '/messages/injected', a, { content: 'a copy', nonce: v });
    expect(again.id, 'the nonce finds the first message').to.equal(first.id);
    const page = (await call(s, { path: `/messages/injected?after_seq=${Number(first.seq) - 1}&limit=1`, headers: a })).body as Array<{ content: string }>;
    return page[0]?.content;
  } },
];

onEachDatabase('attack: SQL injection strings in every text field', (database) => {
  let server: TestServer;
  let auth: Auth;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
    auth = (await userAuth(server, 'alice')).auth;
  });
  after(() => server.close());

  for (const field of FIELDS) {
    it(`stores each one verbatim in the ${field.name} and reads it back equal`, async () => {
      for (const text of SQL_INJECTIONS) expect(await field.write(server, auth, text), text).to.equal(text);
    });
  }

  it('takes each one as a password (hashed, so it logs in) and as a client name, verbatim', async () => {
    const admin = await startServer({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD }, database);
    try {
      const rootAuth = await scopedAuth(admin, 'root', 'admin');
      for (const [i, text] of SQL_INJECTIONS.entries()) {
        const password = `${text}-padding`;
        expect((await admin.request.post('/signup').send({ username: `sqli${i}`, password })).status).to.equal(201);
        await login(admin, `sqli${i}`, password);
        expect((await created(admin, 'POST', '/admin/clients', rootAuth, { name: text, scope: 'push' })).name).to.equal(text);
      }
      const names = ((await read(admin, '/admin/clients', rootAuth)) as unknown as Array<{ name: string }>).map((client) => client.name);
      expect(names).to.include.members([...SQL_INJECTIONS]);
    } finally {
      await admin.close();
    }
  });

  it('answers each one in a username, a path id, a cursor and a time filter with a 4xx, never an error', async () => {
    for (const text of SQL_INJECTIONS) {
      const q = encodeURIComponent(text);
      const answers = [
        await call(server, { method: 'POST', path: '/token', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'password', username: text, password: text }).toString() }),
        await call(server, jsonCall('POST', '/signup', { username: text, password: PASSWORD })),
        await call(server, { path: `/tasks/${q}`, headers: auth }),
        await call(server, { path: `/tasks?cursor=${q}&completed=${q}`, headers: auth }),
        await call(server, { path: `/calendar/events?time_min=${q}`, headers: auth }),
        await call(server, { path: `/presence/${q}`, headers: auth }),
      ];
      for (const answer of answers) {
        expectSpecAnswer(answer, text);
        expect(answer.status, text).to.be.within(400, 499);
      }
    }
    expect((await server.tessera.services.users.queries.list('default')).map((user) => user.username)).to.deep.equal(['alice']);
  });

  it('stores each one verbatim when it comes through the socket', async () => {
    const ws = await openSocket(server, 'alice', auth.Authorization.slice('Bearer '.length));
    try {
      for (const text of SQL_INJECTIONS) {
        const ack = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>)));
        ws.send(JSON.stringify({ type: 'message', session_id: 'socket-injected', content: text }));
        const message = (await ack).message as { seq: number; content: string };
        expect(message.content).to.equal(text);
        const page = (await call(server, { path: `/messages/socket-injected?after_seq=${message.seq - 1}&limit=1`, headers: auth })).body as Array<{ content: string }>;
        expect(page[0]?.content).to.equal(text);
      }
    } finally {
      ws.terminate();
    }
  });
});

describe('attack: CR, LF and control characters in what reaches headers and logs', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
  });
  after(() => server.close());

  it('replaces an X-Request-Id carrying control characters or encoded CR/LF with its own id', async () => {
    for (const id of ['abc\tdef', 'abc%0d%0aSet-Cookie:%20x=1', 'abc\u00ff', `abc${encodeURIComponent('\u2028')}`]) {
      const answer = await call(server, { path: '/healthz', headers: { 'X-Request-Id': id } });
      expect(answer.status).to.equal(200);
      expect(answer.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
      expect(answer.headers['set-cookie']).to.equal(undefined);
    }
  });

  it('refuses usernames with control characters at signup (400), so they never reach a log or a header', async () => {
    for (const control of CONTROL_CHARACTERS) {
      const answer = await call(server, jsonCall('POST', '/signup', { username: `ali${control}ce`, password: PASSWORD }));
      expect(answer.status, JSON.stringify(control)).to.equal(400);
      expectErrorShape(answer, JSON.stringify(control));
    }
  });

  it('keeps every log line one JSON object, whatever control characters the requests carried', async () => {
    const lines: string[] = [];
    const logged = await startServer({ RATE_LIMITS: 'off' }, 'sqlite', { logger: createLogger('trace', { write: (line: string) => void lines.push(line) }) });
    const dirty = CONTROL_CHARACTERS.map(encodeURIComponent);
    try {
      for (const text of dirty) {
        await call(logged, { path: `/tasks/${text}?cursor=${text}`, headers: { 'User-Agent': 'agent\t\u00ff', 'X-Request-Id': `id${text}` } });
        await call(logged, { method: 'POST', path: '/token', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=${text}&password=${text}` });
        await call(logged, { path: `/ws/${text}` });
      }
      await call(logged, { path: '/tasks/%E0%A4%A' });
    } finally {
      // Closing waits for every response to finish, so every request line has been written.
      await logged.close();
    }
    const written = lines.join('');
    expect(written.endsWith('\n')).to.equal(true);
    const entries = written.slice(0, -1).split('\n');
    expect(entries.length).to.be.at.least(dirty.length * 3);
    for (const entry of entries) {
      expect(entry).to.not.include('\r');
      expect(() => JSON.parse(entry) as unknown, entry).to.not.throw();
    }
  });
});

describe('attack: header injection into the mails with codes', () => {
  let mailbox: Mailbox;
  let server: TestServer;
  const THIEF = 'thief@example.test';
  const INJECTED = [
    `mia@example.test\r\nBcc: ${THIEF}`,
    `mia@example.test\nBcc: ${THIEF}`,
    `mia@example.test, ${THIEF}`,
    `mia@example.test>\r\nBcc: <${THIEF}`,
    `"Mia\r\nBcc: ${THIEF}" <mia@example.test>`,
    `mia@example.test%0d%0aBcc:%20${THIEF}`,
  ];

  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ SMTP_URL: mailbox.url, RATE_LIMITS: 'off' });
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  it('refuses an address with CR, LF, a second address or a display name, at signup and at forgot (400), and mails the account its code alone', async () => {
    for (const email of INJECTED) {
      expectErrorShape(await call(server, jsonCall('POST', '/signup', { username: 'mia', password: PASSWORD, email })), JSON.stringify(email));
      const forgot = await call(server, jsonCall('POST', '/password/forgot', { email }));
      expect(forgot.status, JSON.stringify(email)).to.equal(400);
    }
    expect((await call(server, jsonCall('POST', '/signup', { username: 'mia', password: PASSWORD, email: 'mia@example.test' }))).status).to.equal(201);
    expect((await call(server, jsonCall('POST', '/password/forgot', { username: 'mia' }))).status).to.equal(202);
    const mail = await mailbox.next('mia@example.test');
    expect(mail.to).to.deep.equal(['mia@example.test']);
    expect(mailbox.to(THIEF)).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { localStorageStore, TesseraError, type StorageLike } from '../../client/src/index';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';
import { clientOf, loggedIn, type TestClient } from './support';

const HOUR = 3_600_000;

/** Web Storage over a Map: what two tabs of one origin share. */
function sharedStorage(): StorageLike {
  const items = new Map<string, string>();
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value), removeItem: (key) => void items.delete(key) };
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('client: accounts and typed resources', () => {
  let server: TestServer;
  let dana: TestClient;
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off', REFRESH_REUSE_GRACE: '0' }); // any rotated token presented again is reuse
    dana = await loggedIn(server, 'dana');
  });
  after(() => server.close());

  it('signs up, logs in and reads /me', async () => {
    const { client } = clientOf(server);
    expect(await client.signup({ username: 'erin', password: PASSWORD })).to.include({ username: 'erin' }).and.have.property('id');
    const claims = await client.login('erin', PASSWORD);
    expect(claims).to.include({ username: 'erin' });
    expect(claims.scope.split(' ')).to.include('tasks:write');
    expect(await client.me()).to.include({ username: 'erin', id: claims.sub });
  });

  it('rejects with the server code and sentence: a wrong password is invalid_grant and nothing is stored', async () => {
    const { client, store } = clientOf(server);
    const failure = await failureOf(client.login('dana', 'not the password'));
    expect(failure).to.be.instanceOf(TesseraError).and.include({ status: 400, code: 'invalid_grant' });
    expect(await store.get()).to.equal(undefined);
  });

  it('creates, lists, completes and deletes tasks', async () => {
    const { tasks } = dana.client;
    const task = await tasks.create({ title: 'water the plants' });
    expect(task).to.include({ title: 'water the plants', completed: false });
    expect(await tasks.update(task.id, { completed: true })).to.include({ id: task.id, completed: true });
    expect((await tasks.list({ completed: true })).map((item) => item.id)).to.include(task.id);
    expect((await tasks.list({ completed: false })).map((item) => item.id)).to.not.include(task.id);
    await tasks.delete(task.id);
    expect(await failureOf(tasks.get(task.id))).to.be.instanceOf(TesseraError).and.include({ status: 404, code: 'not_found' });
  });

  it('reports validation failures with their details', async () => {
    const failure = await failureOf(dana.client.tasks.create({ title: '' }));
    expect(failure).to.be.instanceOf(TesseraError).and.include({ status: 400, code: 'validation_failed' });
    expect((failure as TesseraError).details).to.be.an('array').that.is.not.empty;
  });

  it('lists the calendar events of a time window', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await dana.client.calendar.create({ title: 'tomorrow', start_time: iso(now + 24 * HOUR), end_time: iso(now + 25 * HOUR) });
    await dana.client.calendar.create({ title: 'next month', start_time: iso(now + 30 * 24 * HOUR), end_time: iso(now + 30 * 24 * HOUR + HOUR) });
    const week = await dana.client.calendar.list({ time_min: iso(now), time_max: iso(now + 7 * 24 * HOUR) });
    expect(week.map((event) => event.title)).to.deep.equal(['tomorrow']);
  });

  it('starts a conversation, posts with a nonce once, and reads it back in seq order', async () => {
    await loggedIn(server, 'frank');
    const conversation = await dana.client.conversations.create({ title: 'plans', members: ['frank'] });
    expect(conversation.members).to.have.members(['dana', 'frank']);
    const first = await dana.client.messages.send(conversation.id, { content: 'hi', nonce: 'n-1' });
    const again = await dana.client.messages.send(conversation.id, { content: 'hi', nonce: 'n-1' });
    await dana.client.messages.send(conversation.id, { content: 'there' });
    expect(again.id).to.equal(first.id);
    expect((await dana.client.messages.list(conversation.id)).map((message) => [message.seq, message.content])).to.deep.equal([[1, 'hi'], [2, 'there']]);
    expect((await dana.client.conversations.list()).map((item) => item.id)).to.include(conversation.id);
  });

  it('sends any other request through fetch with the bearer token', async () => {
    const res = await dana.client.fetch('/ws/ticket', { method: 'POST' });
    expect(res.status).to.equal(201);
    expect(await res.json()).to.have.property('ticket');
    expect((await clientOf(server).client.fetch('/me')).status).to.equal(401);
  });

  it('shares one login and its rotations between two clients over one localStorage', async () => {
    const storage = sharedStorage();
    const tab1 = clientOf(server, { store: localStorageStore('tessera.tokens', storage) });
    const tab2 = clientOf(server, { store: localStorageStore('tessera.tokens', storage) });
    await tab1.client.login('dana', PASSWORD);
    expect(await tab2.client.me()).to.include({ username: 'dana' });
    // tab2 must present tab1's rotated refresh token: the old one again would be reuse and end the session
    const first = await tab1.client.refresh();
    const second = await tab2.client.refresh();
    expect(second).to.not.equal(first);
    expect(await tab1.client.me()).to.include({ username: 'dana' });
    expect(JSON.parse(storage.getItem('tessera.tokens')!)).to.include({ access_token: second });
    await tab2.client.logout();
    expect(storage.getItem('tessera.tokens')).to.equal(null);
    expect(await tab1.client.loggedIn()).to.equal(false);
  });
});

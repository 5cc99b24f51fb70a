import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Task } from '../../client/src/index';
import { detailFields, expectError, RFC3339_UTC } from '../support/expectations';
import { followPages, nextLink, startServerWithAlice, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, type TestServer } from '../support/server';

const TASK_FIELDS = ['id', 'title', 'description', 'completed', 'due_date', 'created_at', 'updated_at'];

onEachDatabase('tasks (SPEC §5.1)', (database) => {
  let server: TestServer;
  let auth: Auth;
  before(async () => ({ server, auth } = await startServerWithAlice(database)));
  after(() => server?.close());

  const create = (body: Record<string, unknown>, as = auth) => server.request.post('/tasks').set(as).send(body);

  async function createTask(body: Record<string, unknown>, as = auth): Promise<Task> {
    const res = await create(body, as);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as Task;
  }

  /** Stores tasks the way POST /tasks does, straight into the table (fast); ties of created_at come in fives. */
  async function insertTasks(userId: string, count: number, newestAt: number): Promise<string[]> {
    const rows = Array.from({ length: count }, (_, i) => {
      const at = newestAt - Math.floor(i / 5) * 1_000;
      return {
        id: randomUUID(),
        tenant_id: server.tessera.services.tenantId,
        user_id: userId,
        title: `task ${i}`,
        description: null,
        completed: i % 2 === 0,
        due_date: null,
        created_at: at,
        updated_at: at,
      };
    });
    await server.tessera.services.db('tasks').insert(rows);
    return rows.map((row) => row.id);
  }

  /** Asserts every id of `expected` appears exactly once in the pages, which are newest first. */
  function expectEachOnceNewestFirst(pages: Task[][], expected: string[]): Task[] {
    const seen = pages.flat();
    const ids = seen.map((task) => task.id);
    expect(new Set(ids).size, 'no task repeated').to.equal(ids.length);
    expect(ids).to.include.members(expected);
    const times = seen.map((task) => Date.parse(task.created_at));
    for (let i = 1; i < times.length; i += 1) expect(times[i], `task ${i} is not newer than task ${i - 1}`).to.be.at.most(times[i - 1]!);
    return seen;
  }

  describe('create, read, update, delete', () => {
    it('creates a task with 201, a Location that reads it back, and the SPEC fields in UTC', async () => {
      const res = await create({ title: 'Buy milk', description: 'two litres', due_date: '2026-03-01T09:00:00+01:00' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.have.all.keys(TASK_FIELDS);
      expect(res.body).to.include({ title: 'Buy milk', description: 'two litres', completed: false, due_date: '2026-03-01T08:00:00.000Z' });
      expect(res.body.created_at).to.match(RFC3339_UTC);
      expect(res.body.updated_at).to.equal(res.body.created_at);
      expect(res.headers.location).to.equal(`/tasks/${res.body.id}`);
      const read = await server.request.get(res.headers.location as string).set(auth);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal(res.body);
    });

    it('defaults description and due_date to null', async () => {
      const task = await createTask({ title: 'Just a title' });
      expect(task).to.include({ description: null, due_date: null, completed: false });
    });

    it('changes only the fields a PATCH names', async () => {
      const task = await createTask({ title: 'Write report', description: 'quarterly', due_date: '2026-05-01T12:00:00Z' });
      const res = await server.request.patch(`/tasks/${task.id}`).set(auth).send({ completed: true });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({ ...task, completed: true, updated_at: res.body.updated_at });
      expect(Date.parse(res.body.updated_at)).to.be.at.least(Date.parse(task.updated_at));
      const read = await server.request.get(`/tasks/${task.id}`).set(auth);
      expect(read.body).to.deep.equal(res.body);
    });

    it('clears a nullable field set to null by a PATCH', async () => {
      const task = await createTask({ title: 'Call Bob', description: 'about the lease', due_date: '2026-05-01T12:00:00Z' });
      const res = await server.request.patch(`/tasks/${task.id}`).set(auth).send({ description: null, due_date: null });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ title: 'Call Bob', description: null, due_date: null });
    });

    it('deletes a task with 204, after which it is 404 on every route', async () => {
      const task = await createTask({ title: 'Temporary' });
      const res = await server.request.delete(`/tasks/${task.id}`).set(auth);
      expect(res.status).to.equal(204);
      expect(res.text).to.equal('');
      expectError(await server.request.get(`/tasks/${task.id}`).set(auth), 404, 'not_found');
      expectError(await server.request.patch(`/tasks/${task.id}`).set(auth).send({ title: 'back' }), 404, 'not_found');
      expectError(await server.request.delete(`/tasks/${task.id}`).set(auth), 404, 'not_found');
    });
  });

  describe('the completed filter', () => {
    let filterAuth: Auth;
    const titles = (res: { body: Task[] }) => res.body.map((task) => task.title).sort();
    before(async () => {
      filterAuth = (await userAuth(server, 'filterer')).auth;
      for (const [title, completed] of [['done 1', true], ['open', false], ['done 2', true]] as const) await createTask({ title, completed }, filterAuth);
    });

    it('lists only completed tasks with completed=true, and only open ones with completed=false', async () => {
      expect(titles(await server.request.get('/tasks?completed=true').set(filterAuth))).to.deep.equal(['done 1', 'done 2']);
      expect(titles(await server.request.get('/tasks?completed=false').set(filterAuth))).to.deep.equal(['open']);
      expect(titles(await server.request.get('/tasks').set(filterAuth))).to.deep.equal(['done 1', 'done 2', 'open']);
    });

    it('keeps the filter in the next-page link', async () => {
      const pages = await followPages<Task>(server, filterAuth, '/tasks?completed=true&limit=1', 5);
      expect(pages.map((page) => page.length)).to.deep.equal([1, 1]);
      expect(pages.flat().every((task) => task.completed)).to.equal(true);
    });

    it('refuses a completed value other than true or false with 400', async () => {
      const res = await server.request.get('/tasks?completed=yes').set(filterAuth);
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res)).to.deep.equal(['completed']);
    });
  });

  describe('paging', () => {
    it('pages through 250 tasks 50 at a time, newest first, each exactly once, until there is no next link', async () => {
      const { id, auth: pager } = await userAuth(server, 'pager');
      const ids = await insertTasks(id, 250, Date.now() - 60_000);
      const pages = await followPages<Task>(server, pager, '/tasks?limit=50', 10);
      expect(pages.map((page) => page.length)).to.deep.equal([50, 50, 50, 50, 50]);
      expect(expectEachOnceNewestFirst(pages, ids)).to.have.length(250);
    });

    it('loses and repeats no task when tasks are created between page fetches', async () => {
      const { id, auth: pager } = await userAuth(server, 'pager2');
      const start = Date.now() - 3_600_000;
      const ids = await insertTasks(id, 250, start);
      const newer: string[] = [];
      const older: string[] = [];
      const pages = await followPages<Task>(server, pager, '/tasks?limit=50', 10, async (page) => {
        newer.push((await createTask({ title: `created during page ${page}` }, pager)).id);
        older.push(...(await insertTasks(id, 1, start - 3_600_000 - page)));
      });
      const seen = expectEachOnceNewestFirst(pages, [...ids, ...older]).map((task) => task.id);
      expect(older, 'a task was created between every two pages').to.have.length(pages.length - 1);
      expect(seen.filter((task) => newer.includes(task)), 'tasks newer than the cursor belong to pages already read').to.deep.equal([]);
      expect(seen).to.have.length(250 + older.length);
    });

    it('refuses a limit over 200, or under 1, with 400, and accepts 200', async () => {
      for (const limit of ['201', '0', '-1', 'ten']) {
        const res = await server.request.get(`/tasks?limit=${limit}`).set(auth);
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res), `limit=${limit}`).to.deep.equal(['limit']);
      }
      expect((await server.request.get('/tasks?limit=200').set(auth)).status).to.equal(200);
    });

    it('refuses a cursor it did not issue with 400', async () => {
      const forged = Buffer.from(JSON.stringify({ created_at: 1 })).toString('base64url');
      for (const cursor of ['not-a-cursor', forged, 'x'.repeat(600)]) {
        const res = await server.request.get('/tasks').query({ cursor }).set(auth);
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res)).to.deep.equal(['cursor']);
      }
    });

    it('sends no next link when everything fits on one page', async () => {
      const { auth: single } = await userAuth(server, 'single');
      await createTask({ title: 'only one' }, single);
      const res = await server.request.get('/tasks').set(single);
      expect(res.body).to.have.length(1);
      expect(nextLink(res)).to.equal(undefined);
    });
  });

  describe('validation', () => {
    it('requires a title of 1 to 200 characters', async () => {
      for (const body of [{}, { title: '' }, { title: '   ' }, { title: 'x'.repeat(201) }]) {
        const res = await create(body);
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res), JSON.stringify(body)).to.deep.equal(['title']);
      }
      expect((await create({ title: 'x'.repeat(200) })).status).to.equal(201);
      expect((await create({ title: 'x' })).status).to.equal(201);
    });

    it('rejects unknown body fields with 400, on POST and PATCH', async () => {
      const task = await createTask({ title: 'Mine' });
      for (const res of [
        await create({ title: 'x', priority: 1 }),
        await create({ title: 'x', user_id: randomUUID() }),
        await server.request.patch(`/tasks/${task.id}`).set(auth).send({ id: 'other' }),
      ]) {
        expectError(res, 400, 'validation_failed');
        expect(res.body.details).to.be.an('array').that.is.not.empty;
      }
      const read = await server.request.get(`/tasks/${task.id}`).set(auth);
      expect(read.body).to.deep.equal(task);
    });

    it('rejects wrong types with 400 and details naming the field', async () => {
      const task = await createTask({ title: 'Typed' });
      const cases: Array<[Record<string, unknown>, string, 'post' | 'patch']> = [
        [{ title: 5 }, 'title', 'post'],
        [{ title: 'x', completed: 'yes' }, 'completed', 'post'],
        [{ title: 'x', due_date: 'tomorrow' }, 'due_date', 'post'],
        [{ title: 'x', due_date: '2026-03-01T09:00:00' }, 'due_date', 'post'],
        [{ title: 'x', description: ['a'] }, 'description', 'post'],
        [{ completed: 1 }, 'completed', 'patch'],
        [{ title: null }, 'title', 'patch'],
      ];
      for (const [body, field, method] of cases) {
        const res = method === 'post' ? await create(body) : await server.request.patch(`/tasks/${task.id}`).set(auth).send(body);
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res), JSON.stringify(body)).to.deep.equal([field]);
      }
    });

    it('answers a malformed JSON body with 400', async () => {
      const res = await server.request.post('/tasks').set(auth).set('Content-Type', 'application/json').send('{"title": ');
      expect(res.status).to.equal(400);
      expect(res.body.error).to.be.a('string');
    });
  });
});

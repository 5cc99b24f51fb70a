import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Environment } from '../../src/config';
import { backendProblem, eventually, REDIS_URL, requireOrSkip } from '../cluster/support';
import { closeAll, connectAs } from '../gateway/support';
import { expectError } from '../support/expectations';
import { POSTGRES_URL, postgresReachable, startSecondProcess, startServer, type TestServer } from '../support/server';
import { login, newUser, PASSWORD, type Tokens } from '../support/users';
import { ADMIN, as, asTenant } from './support';

// Without a bus between them a process notices another's change on its next poll of the database (1 s).
const POLL_NOTICED_MS = 3_000;
// With Redis it hears of it at once; a generous bound for a busy machine.
const BUS_NOTICED_MS = 1_000;

for (const [bus, noticedMs] of [['database only', POLL_NOTICED_MS], ['Redis', BUS_NOTICED_MS]] as const) {
  describe(`tenants: two processes on one PostgreSQL, sharing ${bus}`, function () {
    let one: TestServer;
    let two: TestServer;
    let operator: Tokens;

    before(async function () {
      await requireOrSkip(this, async () =>
        bus === 'Redis' ? backendProblem() : (await postgresReachable()) ? undefined : `PostgreSQL is not reachable at ${POSTGRES_URL}`,
      );
      const env: Environment = { ...ADMIN, RATE_LIMITS: 'off', ISSUER: 'http://tessera.test', ...(bus === 'Redis' ? { REDIS_URL, REDIS_PREFIX: `tenants-${randomBytes(4).toString('hex')}:` } : {}) };
      one = await startServer(env, 'postgres');
      two = await startSecondProcess(one, env);
      operator = await login(one, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' });
    });
    after(async () => {
      await two?.close();
      await one?.close();
    });

    it('serves a tenant added on one process on the other at once, and follows its settings', async () => {
      await as(one, operator).post('/admin/tenants', { id: 'acme', signup: 'open' }).expect(201);
      const [acmeOne, acmeTwo] = [await asTenant(one, 'acme'), await asTenant(two, 'acme')];
      const { tokens } = await newUser(acmeTwo, 'alice');
      expect((await as(acmeOne, tokens).get('/me')).body).to.include({ username: 'alice' });
      await as(one, operator).patch('/admin/tenants/acme', { signup: 'closed' }).expect(200);
      await eventually('sign-up closed on the other process', noticedMs, async () =>
        (await acmeTwo.request.post('/signup').send({ username: 'late', password: PASSWORD })).status === 403 ? true : undefined,
      );
    });

    it('stops serving a tenant removed on one process on the other, closing its sockets there with 4003', async () => {
      const acmeTwo = await asTenant(two, 'acme');
      const tokens = await login(acmeTwo, 'alice');
      const socket = await connectAs(acmeTwo, 'alice', tokens.access_token);
      await as(one, operator).delete('/admin/tenants/acme').expect(204);
      expect((await socket.waitForClose(noticedMs)).code).to.equal(4003);
      expectError(await as(acmeTwo, tokens).get('/me'), 404, 'not_found');
      await closeAll(two, []);
    });
  });
}

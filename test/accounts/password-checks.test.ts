import { expect } from 'chai';
import type { Response } from 'supertest';
import { detailFields, expectError } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD } from '../support/users';

const LOGIN_FAILURES = 10;
const GUESSES = 14;
const METRICS_TOKEN = 'metrics-token-for-the-tests';
const WRONG = 'not the password';
const NEW_PASSWORD = 'a brand new password';

/** A 429 rate_limited with a Retry-After in seconds (SPEC §2). */
function expectRateLimited(res: Response, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(429);
  expectError(res, 429, 'rate_limited');
  expect(Number(res.headers['retry-after']), what).to.be.above(0);
}

onEachDatabase('current password checks of account changes (SPEC §9)', (database) => {
  let server: TestServer;

  before(async () => {
    // The per-address limit of two-factor changes (SPEC §8) is not under test here.
    server = await startServer({ RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES), RATE_LIMIT_ACCOUNT_CODES_PER_HOUR: '1000', METRICS_TOKEN }, database);
  });
  after(() => server.close());

  const changePassword = (token: string, current: string) =>
    server.request.post('/me/password').set(bearer(token)).send({ current_password: current, new_password: NEW_PASSWORD });
  const enrol = (token: string, password: unknown) => server.request.post('/me/2fa').set(bearer(token)).send({ password });
  const passwordGrant = (username: string, password: string) =>
    server.request.post('/token').type('form').send({ grant_type: 'password', username, password });
  /** The failed-login counter of GET /metrics. */
  async function failedLogins(): Promise<number> {
    const res = await server.request.get('/metrics').set(bearer(METRICS_TOKEN));
    expect(res.status).to.equal(200);
    return Number(/^tessera_failed_logins_total (\d+)$/m.exec(res.text)?.[1]);
  }
  const passwordHashOf = async (id: string) =>
    ((await server.tessera.services.db('users').where({ id }).first()) as { password_hash: string }).password_hash;

  /** Sends GUESSES wrong passwords with `guess`: 403 until the limit, 429 after it. */
  async function guessTooOften(guess: () => Promise<Response>): Promise<void> {
    const statuses: number[] = [];
    for (let i = 0; i < GUESSES; i += 1) {
      const res = await guess();
      if (res.status === 403) expectError(res, 403, 'forbidden');
      else expectRateLimited(res, `guess ${i + 1}`);
      statuses.push(res.status);
    }
    expect(statuses).to.deep.equal([...Array<number>(LOGIN_FAILURES).fill(403), ...Array<number>(GUESSES - LOGIN_FAILURES).fill(429)]);
  }

  it('limits wrong current passwords on POST /me/password like failed logins: then even the right one is 429, and so is the password grant', async () => {
    const { id, tokens } = await newUser(server, 'alice');
    const hash = await passwordHashOf(id);
    const failuresBefore = await failedLogins();
    await guessTooOften(() => changePassword(tokens.access_token, WRONG));
    // Past the limit no password was hashed: only the first LOGIN_FAILURES guesses were checked.
    expect((await failedLogins()) - failuresBefore).to.equal(LOGIN_FAILURES);
    expectRateLimited(await changePassword(tokens.access_token, PASSWORD), 'the right password');
    expectRateLimited(await passwordGrant('alice', PASSWORD), 'the password grant from the same address');
    expect(await passwordHashOf(id), 'the password is unchanged').to.equal(hash);
  });

  it('asks POST /me/2fa for the current password, limited the same way: no enrolment after the limit', async () => {
    const { tokens } = await newUser(server, 'bob');
    await guessTooOften(() => enrol(tokens.access_token, WRONG));
    expectRateLimited(await enrol(tokens.access_token, PASSWORD), 'the right password');
    expect((await server.request.get('/me/2fa').set(bearer(tokens.access_token))).body).to.deep.equal({ enabled: false, pending: false, recovery_codes_left: 0 });
  });

  it('counts wrong passwords of the password grant, POST /me/password and POST /me/2fa against one budget per user and address', async () => {
    const { tokens } = await newUser(server, 'carol');
    for (let i = 0; i < 4; i += 1) expectError(await passwordGrant('carol', WRONG), 400, 'invalid_grant');
    for (let i = 0; i < 3; i += 1) expectError(await changePassword(tokens.access_token, WRONG), 403, 'forbidden');
    for (let i = 0; i < 3; i += 1) expectError(await enrol(tokens.access_token, WRONG), 403, 'forbidden');
    expectRateLimited(await enrol(tokens.access_token, PASSWORD), 'POST /me/2fa');
    expectRateLimited(await changePassword(tokens.access_token, PASSWORD), 'POST /me/password');
    expectRateLimited(await passwordGrant('carol', PASSWORD), 'the password grant');
    // Another user from the same address has a budget of their own.
    const { tokens: dave } = await newUser(server, 'dave');
    expect((await enrol(dave.access_token, PASSWORD)).status).to.equal(201);
  });

  it('accepts the right password after a few wrong ones, and never counts malformed bodies as failed logins', async () => {
    const { tokens } = await newUser(server, 'erin');
    const me = bearer(tokens.access_token);
    const malformed: Array<[Record<string, unknown> | string, string]> = [
      [{}, 'password'],
      [{ password: '' }, 'password'],
      [{ password: 42 }, 'password'],
      [{ password: 'x'.repeat(257) }, 'password'],
      [{ password: PASSWORD, otp: '123456' }, 'otp'],
    ];
    for (let round = 0; round < 3; round += 1) {
      for (const [body, field] of malformed) {
        const res = await server.request.post('/me/2fa').set(me).send(body);
        expectError(res, 400, 'validation_failed');
        expect(detailFields(res)).to.include(field);
      }
    }
    // Malformed JSON is refused before any route, as everywhere (SPEC §2).
    const broken = await server.request.post('/me/2fa').set(me).set('Content-Type', 'application/json').send('{"password": ');
    expectError(broken, 400, 'invalid_request');
    for (const body of [{ current_password: PASSWORD }, { new_password: NEW_PASSWORD }, { current_password: PASSWORD, new_password: 'short' }, { current_password: 1, new_password: NEW_PASSWORD }]) {
      expectError(await server.request.post('/me/password').set(me).send(body), 400, 'validation_failed');
    }
    for (let i = 0; i < LOGIN_FAILURES - 1; i += 1) expectError(await enrol(tokens.access_token, WRONG), 403, 'forbidden');
    expect((await enrol(tokens.access_token, PASSWORD)).status).to.equal(201);
    expect((await changePassword(tokens.access_token, PASSWORD)).status).to.equal(204);
    await login(server, 'erin', NEW_PASSWORD);
  });
});

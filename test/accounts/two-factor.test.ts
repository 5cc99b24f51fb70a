import { expect } from 'chai';
import { basicAuth, createClient, secretOf as clientSecret } from '../support/oauth';
import { expectError } from '../support/expectations';
import { onEachDatabase, POSTGRES_URL, postgresReachable, startSecondProcess, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, signup } from '../support/users';
import { base32Encode } from '../../src/accounts/two-factor-totp';
import { enableTwoFactor, MFA_GRANT, mfaGrant, mfaToken, otpAt, secretOf, TestClock, wrongCode } from './account-security-support';

const STEP_MS = 30_000; // RFC 6238 time step
const MFA_TOKEN_TTL_MS = 300_000;
const FAILURE_WINDOW_MS = 900_000;
const TWO_FACTOR_KEY = 'a test key of at least thirty-two characters';

onEachDatabase('two-factor sign-in (SPEC §8)', (database) => {
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    // Fixed time, a few seconds into a step; each test moves it on by whole steps.
    clock.freeze(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
    server = await startServer({ RATE_LIMITS: 'off', TWO_FACTOR_KEY }, database, { clock: clock.now });
  });
  after(() => server.close());

  /** A new user with two-factor sign-in on; the clock is one step past the confirming code. */
  async function userWithTwoFactor(username: string) {
    await signup(server, username);
    const tokens = await login(server, username);
    const enabled = await enableTwoFactor(server, tokens.access_token, clock);
    clock.advance(STEP_MS);
    return { ...enabled, accessToken: tokens.access_token };
  }

  /** The code of the clock's current step, after moving it on a step (so no code is ever used twice by accident). */
  const freshOtp = (secret: Buffer) => {
    clock.advance(STEP_MS);
    return otpAt(secret, clock.now());
  };

  it('enrols with an otpauth URI and ten recovery codes, and stays off until confirmed', async () => {
    await signup(server, 'alice');
    const { access_token: token } = await login(server, 'alice');
    const res = await server.request.post('/me/2fa').set(bearer(token)).send({ password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.otpauth_uri).to.match(/^otpauth:\/\/totp\/localhost%3A0:alice\?secret=[A-Z2-7]{32}&issuer=localhost%3A0&/);
    expect(new URL(res.body.otpauth_uri as string).searchParams.get('secret')).to.equal(res.body.secret);
    expect(res.body.recovery_codes).to.have.length(10);
    expect(new Set(res.body.recovery_codes)).to.have.property('size', 10);
    expect((await server.request.get('/me/2fa').set(bearer(token))).body).to.deep.equal({ enabled: false, pending: true, recovery_codes_left: 0 });
    await login(server, 'alice');

    const otp = otpAt(secretOf(res.body.otpauth_uri as string), clock.now());
    expectError(await server.request.post('/me/2fa/confirm').set(bearer(token)).send({ otp: wrongCode(otp) }), 400, 'invalid_code');
    const confirmed = await server.request.post('/me/2fa/confirm').set(bearer(token)).send({ otp });
    expect(confirmed.status).to.equal(204);
    expect((await server.request.get('/me/2fa').set(bearer(token))).body).to.deep.equal({ enabled: true, pending: false, recovery_codes_left: 10 });
  });

  it('keeps the secret encrypted and the recovery codes hashed in the database', async () => {
    const { secret, recoveryCodes } = await userWithTwoFactor('bob');
    const rows = [...(await server.tessera.services.db('two_factor').select('*')), ...(await server.tessera.services.db('recovery_codes').select('*'))];
    const stored = JSON.stringify(rows);
    expect(rows.length).to.be.greaterThan(10);
    expect(stored).to.not.include(base32Encode(secret));
    for (const code of recoveryCodes) expect(stored).to.not.include(code.replace(/-/g, ''));
  });

  it('refuses a second enrolment while it is on', async () => {
    const { accessToken } = await userWithTwoFactor('carol');
    expectError(await server.request.post('/me/2fa').set(bearer(accessToken)).send({ password: PASSWORD }), 409, 'conflict');
  });

  it('answers a right password with 400 mfa_required and an mfa_token, and a wrong one with invalid_grant as ever', async () => {
    await userWithTwoFactor('dave');
    const res = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'dave', password: PASSWORD });
    expectError(res, 400, 'mfa_required');
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.mfa_token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body).to.not.have.property('access_token');
    const wrong = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'dave', password: 'not the password' });
    expectError(wrong, 400, 'invalid_grant');
    expect(wrong.body).to.not.have.property('mfa_token');
  });

  it('completes the sign-in with the mfa grant and a TOTP code: tokens like the password grant, with the asked scope', async () => {
    const { secret } = await userWithTwoFactor('erin');
    const token = await mfaToken(server, 'erin', PASSWORD, { scope: 'tasks:read' });
    const res = await mfaGrant(server, token, otpAt(secret, clock.now()));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.include({ token_type: 'Bearer', scope: 'tasks:read' });
    expect(res.body.refresh_token).to.be.a('string');
    const me = await server.request.get('/me').set(bearer(res.body.access_token as string));
    expect(me.body.username).to.equal('erin');
    const refreshed = await server.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    expect(refreshed.status).to.equal(200);
  });

  it('refuses a TOTP code used before (same step), with a new mfa_token too', async () => {
    const { secret } = await userWithTwoFactor('frank');
    const otp = otpAt(secret, clock.now());
    expect((await mfaGrant(server, await mfaToken(server, 'frank', PASSWORD), otp)).status).to.equal(200);
    expectError(await mfaGrant(server, await mfaToken(server, 'frank', PASSWORD), otp), 400, 'invalid_grant');
    expect((await mfaGrant(server, await mfaToken(server, 'frank', PASSWORD), freshOtp(secret))).status).to.equal(200);
  });

  it('judges codes by the injected clock: the step before counts, two steps away does not', async () => {
    const { secret } = await userWithTwoFactor('grace');
    clock.advance(3 * STEP_MS);
    expectError(await mfaGrant(server, await mfaToken(server, 'grace', PASSWORD), otpAt(secret, clock.now() + 2 * STEP_MS)), 400, 'invalid_grant');
    expectError(await mfaGrant(server, await mfaToken(server, 'grace', PASSWORD), otpAt(secret, clock.now() - 2 * STEP_MS)), 400, 'invalid_grant');
    expect((await mfaGrant(server, await mfaToken(server, 'grace', PASSWORD), otpAt(secret, clock.now() - STEP_MS))).status).to.equal(200);
  });

  it('takes each recovery code once', async () => {
    const { recoveryCodes, accessToken } = await userWithTwoFactor('heidi');
    const code = recoveryCodes[0]!;
    expect((await mfaGrant(server, await mfaToken(server, 'heidi', PASSWORD), code.toUpperCase())).status).to.equal(200);
    expectError(await mfaGrant(server, await mfaToken(server, 'heidi', PASSWORD), code), 400, 'invalid_grant');
    expect((await server.request.get('/me/2fa').set(bearer(accessToken))).body.recovery_codes_left).to.equal(9);
    expect((await mfaGrant(server, await mfaToken(server, 'heidi', PASSWORD), recoveryCodes[1]!)).status).to.equal(200);
  });

  it('refuses an mfa_token after its five minutes', async () => {
    const { secret } = await userWithTwoFactor('ivan');
    const token = await mfaToken(server, 'ivan', PASSWORD);
    clock.advance(MFA_TOKEN_TTL_MS + STEP_MS);
    const res = await mfaGrant(server, token, otpAt(secret, clock.now()));
    expectError(res, 400, 'invalid_grant');
    expect(res.body.error_description).to.match(/mfa_token/);
  });

  it('refuses an mfa_token used once already', async () => {
    const { secret } = await userWithTwoFactor('judy');
    const token = await mfaToken(server, 'judy', PASSWORD);
    expect((await mfaGrant(server, token, otpAt(secret, clock.now()))).status).to.equal(200);
    expectError(await mfaGrant(server, token, freshOtp(secret)), 400, 'invalid_grant');
  });

  it('binds the mfa_token to its client: another client may not complete it', async () => {
    const { secret } = await userWithTwoFactor('ken');
    const other = await createClient(server, { grantTypes: ['password', 'refresh_token'], scope: 'tasks:read' });
    const token = await mfaToken(server, 'ken', PASSWORD);
    expectError(await mfaGrant(server, token, otpAt(secret, clock.now())).set(basicAuth(other.id, clientSecret(other))), 400, 'invalid_grant');
    expect((await mfaGrant(server, token, otpAt(secret, clock.now()))).status).to.equal(200);
  });

  it('lets only clients allowed the password grant use the mfa grant', async () => {
    const service = await createClient(server, { grantTypes: ['client_credentials'] });
    expectError(await mfaGrant(server, 'x', '000000').set(basicAuth(service.id, clientSecret(service))), 400, 'unauthorized_client');
  });

  it('kills an mfa_token after five wrong codes: the right one is refused after', async () => {
    const { secret } = await userWithTwoFactor('leo');
    const token = await mfaToken(server, 'leo', PASSWORD);
    const right = otpAt(secret, clock.now());
    for (let attempt = 0; attempt < 5; attempt += 1) expectError(await mfaGrant(server, token, wrongCode(right)), 400, 'invalid_grant');
    expectError(await mfaGrant(server, token, right), 400, 'invalid_grant');
    expect((await mfaGrant(server, await mfaToken(server, 'leo', PASSWORD), right)).status).to.equal(200);
  });

  it('limits wrong codes per user across mfa_tokens: 429 until the window has passed', async () => {
    const { secret } = await userWithTwoFactor('mallory');
    for (let attempt = 0; attempt < 10; attempt += 1) {
      expectError(await mfaGrant(server, await mfaToken(server, 'mallory', PASSWORD), wrongCode(otpAt(secret, clock.now()))), 400, 'invalid_grant');
    }
    const limited = await mfaGrant(server, await mfaToken(server, 'mallory', PASSWORD), otpAt(secret, clock.now()));
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).to.be.within(1, FAILURE_WINDOW_MS / 1000);
    clock.advance(FAILURE_WINDOW_MS);
    expect((await mfaGrant(server, await mfaToken(server, 'mallory', PASSWORD), otpAt(secret, clock.now()))).status).to.equal(200);
  });

  it('judges no more wrong codes than the limit when 40 arrive at once: 10 are judged, the other 30 answer 429', async () => {
    const { secret } = await userWithTwoFactor('uma');
    const tokens = await Promise.all(Array.from({ length: 8 }, () => mfaToken(server, 'uma', PASSWORD)));
    const wrong = wrongCode(otpAt(secret, clock.now()));
    const answers = await Promise.all(tokens.flatMap((token) => Array.from({ length: 5 }, () => mfaGrant(server, token, wrong))));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 400), 'judged').to.have.length(10);
    expect(statuses.filter((status) => status === 429), 'refused unjudged').to.have.length(30);
  });

  it('signs in once when two sign-ins send the same code at once (a step is used once)', async () => {
    const { secret } = await userWithTwoFactor('vera');
    const [first, second] = await Promise.all([mfaToken(server, 'vera', PASSWORD), mfaToken(server, 'vera', PASSWORD)]);
    const otp = otpAt(secret, clock.now());
    const answers = await Promise.all([mfaGrant(server, first, otp), mfaGrant(server, second, otp)]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 400]);
  });

  it('takes a recovery code once when two sign-ins send it at once', async () => {
    const { recoveryCodes, accessToken } = await userWithTwoFactor('wade');
    const [first, second] = await Promise.all([mfaToken(server, 'wade', PASSWORD), mfaToken(server, 'wade', PASSWORD)]);
    const answers = await Promise.all([mfaGrant(server, first, recoveryCodes[0]!), mfaGrant(server, second, recoveryCodes[0]!)]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 400]);
    expect((await server.request.get('/me/2fa').set(bearer(accessToken))).body.recovery_codes_left).to.equal(9);
  });

  it('completes an mfa_token once when it is sent twice at once, each time with a good code', async () => {
    const { secret, recoveryCodes } = await userWithTwoFactor('xena');
    const token = await mfaToken(server, 'xena', PASSWORD);
    const answers = await Promise.all([mfaGrant(server, token, otpAt(secret, clock.now())), mfaGrant(server, token, recoveryCodes[0]!)]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 400]);
    const tokens = answers.find((answer) => answer.status === 200)!.body as { access_token: string };
    expect((await server.request.get('/sessions').set(bearer(tokens.access_token))).body).to.have.length(2);
  });

  it('turns off with a current code (not with a wrong one); the password grant then issues tokens again', async () => {
    const { secret, accessToken } = await userWithTwoFactor('niaj');
    const right = otpAt(secret, clock.now());
    expectError(await server.request.delete('/me/2fa').set(bearer(accessToken)).send({ otp: wrongCode(right) }), 400, 'invalid_code');
    expect((await server.request.delete('/me/2fa').set(bearer(accessToken)).send({ otp: right })).status).to.equal(204);
    expect((await server.request.get('/me/2fa').set(bearer(accessToken))).body).to.deep.equal({ enabled: false, pending: false, recovery_codes_left: 0 });
    await login(server, 'niaj');
    expectError(await server.request.delete('/me/2fa').set(bearer(accessToken)).send({ otp: right }), 404, 'not_found');
  });

  it('turns off with a recovery code', async () => {
    const { recoveryCodes, accessToken } = await userWithTwoFactor('olivia');
    expect((await server.request.delete('/me/2fa').set(bearer(accessToken)).send({ otp: recoveryCodes[3] })).status).to.equal(204);
    await login(server, 'olivia');
  });

  it('lists the mfa grant in the metadata and documents the endpoints in the OpenAPI document', async () => {
    const metadata = await server.request.get('/.well-known/oauth-authorization-server');
    expect(metadata.body.grant_types_supported).to.include(MFA_GRANT);
    const { paths } = (await server.request.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(paths['/me/2fa']!)).to.have.members(['get', 'post', 'delete']);
    for (const path of ['/me/2fa/confirm', '/signup/verify', '/signup/resend', '/password/forgot', '/password/reset']) expect(paths[path], path).to.have.property('post');
  });
});

describe('two-factor sign-in and the failed-login rate limit', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startServer({ RATE_LIMIT_LOGIN_FAILURES: '2' }, 'sqlite', { clock: clock.now });
  });
  after(() => server.close());

  it('throttles wrong one-time passwords per IP across accounts: 429 once the IP has sent RATE_LIMIT_LOGIN_FAILURES of them', async () => {
    const secrets = new Map<string, Buffer>();
    for (const username of ['rita', 'sam']) {
      await signup(server, username);
      secrets.set(username, (await enableTwoFactor(server, (await login(server, username)).access_token, clock)).secret);
    }
    for (const username of ['rita', 'sam']) {
      expectError(await mfaGrant(server, await mfaToken(server, username, PASSWORD), wrongCode(otpAt(secrets.get(username)!, clock.now()))), 400, 'invalid_grant');
    }
    const limited = await mfaGrant(server, await mfaToken(server, 'sam', PASSWORD), otpAt(secrets.get('sam')!, clock.now() + STEP_MS));
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
  });

  it('does not count a right password answered mfa_required as a failed login', async () => {
    await signup(server, 'pat');
    await enableTwoFactor(server, (await login(server, 'pat')).access_token, clock);
    for (let attempt = 0; attempt < 4; attempt += 1) await mfaToken(server, 'pat', PASSWORD);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'pat', password: 'wrong password' }), 400, 'invalid_grant');
    }
    expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'pat', password: PASSWORD }), 429, 'rate_limited');
  });
});

describe('two-factor sign-in on two processes sharing PostgreSQL', () => {
  let one: TestServer;
  let two: TestServer;
  const clock = new TestClock();

  before(async function () {
    if (!(await postgresReachable())) {
      if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${POSTGRES_URL}`);
      console.log(`      (skipped: PostgreSQL is not reachable at ${POSTGRES_URL})`);
      this.skip();
    }
    clock.freeze(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
    one = await startServer({ RATE_LIMITS: 'off', TWO_FACTOR_KEY }, 'postgres', { clock: clock.now });
    two = await startSecondProcess(one, { RATE_LIMITS: 'off', TWO_FACTOR_KEY }, { clock: clock.now });
  });
  after(async () => {
    await two?.close();
    await one?.close();
  });

  it('signs in once when the same code reaches both processes at once (no replay across processes)', async () => {
    await signup(one, 'yann');
    const { secret } = await enableTwoFactor(one, (await login(one, 'yann')).access_token, clock);
    clock.advance(STEP_MS);
    const [atOne, atTwo] = await Promise.all([mfaToken(one, 'yann', PASSWORD), mfaToken(two, 'yann', PASSWORD)]);
    const otp = otpAt(secret, clock.now());
    const answers = await Promise.all([mfaGrant(one, atOne, otp), mfaGrant(two, atTwo, otp)]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 400]);
  });
});

describe('rate limit of the two-factor changes', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startServer({ RATE_LIMIT_ACCOUNT_CODES_PER_HOUR: '3' }, 'sqlite', { clock: clock.now });
  });
  after(() => server.close());

  it('answers 429 with Retry-After once an IP has made RATE_LIMIT_ACCOUNT_CODES_PER_HOUR tries across enrol, confirm and disable', async () => {
    await signup(server, 'tess');
    const me = bearer((await login(server, 'tess')).access_token);
    expect((await server.request.post('/me/2fa').set(me).send({ password: PASSWORD })).status).to.equal(201);
    expectError(await server.request.post('/me/2fa/confirm').set(me).send({ otp: '000000' }), 400, 'invalid_code');
    expect((await server.request.delete('/me/2fa').set(me).send({ otp: '000000' })).status).to.equal(204);
    const limited = await server.request.post('/me/2fa').set(me).send({ password: PASSWORD });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
    expect((await server.request.get('/me/2fa').set(me)).status).to.equal(200);
  });
});

describe('two-factor secrets without TWO_FACTOR_KEY', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
  });
  after(() => server.close());

  it('still signs in with TOTP (the secret is stored unsealed; the README says to set the key)', async () => {
    await signup(server, 'quentin');
    const { secret } = await enableTwoFactor(server, (await login(server, 'quentin')).access_token, clock);
    clock.advance(STEP_MS);
    expect((await mfaGrant(server, await mfaToken(server, 'quentin', PASSWORD), otpAt(secret, clock.now()))).status).to.equal(200);
  });
});

import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config';
import { detailFields, expectError } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD } from '../support/users';
import { codeIn, emailOf, hmacHex, Mailbox, sha256Hex, TestClock, wrongCode } from './account-security-support';

const CODE_TTL_MS = 600_000; // SPEC §8: 10 min
const RESEND_INTERVAL_MS = 60_000;
const DAY_MS = 24 * 3_600_000; // the window of an account's wrong tries
const ACCOUNT_CODE_KEY = 'an account code key of thirty-two characters or more';

/** Signs up with `email` (none when null). */
const signup = (server: TestServer, username: string, email: string | null = emailOf(username)) =>
  server.request.post('/signup').send({ username, password: PASSWORD, ...(email === null ? {} : { email }) });
const verify = (server: TestServer, username: string, code: string) => server.request.post('/signup/verify').send({ username, code });
const passwordGrant = (server: TestServer, username: string) =>
  server.request.post('/token').type('form').send({ grant_type: 'password', username, password: PASSWORD });

onEachDatabase('e-mail verification (SPEC §8)', (database) => {
  let mailbox: Mailbox;
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, MAIL_FROM: 'tessera <auth@example.test>', RATE_LIMITS: 'off' }, database, {
      clock: clock.now,
    });
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  /** Signs `username` up and returns the code mailed to it. */
  async function signedUp(username: string): Promise<string> {
    const res = await signup(server, username);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return codeIn(await mailbox.next(emailOf(username)));
  }

  it('mails a 6-digit code on signup and answers 201 with verification_pending', async () => {
    const res = await signup(server, 'alice');
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.deep.include({ username: 'alice', verification_pending: true });
    const mail = await mailbox.next(emailOf('alice'));
    expect(mail.from).to.equal('auth@example.test');
    expect(mail.subject).to.equal('Your tessera verification code');
    expect(codeIn(mail)).to.match(/^\d{6}$/);
  });

  it('refuses the password grant with invalid_grant saying verification is pending, then signs in once verified', async () => {
    const code = await signedUp('bob');
    const refused = await passwordGrant(server, 'bob');
    expectError(refused, 400, 'invalid_grant');
    expect(refused.body.error_description).to.match(/verification is pending/);
    expect(refused.body.verification_pending).to.equal(true);

    expect((await verify(server, 'bob', code)).status).to.equal(204);
    const tokens = await login(server, 'bob');
    const me = await server.request.get('/me').set(bearer(tokens.access_token));
    expect(me.body).to.include({ username: 'bob', email: emailOf('bob') });
  });

  it('keeps a wrong password the same invalid_grant as ever, without saying the account is pending', async () => {
    await signedUp('carol');
    const res = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'carol', password: 'not the password' });
    expectError(res, 400, 'invalid_grant');
    expect(res.body).to.not.have.property('verification_pending');
    expect(res.body.error_description).to.not.match(/verification/);
  });

  it('stores the code only under an HMAC keyed with a key kept apart from the row: no plain hash of the code, and a used code leaves no hash', async () => {
    const code = await signedUp('dave');
    const { db, tenantId } = server.tessera.services;
    const dave = (await db('users').where({ username: 'dave' }).first()) as { id: string };
    const row = (await db('account_codes').where({ user_id: dave.id }).first()) as { code_hash: string };
    expect(JSON.stringify(row)).to.not.include(code);
    // What a leaked row must not let anyone check a guess against: any plain SHA-256 of the code with what the row holds.
    for (const parts of [[code], [dave.id, 'verify_email', code], [tenantId, dave.id, 'verify_email', code]]) {
      expect(row.code_hash).to.not.equal(sha256Hex(...parts));
    }
    const { value: key } = (await db('server_secrets').where({ name: 'account_code_key' }).first()) as { value: string };
    expect(row.code_hash).to.equal(hmacHex(key, tenantId, dave.id, 'verify_email', code));

    expect((await verify(server, 'dave', code)).status).to.equal(204);
    expect(((await db('account_codes').where({ user_id: dave.id }).first()) as { code_hash: string }).code_hash).to.equal('');
  });

  it('accepts a code once', async () => {
    const code = await signedUp('erin');
    expect((await verify(server, 'erin', code)).status).to.equal(204);
    expectError(await verify(server, 'erin', code), 400, 'invalid_code');
  });

  it('refuses a code after its 10 minutes, and a resent code works', async () => {
    const code = await signedUp('frank');
    clock.advance(CODE_TTL_MS + 1_000);
    expectError(await verify(server, 'frank', code), 400, 'invalid_code');
    expect((await server.request.post('/signup/resend').send({ username: 'frank' })).status).to.equal(202);
    const fresh = codeIn(await mailbox.next(emailOf('frank')));
    expect((await verify(server, 'frank', fresh)).status).to.equal(204);
  });

  it('locks the code after five wrong tries: the sixth try and then the right code are refused', async () => {
    const code = await signedUp('grace');
    for (let attempt = 1; attempt <= 6; attempt += 1) expectError(await verify(server, 'grace', wrongCode(code)), 400, 'invalid_code');
    expectError(await verify(server, 'grace', code), 400, 'invalid_code');
    expectError(await passwordGrant(server, 'grace'), 400, 'invalid_grant');
    // A new code (a minute later) starts over.
    clock.advance(RESEND_INTERVAL_MS);
    expect((await server.request.post('/signup/resend').send({ username: 'grace' })).status).to.equal(202);
    const fresh = codeIn(await mailbox.next(emailOf('grace')));
    expect((await verify(server, 'grace', fresh)).status).to.equal(204);
  });

  /** A minute on, asks for a new code for `username` and returns it. */
  async function resent(username: string): Promise<string> {
    clock.advance(RESEND_INTERVAL_MS);
    expect((await server.request.post('/signup/resend').send({ username })).status).to.equal(202);
    return codeIn(await mailbox.next(emailOf(username)));
  }

  it('refuses every code once one address has had 10 wrong tries at the account in a day, the right one too, and takes codes again a day later', async () => {
    let code = await signedUp('kim');
    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 0; attempt < 5; attempt += 1) expectError(await verify(server, 'kim', wrongCode(code)), 400, 'invalid_code');
      code = await resent('kim');
    }
    const refused = await verify(server, 'kim', code);
    expectError(refused, 400, 'invalid_code');
    expect(refused.body).to.deep.equal((await verify(server, 'nobody', code)).body);
    expectError(await passwordGrant(server, 'kim'), 400, 'invalid_grant');

    clock.advance(DAY_MS);
    expect((await verify(server, 'kim', await resent('kim'))).status).to.equal(204);
    await login(server, 'kim');
  });

  it('sends at most one code a minute: a resend within the minute leaves the mailed code working', async () => {
    const code = await signedUp('heidi');
    expect((await server.request.post('/signup/resend').send({ username: 'heidi' })).status).to.equal(202);
    expect((await verify(server, 'heidi', code)).status).to.equal(204);
  });

  it('answers a resend for an unknown or verified name as for a pending one', async () => {
    await signedUp('ivan');
    const pending = await server.request.post('/signup/resend').send({ username: 'ivan' });
    const unknown = await server.request.post('/signup/resend').send({ username: 'nobody' });
    const verified = await server.request.post('/signup/resend').send({ username: 'bob' });
    for (const res of [pending, unknown, verified]) {
      expect(res.status).to.equal(202);
      expect(res.text).to.equal('');
    }
  });

  it('answers an unknown name with the same invalid_code as a wrong code', async () => {
    const code = await signedUp('judy');
    const unknown = await verify(server, 'nobody', code);
    const wrongAnswer = await verify(server, 'judy', wrongCode(code));
    expectError(unknown, 400, 'invalid_code');
    expect(unknown.body).to.deep.equal(wrongAnswer.body);
  });

  it('requires an e-mail address to sign up, naming the field', async () => {
    const res = await signup(server, 'mallory', null);
    expectError(res, 400, 'validation_failed');
    expect(detailFields(res)).to.deep.equal(['email']);
  });

  it('refuses a code that is not six digits as a validation error, without spending a try', async () => {
    const code = await signedUp('niaj');
    for (let attempt = 0; attempt < 6; attempt += 1) expect(detailFields(await verify(server, 'niaj', 'abc'))).to.deep.equal(['code']);
    expect((await verify(server, 'niaj', ` ${code} `)).status).to.equal(204);
  });
});

describe('e-mail verification with ACCOUNT_CODE_KEY', () => {
  let mailbox: Mailbox;
  let server: TestServer;
  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, ACCOUNT_CODE_KEY, RATE_LIMITS: 'off' });
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  it('keys the hash of the code with ACCOUNT_CODE_KEY, and keeps no key in the database', async () => {
    expect((await signup(server, 'lena')).status).to.equal(201);
    const code = codeIn(await mailbox.next(emailOf('lena')));
    const { db, tenantId } = server.tessera.services;
    const lena = (await db('users').where({ username: 'lena' }).first()) as { id: string };
    const row = (await db('account_codes').where({ user_id: lena.id }).first()) as { code_hash: string };
    expect(row.code_hash).to.equal(hmacHex(ACCOUNT_CODE_KEY, tenantId, lena.id, 'verify_email', code));
    expect(await db('server_secrets').select('*')).to.deep.equal([]);
    expect((await verify(server, 'lena', code)).status).to.equal(204);
  });

  it('refuses a key shorter than 32 characters at start-up, naming ACCOUNT_CODE_KEY', () => {
    expect(() => loadConfig({ ACCOUNT_CODE_KEY: 'too short' })).to.throw(ConfigError, /^invalid configuration: ACCOUNT_CODE_KEY: /);
  });
});

describe('e-mail verification off (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
  });
  after(() => server.close());

  it('signs up with or without an address, answers just {id, username}, and lets the account sign in at once', async () => {
    for (const [username, email] of [['olivia', emailOf('olivia')], ['peggy', null]] as const) {
      const res = await signup(server, username, email);
      expect(res.status).to.equal(201);
      expect(res.body).to.have.all.keys('id', 'username');
      await login(server, username);
    }
  });
});

describe('rate limit of the e-mailed code endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', RATE_LIMIT_ACCOUNT_CODES_PER_HOUR: '3' });
  });
  after(() => server.close());

  it('answers 429 with Retry-After once an IP has used up its tries across verify, resend, forgot and reset', async () => {
    expect((await server.request.post('/signup/verify').send({ username: 'x', code: '000000' })).status).to.equal(400);
    expect((await server.request.post('/signup/resend').send({ username: 'x' })).status).to.equal(202);
    expect((await server.request.post('/password/forgot').send({ username: 'x' })).status).to.equal(202);
    const limited = await server.request.post('/password/reset').send({ username: 'x', code: '000000', new_password: PASSWORD });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
  });
});

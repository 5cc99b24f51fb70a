import { expect } from 'chai';
import { closeAll, connectAs, expectRefused, type TestSocket } from '../gateway/support';
import { expectError, expectInvalidToken } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD, refresh } from '../support/users';
import { codeIn, emailOf, enableTwoFactor, Mailbox, mfaGrant, mfaToken, otpAt, TestClock, wrongCode } from './account-security-support';

const NEW_PASSWORD = 'a brand new secret';
const CODE_TTL_MS = 600_000;
const REVOKED = 4003;
const REVOCATION_MS = 1_000; // SPEC §6: a revoked session's sockets close within 1 s
const STEP_MS = 30_000; // RFC 6238 time step

const forgot = (server: TestServer, body: Record<string, string>) => server.request.post('/password/forgot').send(body);
const reset = (server: TestServer, username: string, code: string, newPassword = NEW_PASSWORD) =>
  server.request.post('/password/reset').send({ username, code, new_password: newPassword });
const passwordGrant = (server: TestServer, username: string, password: string) =>
  server.request.post('/token').type('form').send({ grant_type: 'password', username, password });

onEachDatabase('password reset (SPEC §8)', (database) => {
  let mailbox: Mailbox;
  let server: TestServer;
  const clock = new TestClock();
  const opened: TestSocket[] = [];

  before(async () => {
    mailbox = await Mailbox.start();
    server = await startServer({ SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, database, { clock: clock.now });
  });
  afterEach(() => closeAll(server, opened.splice(0)));
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  async function account(username: string, email: string | null = emailOf(username)): Promise<void> {
    const res = await server.request.post('/signup').send({ username, password: PASSWORD, ...(email === null ? {} : { email }) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  }

  /** Asks for a reset of `username` and returns the mailed code. */
  async function mailedCode(username: string): Promise<string> {
    expect((await forgot(server, { username })).status).to.equal(202);
    return codeIn(await mailbox.next(emailOf(username)));
  }

  it('mails a code for a username; the new password works and the old one no longer does', async () => {
    await account('alice');
    const code = await mailedCode('alice');
    expect(mailbox.to(emailOf('alice')).at(-1)!.subject).to.equal('Your tessera password reset code');
    expect((await reset(server, 'alice', code)).status).to.equal(204);
    expectError(await passwordGrant(server, 'alice', PASSWORD), 400, 'invalid_grant');
    await login(server, 'alice', NEW_PASSWORD);
  });

  it('mails a code to an address given in any letter case', async () => {
    await account('bob', 'Bob.Builder@Example.test');
    expect((await forgot(server, { email: 'bob.builder@example.TEST' })).status).to.equal(202);
    const code = codeIn(await mailbox.next('Bob.Builder@Example.test'));
    expect((await reset(server, 'bob', code)).status).to.equal(204);
  });

  it('answers an unknown username or address exactly as a known one', async () => {
    await account('carol');
    const known = await forgot(server, { username: 'carol' });
    const unknown = await forgot(server, { username: 'nobody-here' });
    const unknownEmail = await forgot(server, { email: 'nobody@example.test' });
    const noAddress = await (async () => {
      await account('dave', null);
      return forgot(server, { username: 'dave' });
    })();
    for (const res of [unknown, unknownEmail, noAddress]) {
      expect(res.status).to.equal(known.status).and.to.equal(202);
      expect(res.text).to.equal(known.text);
      expect(res.headers['content-type']).to.equal(known.headers['content-type']);
    }
  });

  it('wants exactly one of username and email', async () => {
    expectError(await forgot(server, {}), 400, 'validation_failed');
    expectError(await forgot(server, { username: 'carol', email: emailOf('carol') }), 400, 'validation_failed');
  });

  it('revokes every session of the account and closes its sockets with 4003', async () => {
    await account('erin');
    const sessions = [await login(server, 'erin'), await login(server, 'erin')];
    const sockets = await Promise.all(sessions.map((tokens) => connectAs(server, 'erin', tokens.access_token)));
    opened.push(...sockets);
    const code = await mailedCode('erin');

    expect((await reset(server, 'erin', code)).status).to.equal(204);
    const closed = await Promise.all(sockets.map((socket) => socket.waitForClose(REVOCATION_MS)));
    expect(closed.map((close) => close.code)).to.deep.equal([REVOKED, REVOKED]);
    for (const tokens of sessions) {
      expectInvalidToken(await server.request.get('/me').set(bearer(tokens.access_token)));
      expectError(await refresh(server, tokens.refresh_token), 400, 'invalid_grant');
    }
    const fresh = await login(server, 'erin', NEW_PASSWORD);
    expect((await server.request.get('/sessions').set(bearer(fresh.access_token))).body).to.have.length(1);
  });

  it('refuses a socket ticket issued before the reset (401)', async () => {
    await account('ernie');
    const tokens = await login(server, 'ernie');
    const ticket = (await server.request.post('/ws/ticket').set(bearer(tokens.access_token)).expect(201)).body.ticket as string;
    expect((await reset(server, 'ernie', await mailedCode('ernie'))).status).to.equal(204);
    await expectRefused(server, `/ws/ernie?ticket=${encodeURIComponent(ticket)}`, 401, 'invalid_token');
  });

  it('refuses an mfa_token of a sign-in with the old password, even with a right code; the new password starts a new one', async () => {
    await account('fiona');
    const { secret } = await enableTwoFactor(server, (await login(server, 'fiona')).access_token, clock);
    const pending = await mfaToken(server, 'fiona', PASSWORD);
    expect((await reset(server, 'fiona', await mailedCode('fiona'))).status).to.equal(204);
    clock.advance(STEP_MS);
    expectError(await mfaGrant(server, pending, otpAt(secret, clock.now())), 400, 'invalid_grant');
    expect((await mfaGrant(server, await mfaToken(server, 'fiona', NEW_PASSWORD), otpAt(secret, clock.now()))).status).to.equal(200);
  });

  it('ends a mailed reset code when the password is changed at /me/password', async () => {
    await account('gus');
    const tokens = await login(server, 'gus');
    const code = await mailedCode('gus');
    await server.request.post('/me/password').set(bearer(tokens.access_token)).send({ current_password: PASSWORD, new_password: NEW_PASSWORD }).expect(204);
    expectError(await reset(server, 'gus', code, 'the attacker password'), 400, 'invalid_code');
    await login(server, 'gus', NEW_PASSWORD);
  });

  it('mails the address stored with the account, not the spelling it was asked for with', async () => {
    await account('kate', 'Kate.Smith@Example.test');
    expect((await forgot(server, { email: 'KATE.SMITH@example.test' })).status).to.equal(202);
    const mail = await mailbox.next('Kate.Smith@Example.test');
    expect(mail.to).to.have.length(1);
    expect(mail.to[0]!.split('@')[0]).to.equal('Kate.Smith');
  });

  it("puts no link in the mail, and nothing of the request's Host header", async () => {
    await account('leon');
    expect((await forgot(server, { username: 'leon' }).set('Host', 'evil.example:8080')).status).to.equal(202);
    const mail = await mailbox.next(emailOf('leon'));
    expect(`${mail.from} ${mail.subject} ${mail.text}`).to.not.match(/evil\.example|https?:/);
  });

  it('accepts a code once', async () => {
    await account('frank');
    const code = await mailedCode('frank');
    expect((await reset(server, 'frank', code)).status).to.equal(204);
    expectError(await reset(server, 'frank', code, 'yet another password'), 400, 'invalid_code');
    await login(server, 'frank', NEW_PASSWORD);
  });

  it('refuses a code after its 10 minutes and keeps the password', async () => {
    await account('grace');
    const code = await mailedCode('grace');
    clock.advance(CODE_TTL_MS + 1_000);
    expectError(await reset(server, 'grace', code), 400, 'invalid_code');
    await login(server, 'grace', PASSWORD);
  });

  it('locks the code after five wrong tries: the sixth and then the right code are refused', async () => {
    await account('heidi');
    const code = await mailedCode('heidi');
    for (let attempt = 1; attempt <= 6; attempt += 1) expectError(await reset(server, 'heidi', wrongCode(code)), 400, 'invalid_code');
    expectError(await reset(server, 'heidi', code), 400, 'invalid_code');
    await login(server, 'heidi', PASSWORD);
  });

  it('answers a reset of an unknown name like a wrong code', async () => {
    await account('ivan');
    const code = await mailedCode('ivan');
    const unknown = await reset(server, 'nobody-here', code);
    expectError(unknown, 400, 'invalid_code');
    expect(unknown.body).to.deep.equal((await reset(server, 'ivan', wrongCode(code))).body);
  });

  it('sends no usable code to a disabled account', async () => {
    await account('judy');
    const code = await mailedCode('judy');
    const judy = await server.tessera.services.users.queries.findByUsername(server.tessera.services.tenantId, 'judy');
    await server.tessera.services.users.setDisabled(judy!, true);
    expectError(await reset(server, 'judy', code), 400, 'invalid_code');
  });
});

// SPEC §9: wrong tries from elsewhere cannot lock the owner out, and guessing stays bounded per account.
describe('password reset: lock-out by wrong tries from other addresses (SPEC §9)', () => {
  const RESEND_INTERVAL_MS = 60_000;
  const OWNER = '198.51.100.7';
  let mailbox: Mailbox;
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    mailbox = await Mailbox.start();
    // Behind a trusted proxy (loopback) X-Forwarded-For names the client, so one test speaks from many addresses.
    server = await startServer({ SMTP_URL: mailbox.url, RATE_LIMITS: 'off', TRUST_PROXY: 'loopback' }, 'sqlite', { clock: clock.now });
  });
  after(async () => {
    await server.close();
    await mailbox.close();
  });

  const from = (address: string) => ({ 'X-Forwarded-For': address });
  const resetFrom = (address: string, username: string, code: string) =>
    server.request.post('/password/reset').set(from(address)).send({ username, code, new_password: NEW_PASSWORD });
  /** A minute on (past the resend interval), asks for a code from `address` and returns it. */
  async function freshCode(username: string, address: string): Promise<string> {
    clock.advance(RESEND_INTERVAL_MS);
    expect((await server.request.post('/password/forgot').set(from(address)).send({ username })).status).to.equal(202);
    return codeIn(await mailbox.next(emailOf(username)));
  }
  async function account(username: string): Promise<void> {
    const res = await server.request.post('/signup').send({ username, password: PASSWORD, email: emailOf(username) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  }

  it("lets the owner reset from their address after 60 wrong tries from another, each asking for a new code", async () => {
    await account('mallory-target');
    for (let round = 0; round < 12; round += 1) {
      const mailed = await freshCode('mallory-target', '203.0.113.66');
      for (let attempt = 0; attempt < 5; attempt += 1) expectError(await resetFrom('203.0.113.66', 'mallory-target', wrongCode(mailed)), 400, 'invalid_code');
    }
    const code = await freshCode('mallory-target', OWNER);
    expect((await resetFrom(OWNER, 'mallory-target', code)).status).to.equal(204);
    await login(server, 'mallory-target', NEW_PASSWORD);
  });

  it('counts the addresses of one IPv6 /64 (by its /56) as one client: ten tries between them, then even the right code is refused there', async () => {
    await account('v6-target');
    const attacker = (i: number) => `2001:db8:66:1::${i + 1}`;
    let mailed = '';
    for (let i = 0; i < 10; i += 1) {
      if (i % 4 === 0) mailed = await freshCode('v6-target', attacker(i));
      expectError(await resetFrom(attacker(i), 'v6-target', wrongCode(mailed)), 400, 'invalid_code');
    }
    const code = await freshCode('v6-target', OWNER);
    expectError(await resetFrom(attacker(10), 'v6-target', code), 400, 'invalid_code');
    expect((await resetFrom(OWNER, 'v6-target', code)).status).to.equal(204);
  });

  it('stops a guess spread over many addresses at 50 tries a day per account, the right code too, and takes codes again a day later', async () => {
    await account('distributed-target');
    for (let address = 0; address < 10; address += 1) {
      const mailed = await freshCode('distributed-target', `192.0.2.${address + 1}`);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        expectError(await resetFrom(`192.0.2.${address + 1}`, 'distributed-target', wrongCode(mailed)), 400, 'invalid_code');
      }
    }
    const code = await freshCode('distributed-target', OWNER);
    expectError(await resetFrom(OWNER, 'distributed-target', code), 400, 'invalid_code');
    clock.advance(24 * 3_600_000);
    expect((await resetFrom(OWNER, 'distributed-target', await freshCode('distributed-target', OWNER))).status).to.equal(204);
  });

  it('kills a code after five wrong tries, whichever addresses they come from; a fresh code works', async () => {
    await account('five-target');
    const code = await freshCode('five-target', OWNER);
    for (let attempt = 0; attempt < 5; attempt += 1) expectError(await resetFrom(`192.0.2.${100 + attempt}`, 'five-target', wrongCode(code)), 400, 'invalid_code');
    expectError(await resetFrom(OWNER, 'five-target', code), 400, 'invalid_code');
    expect((await resetFrom(OWNER, 'five-target', await freshCode('five-target', OWNER))).status).to.equal(204);
  });
});

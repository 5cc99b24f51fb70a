import { expect } from 'chai';
import { createLogger } from '../../src/logger';
import { codeIn, Mailbox, mfaGrant, mfaToken, otpAt, secretOf, TestClock } from '../accounts/account-security-support';
import { startServer } from '../support/server';
import { bearer, login, newUser, PASSWORD as USER_PASSWORD, type Tokens } from '../support/users';

const ADMIN_PASSWORD = 'admin-secret-in-env';
const PASSWORD = 'first-secret-password';
const NEW_PASSWORD = 'second-secret-password';
const WRONG_PASSWORD = 'guessed-secret-password';
const STEP_MS = 30_000; // RFC 6238 time step

/** The value of the refresh cookie a response sets. */
function refreshCookie(setCookie: string[] | string | undefined): string {
  const cookie = ([] as string[]).concat(setCookie ?? []).find((line) => line.startsWith('tessera_rt='));
  expect(cookie, 'the refresh cookie').to.be.a('string');
  return cookie!.slice('tessera_rt='.length).split(';')[0]!;
}

describe('log redaction', () => {
  const lines: string[] = [];
  const secrets: Record<string, string> = {
    ADMIN_PASSWORD,
    'the signup password': PASSWORD,
    'the new password': NEW_PASSWORD,
    'a wrong password': WRONG_PASSWORD,
  };
  let log = '';

  // One whole account's life with every log line kept: signup, logins, refreshes
  // (body and cookie), a bearer request, a token in the URL, a password change, logout.
  before(async () => {
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const server = await startServer({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD, RATE_LIMITS: 'off' }, 'sqlite', { logger });
    try {
      const token = (body: Record<string, string>, headers: Record<string, string> = {}) =>
        server.request.post('/token').type('form').set(headers).send(body);
      expect((await server.request.post('/signup').send({ username: 'alice', password: PASSWORD })).status).to.equal(201);
      expect((await token({ grant_type: 'password', username: 'alice', password: WRONG_PASSWORD })).status).to.equal(400);

      const first = (await token({ grant_type: 'password', username: 'alice', password: PASSWORD }).expect(200)).body as Tokens;
      const second = (await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(200)).body as Tokens;
      Object.assign(secrets, {
        'the first access token': first.access_token,
        'the first refresh token': first.refresh_token,
        'the refreshed access token': second.access_token,
        'the rotated refresh token': second.refresh_token,
      });

      const browser = await token({ grant_type: 'password', username: 'alice', password: PASSWORD, refresh_in_cookie: 'true' }).expect(200);
      secrets['the refresh cookie'] = refreshCookie(browser.headers['set-cookie']);
      const rotated = await token({ grant_type: 'refresh_token' }, { Cookie: `tessera_rt=${secrets['the refresh cookie']}`, Origin: server.url }).expect(200);
      secrets['the rotated refresh cookie'] = refreshCookie(rotated.headers['set-cookie']);

      const access = second.access_token;
      secrets['the Authorization header'] = bearer(access).Authorization;
      secrets['an access token signature alone'] = access.split('.')[2]!;
      expect((await server.request.get('/me').set(bearer(access))).status).to.equal(200);
      await server.request.get(`/me?token=${access}&view=full`);
      await server.request.get(`/me?%74oken=${access}&view=full`); // the name percent-encoded, as a server decodes it
      const change = await server.request.post('/me/password').set(bearer(access)).send({ current_password: PASSWORD, new_password: NEW_PASSWORD });
      expect(change.status).to.equal(204);
      expect((await server.request.post('/logout').set(bearer(access))).status).to.equal(204);
    } finally {
      // Closing waits for every response to finish, so every request line has been written.
      await server.close();
    }
    log = lines.join('');
  });

  it('writes one JSON object per line, with a line per request', () => {
    const entries = log.trim().split('\n').map((line) => JSON.parse(line) as { url?: string; msg?: string });
    const urls = entries.map((entry) => entry.url);
    expect(urls).to.include.members(['/signup', '/token', '/me', '/me/password', '/logout']);
    expect(entries.some((entry) => /admin/i.test(entry.msg ?? ''))).to.equal(true, 'the admin bootstrap is logged');
  });

  const names = [
    'ADMIN_PASSWORD',
    'the signup password',
    'the new password',
    'a wrong password',
    'the first access token',
    'the first refresh token',
    'the refreshed access token',
    'the rotated refresh token',
    'the refresh cookie',
    'the rotated refresh cookie',
    'the Authorization header',
    'an access token signature alone',
  ];
  for (const name of names) {
    it(`never logs ${name}`, () => {
      expect(secrets[name], `the test captured ${name}`).to.be.a('string').and.not.be.empty;
      expect(log.includes(secrets[name]!), `${name} appears in the log`).to.equal(false);
    });
  }

  it('logs a ?token= query parameter as [REDACTED] and keeps the rest of the URL', () => {
    expect(log).to.include('/me?token=[REDACTED]&view=full');
    expect(log).to.include('/me?%74oken=[REDACTED]&view=full');
  });
});

describe('log redaction: e-mail codes, password reset and two-factor sign-in', () => {
  const lines: string[] = [];
  // Long random secrets: none may appear anywhere in the log.
  const secrets: Record<string, string> = {};
  // Six-digit codes: none may appear in any text the log holds (ids and timings, which are not text a request controls, aside).
  const codes: Record<string, string> = {};
  let entries: Array<Record<string, unknown>> = [];

  before(async () => {
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const mailbox = await Mailbox.start();
    const clock = new TestClock();
    clock.freeze(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
    const server = await startServer({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: mailbox.url, RATE_LIMITS: 'off' }, 'sqlite', { logger, clock: clock.now });
    try {
      const email = 'carol@example.test';
      expect((await server.request.post('/signup').send({ username: 'carol', password: USER_PASSWORD, email })).status).to.equal(201);
      codes['the verification code'] = codeIn(await mailbox.next(email));
      expect((await server.request.post('/signup/verify').send({ username: 'carol', code: codes['the verification code'] })).status).to.equal(204);

      const me = bearer((await login(server, 'carol')).access_token);
      const enrol = await server.request.post('/me/2fa').set(me).send({ password: USER_PASSWORD }).expect(201);
      const totpSecret = secretOf(enrol.body.otpauth_uri as string);
      secrets['the TOTP secret'] = enrol.body.secret as string;
      secrets['the otpauth URI'] = enrol.body.otpauth_uri as string;
      (enrol.body.recovery_codes as string[]).forEach((code, i) => {
        secrets[`recovery code ${i + 1}`] = code;
        secrets[`recovery code ${i + 1} without dashes`] = code.replace(/-/g, '');
      });
      codes['the confirming one-time password'] = otpAt(totpSecret, clock.now());
      await server.request.post('/me/2fa/confirm').set(me).send({ otp: codes['the confirming one-time password'] }).expect(204);

      secrets['an mfa_token'] = await mfaToken(server, 'carol', USER_PASSWORD);
      clock.advance(STEP_MS);
      codes['a sign-in one-time password'] = otpAt(totpSecret, clock.now());
      expect((await mfaGrant(server, secrets['an mfa_token'], codes['a sign-in one-time password'])).status).to.equal(200);
      secrets['an mfa_token completed with a recovery code'] = await mfaToken(server, 'carol', USER_PASSWORD);
      expect((await mfaGrant(server, secrets['an mfa_token completed with a recovery code'], secrets['recovery code 1']!)).status).to.equal(200);
      await server.request.delete('/me/2fa').set(me).send({ otp: secrets['recovery code 2'] }).expect(204);

      await server.request.post('/password/forgot').send({ username: 'carol' }).expect(202);
      codes['the reset code'] = codeIn(await mailbox.next(email));
      secrets['the password set by the reset'] = 'a password set by a reset';
      await server.request.post('/password/reset').send({ username: 'carol', code: codes['the reset code'], new_password: secrets['the password set by the reset'] }).expect(204);

      secrets['a password in a query string'] = 'query-string-password';
      secrets['a client secret in a query string'] = 'query-string-client-secret';
      secrets['an mfa_token in a query string'] = 'query-string-mfa-token';
      codes['a one-time password in a query string'] = '493817';
      await server.request.post(
        `/token?grant_type=password&password=${secrets['a password in a query string']}&client_secret=${secrets['a client secret in a query string']}` +
          `&mfa_token=${secrets['an mfa_token in a query string']}&otp=${codes['a one-time password in a query string']}`,
      );
    } finally {
      await server.close();
      await mailbox.close();
    }
    entries = lines.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  });

  const NOT_REQUEST_TEXT = new Set(['time', 'request_id', 'user_id', 'connection_id', 'duration_ms']);
  /** Every string a log entry holds, however deep, but for the fields tessera makes itself. */
  const texts = (value: unknown, key = ''): string[] => {
    if (NOT_REQUEST_TEXT.has(key)) return [];
    if (typeof value === 'string') return [value];
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([name, inner]) => texts(inner, name));
  };

  it('logs the requests of the flow', () => {
    expect(entries.map((entry) => entry.url)).to.include.members(['/signup/verify', '/me/2fa', '/me/2fa/confirm', '/password/forgot', '/password/reset']);
  });

  for (const name of [
    'the TOTP secret', 'the otpauth URI', 'recovery code 1', 'recovery code 1 without dashes', 'recovery code 2', 'recovery code 2 without dashes', 'recovery code 10',
    'an mfa_token', 'an mfa_token completed with a recovery code', 'the password set by the reset',
    'a password in a query string', 'a client secret in a query string', 'an mfa_token in a query string',
  ]) {
    it(`never logs ${name}`, () => {
      expect(secrets[name], `the test captured ${name}`).to.be.a('string').and.not.be.empty;
      expect(lines.join('').includes(secrets[name]!), `${name} appears in the log`).to.equal(false);
    });
  }

  for (const name of ['the verification code', 'the confirming one-time password', 'a sign-in one-time password', 'the reset code', 'a one-time password in a query string']) {
    it(`never logs ${name}`, () => {
      expect(codes[name], `the test captured ${name}`).to.match(/^\d{6}$/);
      expect(entries.flatMap((entry) => texts(entry)).filter((text) => text.includes(codes[name]!)), `${name} appears in the log`).to.deep.equal([]);
    });
  }

  it('logs the query string with each credential-bearing parameter as [REDACTED]', () => {
    expect(entries.map((entry) => entry.url)).to.include('/token?grant_type=password&password=[REDACTED]&client_secret=[REDACTED]&mfa_token=[REDACTED]&otp=[REDACTED]');
  });
});

describe('log redaction: a failing statement', () => {
  it("logs the statement's SQL without its bound values", async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const server = await startServer({ RATE_LIMITS: 'off' }, 'sqlite', { logger });
    const secret = 'sk_live_bound-value-that-must-not-be-logged';
    try {
      const { access_token: access } = await newUser(server, 'dave').then((user) => user.tokens);
      // The table gone under a running server: the INSERT fails inside the database, after knex has bound the title.
      await server.tessera.services.db.schema.renameTable('tasks', 'tasks_elsewhere');
      const res = await server.request.post('/tasks').set(bearer(access)).send({ title: secret });
      expect(res.status).to.equal(500);
      expect(res.body).to.include({ error: 'server_error' });
    } finally {
      await server.close();
    }
    const failures = lines.filter((line) => line.includes('request failed'));
    expect(failures, 'the failure is logged').to.have.lengthOf(1);
    expect(failures[0], 'the statement is logged').to.match(/insert into .tasks./i);
    expect(lines.join('').includes(secret), 'the bound title appears in the log').to.equal(false);
  });
});

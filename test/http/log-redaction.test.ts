import { expect } from 'chai';
import { createLogger } from '../../src/logger';
import { startServer } from '../support/server';
import { bearer, type Tokens } from '../support/users';

const ADMIN_PASSWORD = 'admin-secret-in-env';
const PASSWORD = 'first-secret-password';
const NEW_PASSWORD = 'second-secret-password';
const WRONG_PASSWORD = 'guessed-secret-password';

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
  });
});

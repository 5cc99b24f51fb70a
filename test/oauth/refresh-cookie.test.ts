import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { refreshTokenRows, sessionIdOf, tokenRequest } from '../support/oauth';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, PASSWORD, signup } from '../support/users';

const ISSUER = 'http://tessera.example.test';
const APP_ORIGIN = 'http://app.example.test';
const COOKIE = 'tessera_rt';

interface SetCookie {
  readonly value: string;
  /** Attributes, lower-cased (RFC 6265 compares them case-insensitively): `httponly`, `samesite=strict`… */
  readonly attributes: string[];
}

/** The `tessera_rt` cookie a response sets. */
function refreshCookie(res: Response): SetCookie {
  const header = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith(`${COOKIE}=`));
  expect(header, 'Set-Cookie tessera_rt').to.be.a('string');
  const [pair, ...attributes] = header!.split(';').map((part) => part.trim());
  return {
    value: decodeURIComponent(pair!.slice(COOKIE.length + 1)),
    attributes: attributes.map((attribute) => attribute.toLowerCase()),
  };
}

/** A password grant asking for the refresh token in a cookie; asserts it is set there and not in the body. */
async function cookieLogin(server: TestServer): Promise<{ accessToken: string; cookie: SetCookie }> {
  const res = await tokenRequest(server, { grant_type: 'password', username: 'alice', password: PASSWORD, refresh_in_cookie: 'true' });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  expect(res.body).to.have.property('access_token');
  expect(res.body).to.not.have.property('refresh_token');
  return { accessToken: res.body.access_token as string, cookie: refreshCookie(res) };
}

/** A refresh with no refresh_token parameter, only the cookie, from `origin` (none when undefined). */
function cookieRefresh(server: TestServer, cookie: string, origin?: string) {
  const req = server.request.post('/token').set('Cookie', `${COOKIE}=${cookie}`);
  if (origin !== undefined) req.set('Origin', origin);
  return req.type('form').send({ grant_type: 'refresh_token' });
}

function expectCookieAttributes(cookie: SetCookie, secure: boolean): void {
  expect(cookie.attributes).to.include.members(['httponly', 'samesite=strict', 'path=/']);
  if (secure) expect(cookie.attributes).to.include('secure');
  else expect(cookie.attributes).to.not.include('secure');
}

onEachDatabase('refresh token in a cookie (SPEC §3.5)', (database) => {
  let server: TestServer;
  before(async () => {
    // No grace: a refused request that consumed the token would make the next use reuse.
    server = await startServer({ ISSUER, CORS_ORIGINS: APP_ORIGIN, REFRESH_REUSE_GRACE: '0' }, database);
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('sets the refresh token as an HttpOnly, SameSite=Strict, Path=/ cookie without Secure on an http issuer', async () => {
    const { cookie } = await cookieLogin(server);
    expect(cookie.value).to.match(/^[A-Za-z0-9_-]{43}$/);
    expectCookieAttributes(cookie, false);
  });

  it('refreshes from the cookie when the Origin is the issuer origin, setting a new cookie', async () => {
    const { cookie } = await cookieLogin(server);
    const res = await cookieRefresh(server, cookie.value, ISSUER);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.not.have.property('refresh_token');
    const next = refreshCookie(res);
    expect(next.value).to.not.equal(cookie.value);
    expectCookieAttributes(next, false);
    expect((await server.request.get('/me').set(bearer(res.body.access_token))).status).to.equal(200);
    expect((await cookieRefresh(server, next.value, ISSUER)).status).to.equal(200);
  });

  it('refreshes from the cookie when the Origin is in CORS_ORIGINS', async () => {
    const { cookie } = await cookieLogin(server);
    const res = await cookieRefresh(server, cookie.value, APP_ORIGIN);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(refreshCookie(res).value).to.not.equal(cookie.value);
    expect(res.headers['access-control-allow-origin']).to.equal(APP_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).to.equal('true');
  });

  const refused: Array<[string, string | undefined]> = [
    ['without an Origin', undefined],
    ['from a foreign Origin', 'http://evil.example.test'],
    ['from an opaque Origin', 'null'],
    ['from the issuer host on another scheme', 'https://tessera.example.test'],
  ];
  for (const [when, origin] of refused) {
    it(`refuses the cookie ${when} with invalid_request and does not rotate the session`, async () => {
      const { accessToken, cookie } = await cookieLogin(server);
      const res = await cookieRefresh(server, cookie.value, origin);
      expectError(res, 400, 'invalid_request');
      expect(res.headers['set-cookie']).to.equal(undefined);
      const rows = await refreshTokenRows(server, sessionIdOf(accessToken));
      expect(rows.map((row) => row.rotated_at)).to.deep.equal([null]);
      expect((await cookieRefresh(server, cookie.value, ISSUER)).status).to.equal(200);
    });
  }

  describe('login CSRF (SPEC §9): the cookie is set only for this site or an allowed Origin', () => {
    const cookieLoginFrom = (origin: string) =>
      server.request.post('/token').set('Origin', origin).type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD, refresh_in_cookie: 'true' });
    const sessionCount = async () => Number((await server.tessera.services.db('sessions').count({ n: '*' }).first())?.n);

    for (const origin of [ISSUER, APP_ORIGIN]) {
      it(`sets the cookie for a login from ${origin}`, async () => {
        const res = await cookieLoginFrom(origin);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(refreshCookie(res).value).to.match(/^[A-Za-z0-9_-]{43}$/);
      });
    }

    for (const origin of ['http://evil.example.test', 'null']) {
      it(`refuses a cookie login from ${origin} with 403, no cookie and no new session`, async () => {
        const before = await sessionCount();
        const res = await cookieLoginFrom(origin);
        expectError(res, 403, 'forbidden');
        expect(res.headers['set-cookie']).to.equal(undefined);
        expect(await sessionCount()).to.equal(before);
      });
    }

    it('refuses a cross-site refresh that asks for the cookie, without rotating the token', async () => {
      const login = await tokenRequest(server, { grant_type: 'password', username: 'alice', password: PASSWORD });
      const res = await server.request
        .post('/token')
        .set('Origin', 'http://evil.example.test')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string, refresh_in_cookie: 'true' });
      expectError(res, 403, 'forbidden');
      expect(res.headers['set-cookie']).to.equal(undefined);
      const rows = await refreshTokenRows(server, sessionIdOf(login.body.access_token as string));
      expect(rows.map((row) => row.rotated_at)).to.deep.equal([null]);
    });

    it('still returns the refresh token in the body to a cross-site request that does not ask for the cookie', async () => {
      const res = await server.request.post('/token').set('Origin', 'http://evil.example.test').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.have.property('refresh_token');
      expect(res.headers['set-cookie']).to.equal(undefined);
    });
  });

  it('clears the cookie on POST /logout, and the session is over', async () => {
    const { accessToken, cookie } = await cookieLogin(server);
    const res = await server.request.post('/logout').set(bearer(accessToken)).set('Cookie', `${COOKIE}=${cookie.value}`);
    expect(res.status).to.equal(204);
    const cleared = refreshCookie(res);
    expect(cleared.value).to.equal('');
    expect(cleared.attributes).to.include.members(['path=/', 'expires=thu, 01 jan 1970 00:00:00 gmt']);
    expectError(await cookieRefresh(server, cookie.value, ISSUER), 400, 'invalid_grant');
  });
});

describe('refresh token cookie behind an https issuer', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ ISSUER: 'https://tessera.example.test' });
    await signup(server, 'alice');
  });
  after(() => server.close());

  it('marks the cookie Secure', async () => {
    expectCookieAttributes((await cookieLogin(server)).cookie, true);
  });
});

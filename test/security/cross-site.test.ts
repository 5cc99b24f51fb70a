import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { bearer, newUser, PASSWORD, type Tokens } from '../support/users';
import { call, expectErrorShape, upgrade, type Answer } from './support';

const APP = 'https://app.example';
const EVIL = 'https://evil.example';

/** The tessera_rt value a response sets, or undefined. */
const refreshCookieOf = (answer: Answer) =>
  ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((line) => line.startsWith('tessera_rt='))?.slice('tessera_rt='.length).split(';')[0];

/** A cookie refresh as a browser would send it from `origin` (undefined: a request with no Origin, e.g. a plain form post). */
const cookieRefresh = (server: TestServer, cookie: string, origin?: string) =>
  call(server, {
    method: 'POST',
    path: '/token',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `tessera_rt=${cookie}`, ...(origin === undefined ? {} : { Origin: origin }) },
    body: 'grant_type=refresh_token',
  });

function expectRefusal(answer: Answer, status: number, error: string): void {
  expect(answer.status, answer.text).to.equal(status);
  expectErrorShape(answer, `${status} ${error}`);
  expect((answer.body as { error: string }).error).to.equal(error);
}

describe('attack: the refresh cookie sent cross-site', () => {
  let server: TestServer;
  let cookie: string;

  before(async () => {
    server = await startServer({ CORS_ORIGINS: APP });
    await newUser(server, 'alice');
    const answer = await call(server, {
      method: 'POST',
      path: '/token',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: PASSWORD, refresh_in_cookie: 'true' }).toString(),
    });
    expect(answer.status).to.equal(200);
    cookie = refreshCookieOf(answer)!;
    expect(cookie, 'the refresh cookie').to.be.a('string');
  });
  after(() => server.close());

  for (const [what, origin] of [['a foreign Origin', EVIL], ['no Origin at all', undefined], ['the opaque Origin "null"', 'null'], ['a look-alike of the allowed Origin', `${APP}.evil.example`]] as const) {
    it(`refuses a cookie refresh from ${what}, without consuming the cookie`, async () => {
      const answer = await cookieRefresh(server, cookie, origin);
      expectRefusal(answer, 400, 'invalid_request');
      expect(refreshCookieOf(answer)).to.equal(undefined);
      expect(answer.headers['access-control-allow-origin']).to.equal(undefined);
    });
  }

  it('still accepts the same cookie from an allowed Origin afterwards, and rotates it', async () => {
    const answer = await cookieRefresh(server, cookie, APP);
    expect(answer.status, answer.text).to.equal(200);
    expect((answer.body as Tokens).refresh_token).to.equal(undefined);
    expect(refreshCookieOf(answer)).to.be.a('string').and.not.equal(cookie);
    expect(answer.headers['access-control-allow-origin']).to.equal(APP);
  });
});

describe('attack: a stolen token on the socket', () => {
  let server: TestServer;
  let alice: Tokens;
  let bob: Tokens;

  before(async () => {
    server = await startServer({ WS_ORIGINS: APP });
    alice = (await newUser(server, 'alice')).tokens;
    bob = (await newUser(server, 'bob')).tokens;
  });
  after(() => server.close());

  it('accepts alice on /ws/alice from the allowed Origin (control)', async () => {
    expect((await upgrade(server, `/ws/alice?token=${alice.access_token}`, { Origin: APP })).status).to.equal(101);
  });

  for (const [what, headers] of [['another Origin', { Origin: EVIL }], ['no Origin', {}], ['an Origin differing only in scheme', { Origin: 'http://app.example' }]] as const) {
    it(`refuses a valid token from ${what} when WS_ORIGINS is set (403)`, async () => {
      expectRefusal(await upgrade(server, `/ws/alice?token=${alice.access_token}`, headers), 403, 'forbidden');
      expectRefusal(await upgrade(server, '/ws/alice', { ...headers, ...bearer(alice.access_token) }), 403, 'forbidden');
    });
  }

  it("refuses bob's token on /ws/alice (403), in the query, the header and a ticket", async () => {
    expectRefusal(await upgrade(server, `/ws/alice?token=${bob.access_token}`, { Origin: APP }), 403, 'forbidden');
    expectRefusal(await upgrade(server, '/ws/alice', { Origin: APP, ...bearer(bob.access_token) }), 403, 'forbidden');
    const ticket = await server.request.post('/ws/ticket').set(bearer(bob.access_token));
    expect(ticket.status).to.equal(201);
    expectRefusal(await upgrade(server, `/ws/alice?ticket=${ticket.body.ticket as string}`, { Origin: APP }), 403, 'forbidden');
  });

  it("refuses bob's token on /ws/ALICE and on /ws/alice%00 (no case or encoding trick)", async () => {
    expectRefusal(await upgrade(server, `/ws/ALICE?token=${bob.access_token}`, { Origin: APP }), 403, 'forbidden');
    const encoded = await upgrade(server, `/ws/alice%00?token=${bob.access_token}`, { Origin: APP });
    expect(encoded.status).to.be.oneOf([403, 404]);
    expectErrorShape(encoded, '/ws/alice%00');
  });
});

import { connect } from 'node:net';
import { expect } from 'chai';
import type { Response } from 'supertest';
import type { Environment } from '../../src/config';
import { expectError } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD } from '../support/users';

const APP = 'https://app.example';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const corsHeaders = (res: Response) => Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));

/** Sends bytes the HTTP client would refuse to send, and returns the raw answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Declares a suite around a server started with `env`. */
function withServer(title: string, env: Environment, suite: (server: () => TestServer) => void): void {
  describe(title, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(env);
    });
    after(() => server.close());
    suite(() => server);
  });
}

withServer('security headers', {}, (server) => {
  for (const path of ['/healthz', '/no-such-path']) {
    it(`sets helmet's headers on ${path}`, async () => {
      const res = await server().request.get(path);
      expect(res.headers).to.include({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(res.headers['strict-transport-security']).to.match(/max-age=\d+/);
      expect(res.headers['content-security-policy']).to.include("default-src 'self'");
      expect(res.headers).not.to.have.property('x-powered-by');
    });
  }
});

withServer(`CORS with CORS_ORIGINS=${APP}`, { CORS_ORIGINS: `${APP},https://other.example` }, (server) => {
  it('lets an allowed Origin read responses, errors included', async () => {
    for (const [path, status] of [['/healthz', 200], ['/me', 401]] as const) {
      const res = await server().request.get(path).set('Origin', APP);
      expect(res.status).to.equal(status);
      expect(res.headers['access-control-allow-origin']).to.equal(APP);
      expect(res.headers.vary).to.match(/\bOrigin\b/i);
    }
  });

  it('answers an allowed preflight with 204 and the allowed methods and headers', async () => {
    const res = await server()
      .request.options('/token')
      .set('Origin', APP)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(res.status).to.equal(204);
    expect(res.headers['access-control-allow-origin']).to.equal(APP);
    expect(res.headers['access-control-allow-methods']).to.include('POST');
    expect(res.headers['access-control-allow-headers']).to.match(/Authorization/i).and.match(/Content-Type/i);
  });

  it('gives a foreign Origin no CORS headers, on requests and on preflights', async () => {
    const plain = await server().request.get('/healthz').set('Origin', 'https://evil.example');
    expect(corsHeaders(plain)).to.deep.equal([]);
    const preflight = await server()
      .request.options('/token')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(corsHeaders(preflight)).to.deep.equal([]);
  });
});

withServer('CORS without CORS_ORIGINS', {}, (server) => {
  it('sends no CORS headers to any Origin', async () => {
    const plain = await server().request.get('/healthz').set('Origin', APP);
    const preflight = await server().request.options('/token').set('Origin', APP).set('Access-Control-Request-Method', 'POST');
    expect(corsHeaders(plain)).to.deep.equal([]);
    expect(corsHeaders(preflight)).to.deep.equal([]);
  });
});

withServer('X-Request-Id', {}, (server) => {
  const requestId = async (id?: string) => {
    const req = server().request.get('/healthz');
    return (await (id === undefined ? req : req.set('X-Request-Id', id))).headers['x-request-id'] as string;
  };

  it('gives every request a fresh id when the client sends none', async () => {
    const [first, second] = [await requestId(), await requestId()];
    expect(first).to.match(UUID);
    expect(second).to.match(UUID).and.not.equal(first);
  });

  it('echoes a short, plain id from the client', async () => {
    for (const id of ['abc-123', 'trace.42:span_7', 'x'.repeat(128)]) expect(await requestId(id)).to.equal(id);
  });

  for (const [what, id] of [
    ['too long', 'x'.repeat(129)],
    ['carrying percent-encoded CR/LF', 'abc%0d%0aSet-Cookie:%20x=1'],
    ['carrying spaces and quotes', 'a "quoted" id'],
    ['carrying markup', '<script>alert(1)</script>'],
  ]) {
    it(`replaces an id ${what}`, async () => {
      expect(await requestId(id)).to.match(UUID);
    });
  }

  for (const [what, separator] of [['a bare CR', '\r'], ['a bare LF', '\n']]) {
    it(`never echoes an id containing ${what} into a response header`, async () => {
      const answer = await rawRequest(
        server().port,
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: abc${separator}Set-Cookie: injected=1\r\nConnection: close\r\n\r\n`,
      );
      expect(answer).to.match(/^HTTP\/1\.1 \d{3} /);
      expect(answer).not.to.match(/injected/i);
      expect(answer).not.to.match(/^HTTP\/1\.1 5/);
    });
  }
});

const failedGrant = (server: TestServer, username: string, forwardedFor = '203.0.113.7') =>
  server.request
    .post('/token')
    .type('form')
    .set('X-Forwarded-For', forwardedFor)
    .send({ grant_type: 'password', username, password: 'not the password' });
const goodGrant = (server: TestServer, username: string) =>
  server.request.post('/token').type('form').send({ grant_type: 'password', username, password: PASSWORD });
const signupAs = (server: TestServer, username: string) => server.request.post('/signup').send({ username, password: PASSWORD });

function expectRateLimited(res: Response, windowSeconds: number): void {
  expectError(res, 429, 'rate_limited');
  expect(res.headers['retry-after']).to.match(/^\d+$/);
  expect(Number(res.headers['retry-after'])).to.be.within(1, windowSeconds);
}

const LOW_LIMITS = { RATE_LIMIT_LOGIN_FAILURES: '3', RATE_LIMIT_SIGNUP_PER_HOUR: '2' };

withServer('rate limits', LOW_LIMITS, (server) => {
  before(async () => {
    for (const username of ['alice', 'bob', 'carol']) {
      await server().tessera.services.users.create({ tenantId: 'default', username, password: PASSWORD });
    }
  });

  it('refuses the 4th failed login for one username from one IP, and then even the right password', async () => {
    // Letter case and a spoofed X-Forwarded-For (TRUST_PROXY is off) do not make a new counter.
    for (const [username, forwardedFor] of [['alice', '198.51.100.1'], ['Alice', '198.51.100.2'], ['ALICE', '198.51.100.3']] as const) {
      expectError(await failedGrant(server(), username, forwardedFor), 400, 'invalid_grant');
    }
    expectRateLimited(await failedGrant(server(), 'alice', '198.51.100.4'), 15 * 60);
    expectRateLimited(await goodGrant(server(), 'alice'), 15 * 60);
  });

  it('keeps counting failures per username: another user still gets invalid_grant', async () => {
    expectError(await failedGrant(server(), 'bob'), 400, 'invalid_grant');
    expect((await goodGrant(server(), 'bob')).status).to.equal(200);
  });

  it('does not count successful logins', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await goodGrant(server(), 'carol')).status).to.equal(200);
  });

  it('refuses the 3rd signup in an hour from one IP', async () => {
    for (const username of ['new1', 'new2']) expect((await signupAs(server(), username)).status).to.equal(201);
    expectRateLimited(await signupAs(server(), 'new3'), 60 * 60);
  });
});

withServer('the /token limit per IP', { RATE_LIMIT_TOKEN_PER_MINUTE: '2' }, (server) => {
  it('refuses the 3rd token request in a minute, whatever the grant', async () => {
    await server().tessera.services.users.create({ tenantId: 'default', username: 'dora', password: PASSWORD });
    expect((await goodGrant(server(), 'dora')).status).to.equal(200);
    expect((await server().request.post('/token').type('form').send({ grant_type: 'nope' })).status).to.equal(400);
    expectRateLimited(await goodGrant(server(), 'dora'), 60);
  });
});

withServer('RATE_LIMITS=off', { ...LOW_LIMITS, RATE_LIMITS: 'off' }, (server) => {
  it('lets failed logins and signups through past every limit', async () => {
    await server().tessera.services.users.create({ tenantId: 'default', username: 'alice', password: PASSWORD });
    for (let attempt = 0; attempt < 6; attempt += 1) expectError(await failedGrant(server(), 'alice'), 400, 'invalid_grant');
    expect((await goodGrant(server(), 'alice')).status).to.equal(200);
    for (const username of ['new1', 'new2', 'new3', 'new4']) expect((await signupAs(server(), username)).status).to.equal(201);
  });
});

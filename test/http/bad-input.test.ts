import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { basicAuth, createClient, secretOf } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD } from '../support/users';

const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };
const OVER_64_KIB = 64 * 1024 + 1;

/** A 400 in the SPEC §2 shape; REST endpoints may say validation_failed, OAuth ones invalid_request. */
function expectBadRequest(res: Response): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.be.oneOf(['invalid_request', 'validation_failed']);
  expect(res.body.error_description).to.be.a('string').and.not.be.empty;
}

interface Endpoint {
  readonly path: string;
  readonly headers: () => Record<string, string>;
  /** The error code for a body that parses but is not valid. */
  readonly invalid: 'invalid_request' | 'validation_failed';
  /** A body lacking a required field (none for endpoints without one). */
  readonly missing?: object;
  readonly wrongType: object;
}

describe('bad input', () => {
  let server: TestServer;
  const auth: Record<'user' | 'logout' | 'admin' | 'client', Record<string, string>> = { user: {}, logout: {}, admin: {}, client: {} };

  before(async () => {
    server = await startServer({ ...ADMIN, RATE_LIMITS: 'off' });
    auth.user = bearer((await newUser(server, 'alice')).tokens.access_token);
    auth.logout = bearer((await login(server, 'alice')).access_token);
    auth.admin = bearer((await login(server, 'root', ADMIN.ADMIN_PASSWORD, { scope: 'admin' })).access_token);
    const client = await createClient(server);
    auth.client = basicAuth(client.id, secretOf(client));
  });
  after(() => server.close());

  const none = () => ({});
  const endpoints: Endpoint[] = [
    {
      path: '/token',
      headers: none,
      invalid: 'invalid_request',
      missing: { grant_type: 'password', username: 'alice' },
      wrongType: { grant_type: 'password', username: ['alice'], password: PASSWORD },
    },
    { path: '/signup', headers: none, invalid: 'validation_failed', missing: { username: 'zed' }, wrongType: { username: 42, password: PASSWORD } },
    {
      path: '/me/password',
      headers: () => auth.user,
      invalid: 'validation_failed',
      missing: { current_password: PASSWORD },
      wrongType: { current_password: PASSWORD, new_password: 12345678 },
    },
    { path: '/logout', headers: () => auth.logout, invalid: 'validation_failed', wrongType: { all: 'maybe' } },
    { path: '/revoke', headers: none, invalid: 'invalid_request', missing: { token_type_hint: 'refresh_token' }, wrongType: { token: 5 } },
    {
      path: '/introspect',
      headers: () => auth.client,
      invalid: 'invalid_request',
      missing: { token_type_hint: 'access_token' },
      wrongType: { token: { value: 'x' } },
    },
    {
      path: '/admin/users',
      headers: () => auth.admin,
      invalid: 'validation_failed',
      missing: { username: 'zed' },
      wrongType: { username: 'zed', password: PASSWORD, roles: 'admin' },
    },
    { path: '/admin/clients', headers: () => auth.admin, invalid: 'validation_failed', missing: { scope: 'push' }, wrongType: { name: 'bot', confidential: 'yes' } },
  ];

  const post = (endpoint: Endpoint) => server.request.post(endpoint.path).set(endpoint.headers());
  const raw = (endpoint: Endpoint, type: string, body: string) => post(endpoint).set('Content-Type', type).send(body);

  for (const endpoint of endpoints) {
    describe(`POST ${endpoint.path}`, () => {
      if (endpoint.missing) {
        it('refuses a body missing a required field', async () => {
          expectError(await post(endpoint).send(endpoint.missing!), 400, endpoint.invalid);
        });
      }

      it('refuses a field of the wrong type', async () => {
        expectError(await post(endpoint).send(endpoint.wrongType), 400, endpoint.invalid);
      });

      it('refuses a body over 64 KiB with 413 payload_too_large', async () => {
        const res = await raw(endpoint, 'application/json', JSON.stringify({ padding: 'x'.repeat(OVER_64_KIB) }));
        expectError(res, 413, 'payload_too_large');
      });

      it('answers malformed JSON with 400', async () => {
        expectBadRequest(await raw(endpoint, 'application/json', '{"username": "alice", '));
      });

      it('answers a JSON array instead of an object with 400', async () => {
        expectBadRequest(await raw(endpoint, 'application/json', '[]'));
      });

      it('refuses a text/plain body with 415 unsupported_media_type', async () => {
        expectError(await raw(endpoint, 'text/plain', 'username=alice'), 415, 'unsupported_media_type');
      });
    });
  }

  describe('POST /token form parameters', () => {
    const form = (body: string) => server.request.post('/token').type('form').send(body);

    it('refuses a duplicated parameter with invalid_request (RFC 6749 §3.2)', async () => {
      expectError(await form(`grant_type=password&username=alice&username=bob&password=${encodeURIComponent(PASSWORD)}`), 400, 'invalid_request');
      expectError(await form('grant_type=password&grant_type=client_credentials&username=alice&password=x'), 400, 'invalid_request');
    });

    it('treats a parameter without a value as missing (RFC 6749 §3.2)', async () => {
      expectError(await form(`grant_type=password&username&password=${encodeURIComponent(PASSWORD)}`), 400, 'invalid_request');
    });

    it('does not read a bracketed name as the parameter itself', async () => {
      expectError(await form(`grant_type=password&username[]=alice&password=${encodeURIComponent(PASSWORD)}`), 400, 'invalid_request');
    });

    it('refuses a form body over 64 KiB with 413', async () => {
      expectError(await form(`grant_type=password&username=${'a'.repeat(OVER_64_KIB)}&password=x`), 413, 'payload_too_large');
    });

    it('refuses a missing grant_type with invalid_request', async () => {
      expectError(await form('username=alice&password=x'), 400, 'invalid_request');
    });

    it('refuses an unknown grant_type with unsupported_grant_type', async () => {
      for (const grantType of ['implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:example:nope']) {
        expectError(await form(`grant_type=${encodeURIComponent(grantType)}`), 400, 'unsupported_grant_type');
      }
    });

    it('refuses a JSON body with an unsupported charset with 415', async () => {
      const res = await server.request.post('/token').set('Content-Type', 'application/json; charset=latin1').send('{"grant_type":"password"}');
      expectError(res, 415, 'unsupported_media_type');
    });
  });

  describe('unknown paths', () => {
    for (const [method, path] of [['get', '/nope'], ['post', '/nope'], ['get', '/me/nope'], ['delete', '/token']] as const) {
      it(`answers ${method.toUpperCase()} ${path} with 404 not_found`, async () => {
        expectError(await server.request[method](path).set(auth.user), 404, 'not_found');
      });
    }
  });
});

import { expect } from 'chai';
import { detailFields, expectError } from '../support/expectations';
import { onEachDatabase, startServer, type TestServer } from '../support/server';
import { bearer, login, PASSWORD } from '../support/users';

const signupRequest = (server: TestServer, body: Record<string, unknown>) => server.request.post('/signup').send(body);

async function expectRefused(server: TestServer, body: Record<string, unknown>, field: string): Promise<void> {
  const res = await signupRequest(server, body);
  expectError(res, 400, 'validation_failed');
  expect(detailFields(res)).to.include(field);
}

onEachDatabase('signup', (database) => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
  });
  after(() => server.close());

  it('creates an account and answers 201 with just its id and username', async () => {
    const res = await signupRequest(server, { username: 'alice', password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.have.all.keys('id', 'username');
    expect(res.body.id).to.be.a('string').and.not.be.empty;
    expect(res.body.username).to.equal('alice');
    const tokens = await login(server, 'alice');
    const me = await server.request.get('/me').set(bearer(tokens.access_token));
    expect(me.body.id).to.equal(res.body.id);
  });

  it('accepts usernames of 3 and of 32 characters from [a-z0-9_.-]', async () => {
    for (const username of ['a_b', 'x.y-z_0123456789abcdefghijklmnop']) {
      const res = await signupRequest(server, { username, password: PASSWORD });
      expect(res.status, username).to.equal(201);
    }
  });

  it('refuses a username shorter than 3 characters', () => expectRefused(server, { username: 'ab', password: PASSWORD }, 'username'));

  it('refuses a username longer than 32 characters', () =>
    expectRefused(server, { username: 'a'.repeat(33), password: PASSWORD }, 'username'));

  for (const username of ['al ice', 'al!ce', 'bob@home', 'émile', 'a/b/c', 'tab\tname']) {
    it(`refuses the username ${JSON.stringify(username)} for its characters`, () =>
      expectRefused(server, { username, password: PASSWORD }, 'username'));
  }

  it('refuses a name taken in another letter case with 409 conflict', async () => {
    expect((await signupRequest(server, { username: 'Carol', password: PASSWORD })).status).to.equal(201);
    for (const username of ['carol', 'CAROL', 'Carol']) {
      expectError(await signupRequest(server, { username, password: 'another password' }), 409, 'conflict');
    }
    // The first account keeps its password: a refused signup changes nothing.
    await login(server, 'carol', PASSWORD);
  });

  it('lets exactly one of two concurrent signups of the same name in different cases win', async () => {
    const results = await Promise.all(['dave', 'DAVE'].map((username) => signupRequest(server, { username, password: PASSWORD })));
    expect(results.map((res) => res.status).sort()).to.deep.equal([201, 409]);
  });

  it('accepts passwords of 8 and of 256 characters', async () => {
    for (const [username, password] of [['eight', '12345678'], ['long', 'p'.repeat(256)]] as const) {
      expect((await signupRequest(server, { username, password })).status).to.equal(201);
      await login(server, username, password);
    }
  });

  it('refuses a password shorter than 8 characters', () => expectRefused(server, { username: 'shorty', password: '1234567' }, 'password'));

  it('refuses a password longer than 256 characters', () =>
    expectRefused(server, { username: 'longer', password: 'p'.repeat(257) }, 'password'));

  it('refuses a missing username or password', async () => {
    await expectRefused(server, { password: PASSWORD }, 'username');
    await expectRefused(server, { username: 'nopass' }, 'password');
  });

  it('refuses unknown fields rather than ignoring them, so roles cannot be self-granted', async () => {
    const res = await signupRequest(server, { username: 'mallory', password: PASSWORD, roles: ['admin'] });
    expectError(res, 400, 'validation_failed');
    expect(detailFields(res).join(' ')).to.include('roles');
    expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'mallory', password: PASSWORD }), 400, 'invalid_grant');
  });

  it('stores an optional email and shows it on /me', async () => {
    expect((await signupRequest(server, { username: 'erin', password: PASSWORD, email: 'erin@example.com' })).status).to.equal(201);
    const me = await server.request.get('/me').set(bearer((await login(server, 'erin')).access_token));
    expect(me.body.email).to.equal('erin@example.com');
  });

  it('leaves the email empty when none is given', async () => {
    expect((await signupRequest(server, { username: 'frank', password: PASSWORD })).status).to.equal(201);
    const me = await server.request.get('/me').set(bearer((await login(server, 'frank')).access_token));
    expect(me.body.email).to.equal(null);
  });

  for (const email of ['not-an-email', 'a@', '@example.com', 12]) {
    it(`refuses the email ${JSON.stringify(email)}`, () => expectRefused(server, { username: 'gina', password: PASSWORD, email }, 'email'));
  }
});

describe('signup when SIGNUP=closed', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ SIGNUP: 'closed' });
  });
  after(() => server.close());

  it('answers 403 and creates no account', async () => {
    const res = await signupRequest(server, { username: 'alice', password: PASSWORD });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.be.a('string').and.not.be.empty;
    expect(res.body.error_description).to.be.a('string').and.not.be.empty;
    const grant = await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expectError(grant, 400, 'invalid_grant');
  });
});

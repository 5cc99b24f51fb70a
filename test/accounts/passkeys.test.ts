import { expect } from 'chai';
import { MAX_PASSKEYS_PER_USER } from '../../src/accounts/passkeys';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import { detailFields, expectError, RFC3339_UTC } from '../support/expectations';
import { onEachDatabase, startSecondProcess, startServer, type TestServer } from '../support/server';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import { bearer, login, newUser } from '../support/users';
import { enrol, expectRefused, originOf, passkeyOptions, signInWith } from './passkey-support';

const LOGIN_FAILURES = 3;

onEachDatabase('passkeys: enrolment and management (issue 21)', (database) => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES) }, database);
  });
  after(() => server.close());

  const me = (token: string) => ({
    list: () => server.request.get('/me/passkeys').set(bearer(token)),
    register: (body: object) => server.request.post('/me/passkeys').set(bearer(token)).send(body),
    rename: (id: string, name: unknown) => server.request.patch(`/me/passkeys/${id}`).set(bearer(token)).send({ name }),
    remove: (id: string) => server.request.delete(`/me/passkeys/${id}`).set(bearer(token)),
  });

  it('answers registration options for a discoverable, user-verified credential of the issuer host, excluding the user\'s passkeys', async () => {
    const { id, tokens } = await newUser(server, 'alice');
    const first = await passkeyOptions(server, tokens.access_token);
    expect(first.status).to.equal(200);
    expect(first.headers['cache-control']).to.equal('no-store');
    expect(first.body.rp.id).to.equal('id.example.test');
    expect(first.body.rp.name).to.be.a('string').and.not.be.empty;
    expect(first.body.user.id).to.equal(Buffer.from(id).toString('base64url'));
    expect(first.body.user.name).to.equal('alice');
    expect(first.body.authenticatorSelection).to.include({ residentKey: 'required', userVerification: 'required' });
    expect(first.body.attestation).to.equal('none');
    expect(first.body.excludeCredentials).to.deep.equal([]);
    const { authenticator } = await enrol(server, tokens.access_token);
    const second = await passkeyOptions(server, tokens.access_token);
    expect(second.body.excludeCredentials).to.deep.equal([{ id: authenticator.id, type: 'public-key', transports: ['internal'] }]);
  });

  it('enrols, lists, renames and removes a passkey; a removed one signs in no more', async () => {
    const { id, tokens } = await newUser(server, 'bob');
    const options = await passkeyOptions(server, tokens.access_token);
    const authenticator = new SoftwareAuthenticator(originOf(server));
    const created = await me(tokens.access_token).register({ name: 'Laptop', response: authenticator.register(options.body) });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.headers.location).to.equal(`/me/passkeys/${created.body.id}`);
    expect(created.body).to.include({ name: 'Laptop', last_used_at: null, device_type: 'singleDevice', backed_up: false });
    expect(created.body.created_at).to.match(RFC3339_UTC);
    expect(Object.keys(created.body).sort()).to.deep.equal(['backed_up', 'created_at', 'device_type', 'id', 'last_used_at', 'name']);

    const signedIn = await signInWith(server, authenticator);
    expect(signedIn.user.id).to.equal(id);
    expect(signedIn.passkeyId).to.equal(created.body.id);
    const [listed] = (await me(tokens.access_token).list()).body;
    expect(listed.last_used_at).to.match(RFC3339_UTC);

    const renamed = await me(tokens.access_token).rename(created.body.id, '  Phone ');
    expect(renamed.status).to.equal(200);
    expect(renamed.body.name).to.equal('Phone');
    expectError(await me(tokens.access_token).rename(created.body.id, ''), 400, 'validation_failed');

    expect((await me(tokens.access_token).remove(created.body.id)).status).to.equal(204);
    expect((await me(tokens.access_token).list()).body).to.deep.equal([]);
    expectError(await me(tokens.access_token).remove(created.body.id), 404, 'not_found');
    await expectRefused(signInWith(server, authenticator));
    // Removing ends no session.
    expect((await server.request.get('/me').set(bearer(tokens.access_token))).status).to.equal(200);
  });

  it("keeps each user's passkeys their own: another user's id is 404", async () => {
    const { tokens: carol } = await newUser(server, 'carol');
    const { tokens: dave } = await newUser(server, 'dave');
    const { passkey } = await enrol(server, carol.access_token);
    expectError(await me(dave.access_token).rename(passkey.id, 'mine'), 404, 'not_found');
    expectError(await me(dave.access_token).remove(passkey.id), 404, 'not_found');
    expect((await me(carol.access_token).list()).body).to.have.length(1);
  });

  it('refuses a registration whose challenge was used, was issued to another user, or never issued; and a replayed credential', async () => {
    const { tokens: erin } = await newUser(server, 'erin');
    const { tokens: frank } = await newUser(server, 'frank');
    const options = (await passkeyOptions(server, erin.access_token)).body;
    const forErin = new SoftwareAuthenticator(originOf(server)).register(options);
    const refused = await me(frank.access_token).register({ response: forErin });
    expectError(refused, 400, 'validation_failed');
    expect(detailFields(refused)).to.deep.equal(['response']);
    expectError(await me(erin.access_token).register({ response: new SoftwareAuthenticator(originOf(server)).register({ ...options, challenge: 'bm90LWlzc3VlZA' }) }), 400, 'validation_failed');
    expect((await me(erin.access_token).register({ response: forErin })).status).to.equal(201);
    expectError(await me(erin.access_token).register({ response: forErin }), 400, 'validation_failed');
  });

  it('refuses a credential registered already, by this user or another: 409', async () => {
    const { tokens: kim } = await newUser(server, 'kim');
    const { tokens: lee } = await newUser(server, 'lee');
    const { authenticator } = await enrol(server, kim.access_token);
    for (const token of [kim.access_token, lee.access_token]) {
      const options = (await passkeyOptions(server, token)).body;
      expectError(await me(token).register({ response: authenticator.register(options) }), 409, 'conflict');
    }
    expect((await me(lee.access_token).list()).body).to.deep.equal([]);
  });

  it('holds at most 20 passkeys per user: the options for a 21st are 409', async () => {
    const { tokens } = await newUser(server, 'mallory');
    for (let i = 0; i < MAX_PASSKEYS_PER_USER; i += 1) await enrol(server, tokens.access_token);
    expectError(await passkeyOptions(server, tokens.access_token), 409, 'conflict');
  });

  it('keeps challenges in the database: options from one process, registration on another, still single use', async () => {
    const second = await startSecondProcess(server, { ISSUER: 'https://id.example.test' });
    try {
      const { tokens } = await newUser(server, 'judy');
      const options = (await passkeyOptions(server, tokens.access_token)).body;
      const response = new SoftwareAuthenticator(originOf(server)).register(options);
      expect((await second.request.post('/me/passkeys').set(bearer(tokens.access_token)).send({ response })).status).to.equal(201);
      expectError(await me(tokens.access_token).register({ response }), 400, 'validation_failed');
    } finally {
      await second.close();
    }
  });

  it('refuses a registration made for another origin or RP ID, or without user verification', async () => {
    const { tokens } = await newUser(server, 'grace');
    for (const tampering of [{ origin: 'https://evil.example.test' }, { rpId: 'evil.example.test' }, { unverified: true }]) {
      const options = (await passkeyOptions(server, tokens.access_token)).body;
      const res = await me(tokens.access_token).register({ response: new SoftwareAuthenticator(originOf(server)).register(options, tampering) });
      expectError(res, 400, 'validation_failed');
    }
    expect((await me(tokens.access_token).list()).body).to.deep.equal([]);
  });

  it('needs the account scope for every passkey route', async () => {
    await newUser(server, 'heidi');
    const narrow = await login(server, 'heidi', undefined, { scope: 'tasks:read' });
    expectError(await passkeyOptions(server, narrow.access_token), 403, 'insufficient_scope');
    expectError(await me(narrow.access_token).list(), 403, 'insufficient_scope');
    expectError(await me(narrow.access_token).register({}), 403, 'insufficient_scope');
    expectError(await me(narrow.access_token).rename('x', 'y'), 403, 'insufficient_scope');
    expectError(await me(narrow.access_token).remove('x'), 403, 'insufficient_scope');
  });

  it('answers a wrong password with 403 and counts it as a failed login: past the limit even the right one is 429', async () => {
    const { tokens } = await newUser(server, 'ivan');
    for (let i = 0; i < LOGIN_FAILURES; i += 1) expectError(await passkeyOptions(server, tokens.access_token, 'not the password'), 403, 'forbidden');
    expectError(await passkeyOptions(server, tokens.access_token), 429, 'rate_limited');
    expectError(await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'ivan', password: 'correct horse battery' }), 429, 'rate_limited');
  });
});

onEachDatabase('passkeys: signing in (issue 21)', (database) => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' }, database);
  });
  after(() => server.close());

  const ceremony = () => new PasskeySignInCeremony(server.tessera.services);

  it('offers discoverable options: no allowCredentials, user verification required, the issuer host as RP ID', async () => {
    const { challengeId, options } = await ceremony().authenticationOptions();
    expect(challengeId).to.be.a('string').and.not.equal(options.challenge);
    expect(options).to.include({ rpId: 'id.example.test', userVerification: 'required' });
    expect(options.allowCredentials ?? []).to.deep.equal([]);
  });

  it('refuses a replayed challenge, a challenge of another sign-in, and an unknown challenge id', async () => {
    const { tokens } = await newUser(server, 'alice');
    const { authenticator } = await enrol(server, tokens.access_token);
    const first = await ceremony().authenticationOptions();
    const response = (authenticator.assert(first.options));
    await ceremony().verifyAuthentication(response, first.challengeId);
    await expectRefused(ceremony().verifyAuthentication((authenticator.assert(first.options)), first.challengeId));

    const mine = await ceremony().authenticationOptions();
    const theirs = await ceremony().authenticationOptions();
    await expectRefused(ceremony().verifyAuthentication((authenticator.assert(theirs.options)), mine.challengeId));
    await expectRefused(ceremony().verifyAuthentication((authenticator.assert(mine.options)), 'no-such-challenge'));
  });

  it('refuses a counter that goes back (a cloned authenticator, WebAuthn §6.1.1), but accepts authenticators that keep no counter', async () => {
    const { tokens } = await newUser(server, 'bob');
    const { authenticator } = await enrol(server, tokens.access_token);
    await signInWith(server, authenticator);
    await signInWith(server, authenticator);
    const start = await ceremony().authenticationOptions();
    await expectRefused(ceremony().verifyAuthentication((authenticator.assert(start.options, { counter: 1 })), start.challengeId));

    const counterless = new SoftwareAuthenticator(originOf(server), { countsSignatures: false });
    await enrol(server, tokens.access_token, counterless);
    expect((await signInWith(server, counterless)).user.username).to.equal('bob');
    expect((await signInWith(server, counterless)).user.username).to.equal('bob');
  });

  it('refuses an assertion without user verification, from another origin, with a bad signature, or of a disabled user', async () => {
    const { id, tokens } = await newUser(server, 'carol');
    const { authenticator } = await enrol(server, tokens.access_token);
    for (const tampering of [{ unverified: true }, { origin: 'https://evil.example.test' }, { rpId: 'evil.example.test' }]) {
      const start = await ceremony().authenticationOptions();
      await expectRefused(ceremony().verifyAuthentication((authenticator.assert(start.options, tampering)), start.challengeId));
    }
    const start = await ceremony().authenticationOptions();
    const forged = authenticator.assert(start.options);
    forged.response.signature = new SoftwareAuthenticator(originOf(server)).assert(start.options).response.signature;
    await expectRefused(ceremony().verifyAuthentication(forged, start.challengeId));

    await server.tessera.services.users.setDisabled((await server.tessera.services.users.queries.findById('default', id))!, true);
    await expectRefused(signInWith(server, authenticator));
  });
});

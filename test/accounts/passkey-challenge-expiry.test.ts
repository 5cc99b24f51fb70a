import { CHALLENGE_TTL_MS } from '../../src/accounts/passkey-challenges';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import { expectError } from '../support/expectations';
import { startServer, type TestServer } from '../support/server';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import { bearer, newUser } from '../support/users';
import { TestClock } from './account-security-support';
import { enrol, expectRefused, originOf, passkeyOptions, signInWith } from './passkey-support';

describe('passkey challenges expire after five minutes (issue 21)', () => {
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' }, 'sqlite', { clock: clock.now });
  });
  after(() => server.close());

  it('refuses a registration answered after the challenge expired', async () => {
    const { tokens } = await newUser(server, 'alice');
    const options = (await passkeyOptions(server, tokens.access_token)).body;
    clock.advance(CHALLENGE_TTL_MS);
    const res = await server.request.post('/me/passkeys').set(bearer(tokens.access_token)).send({ response: new SoftwareAuthenticator(originOf(server)).register(options) });
    expectError(res, 400, 'validation_failed');
  });

  it('refuses a sign-in answered after the challenge expired, and accepts one just before', async () => {
    const { tokens } = await newUser(server, 'bob');
    const { authenticator } = await enrol(server, tokens.access_token);
    const ceremony = new PasskeySignInCeremony(server.tessera.services);
    const late = await ceremony.authenticationOptions();
    clock.advance(CHALLENGE_TTL_MS);
    await expectRefused(ceremony.verifyAuthentication(authenticator.assert(late.options), late.challengeId));
    const start = await ceremony.authenticationOptions();
    clock.advance(CHALLENGE_TTL_MS - 1_000);
    await ceremony.verifyAuthentication(authenticator.assert(start.options), start.challengeId);
    await signInWith(server, authenticator);
  });
});

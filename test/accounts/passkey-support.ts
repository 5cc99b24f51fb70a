import { expect } from 'chai';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import type { TestServer } from '../support/server';
import { bearer, PASSWORD } from '../support/users';

/** The origin passkeys of `server`'s tenant are made on: its issuer's. */
export const originOf = (server: TestServer) => new URL(server.tessera.services.config.issuer).origin;

export const passkeyOptions = (server: TestServer, token: string, password: string = PASSWORD) =>
  server.request.post('/me/passkeys/options').set(bearer(token)).send({ password });

/** Enrols `authenticator` for the token's user through the API; the 201's body. */
export async function enrol(server: TestServer, token: string, authenticator = new SoftwareAuthenticator(originOf(server)), name?: string) {
  const options = await passkeyOptions(server, token);
  expect(options.status, JSON.stringify(options.body)).to.equal(200);
  const res = await server.request.post('/me/passkeys').set(bearer(token)).send({ name, response: authenticator.register(options.body) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { authenticator, passkey: res.body as { id: string; name: string } };
}

/** A discoverable sign-in of `server`'s tenant with `authenticator`, as the login page will run it. */
export async function signInWith(server: TestServer, authenticator: SoftwareAuthenticator) {
  const ceremony = new PasskeySignInCeremony(server.tessera.services);
  const { challengeId, options } = await ceremony.authenticationOptions();
  return ceremony.verifyAuthentication(authenticator.assert(options), challengeId);
}

/** Asserts `attempt` is refused with the one passkey sign-in error. */
export async function expectRefused(attempt: Promise<unknown>): Promise<void> {
  const error = await attempt.then(
    () => expect.fail('the sign-in succeeded'),
    (e: unknown) => e,
  );
  expect(error).to.include({ status: 400, code: 'invalid_grant' });
}

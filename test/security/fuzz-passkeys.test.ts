import { expect } from 'chai';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';
import fc from 'fast-check';
import { PasskeySignInCeremony } from '../../src/accounts/passkey-sign-in';
import { ApiError } from '../../src/errors';
import { enrol, originOf, passkeyOptions } from '../accounts/passkey-support';
import { startServer, type TestServer } from '../support/server';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import { bearer, newUser } from '../support/users';
import { expectAlive, expectSpecAnswer, fuzzRuns, nastyJson, reportSeedOnFailure, type Answer } from './support';

const RUNS = 60;
const OPTIONAL_FIELDS = ['transports', 'clientExtensionResults'];

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** Bytes that parse as CBOR but hold the wrong things, or do not parse at all. */
const cborish: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map(b64url),
  fc.dictionary(fc.constantFrom('fmt', 'attStmt', 'authData', 'x'), fc.oneof(fc.string(), fc.integer(), fc.uint8Array({ maxLength: 80 }))).map((map) => b64url(encodeCBOR(new Map<string, CBORType>(Object.entries(map))))),
);
const clientData: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map(b64url),
  fc.record({ type: fc.constantFrom('webauthn.create', 'webauthn.get', 'x'), challenge: fc.oneof(fc.string(), fc.integer()), origin: fc.string() }, { requiredKeys: [] }).map((json) => Buffer.from(JSON.stringify(json)).toString('base64url')),
);
/** Swaps one field of a valid response for something malformed. */
function mutated(valid: { response: Record<string, unknown> } & Record<string, unknown>, field: string, value: unknown) {
  return field in valid ? { ...valid, [field]: value } : { ...valid, response: { ...valid.response, [field]: value } };
}

describe('passkeys under malformed input: 400 with the SPEC body, never a 500 (issue 21)', () => {
  let server: TestServer;
  let token: string;
  reportSeedOnFailure();

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' });
    token = (await newUser(server, 'alice')).tokens.access_token;
  });
  after(() => server.close());

  it('answers malformed registration responses with 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(fc.constantFrom('clientDataJSON'), clientData),
          fc.tuple(fc.constantFrom('attestationObject'), cborish),
          fc.tuple(fc.constantFrom('id', 'rawId', 'type', 'response', 'transports', 'clientExtensionResults'), nastyJson),
        ),
        async ([field, value]) => {
          const options = (await passkeyOptions(server, token)).body;
          const valid = new SoftwareAuthenticator(originOf(server)).register(options);
          const res = await server.request.post('/me/passkeys').set(bearer(token)).send({ response: mutated(valid, field, value) });
          expectSpecAnswer({ status: res.status, headers: res.headers, text: res.text, body: res.body } as Answer, `${field}=${JSON.stringify(value)?.slice(0, 80)}`);
          // Optional fields may happen to be given a valid value: then the passkey is enrolled.
          expect(res.status).to.be.oneOf(OPTIONAL_FIELDS.includes(field) ? [201, 400] : [400]);
          if (res.status === 201) await server.request.delete(`/me/passkeys/${res.body.id}`).set(bearer(token)).expect(204);
        },
      ),
      fuzzRuns(RUNS),
    );
    await expectAlive(server);
  });

  it('refuses malformed assertions with invalid_grant, never another error', async () => {
    const { authenticator } = await enrol(server, token);
    const ceremony = new PasskeySignInCeremony(server.tessera.services);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(fc.constantFrom('clientDataJSON'), clientData),
          fc.tuple(fc.constantFrom('authenticatorData', 'signature', 'userHandle'), fc.uint8Array({ maxLength: 120 }).map(b64url)),
          fc.tuple(fc.constantFrom('id', 'rawId', 'type', 'response', 'authenticatorData', 'signature'), nastyJson),
        ),
        async ([field, value]) => {
          const { challengeId, options } = await ceremony.authenticationOptions();
          const error: unknown = await ceremony.verifyAuthentication(mutated(authenticator.assert(options), field, value), challengeId).then(() => undefined, (e: unknown) => e);
          expect(error).to.be.instanceOf(ApiError);
          expect(error).to.include({ status: 400, code: 'invalid_grant' });
        },
      ),
      fuzzRuns(RUNS),
    );
  });
});

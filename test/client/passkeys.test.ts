import { expect } from 'chai';
import { TesseraError } from '../../client/src/index';
import { originOf, signInWith } from '../accounts/passkey-support';
import { startServer, type TestServer } from '../support/server';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import { PASSWORD } from '../support/users';
import { clientOf } from './support';

describe('client: passkeys', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ ISSUER: 'https://id.example.test', RATE_LIMITS: 'off' });
  });
  after(() => server.close());

  it('enrols a passkey from options and the authenticator\'s answer, then lists, renames and removes it', async () => {
    const { client } = clientOf(server);
    await client.signup({ username: 'alice', password: PASSWORD });
    await client.login('alice', PASSWORD);
    const authenticator = new SoftwareAuthenticator(originOf(server));
    const options = await client.passkeys.options(PASSWORD);
    expect(options.rp.id).to.equal('id.example.test');
    const passkey = await client.passkeys.register(authenticator.register(options), 'Laptop');
    expect(passkey).to.include({ name: 'Laptop', last_used_at: null });
    expect((await client.passkeys.list()).map((p) => p.id)).to.deep.equal([passkey.id]);
    expect((await client.passkeys.rename(passkey.id, 'Phone')).name).to.equal('Phone');
    await signInWith(server, authenticator);
    await client.passkeys.remove(passkey.id);
    expect(await client.passkeys.list()).to.deep.equal([]);
  });

  it('rejects a wrong password with a TesseraError 403 forbidden', async () => {
    const { client } = clientOf(server);
    await client.signup({ username: 'bob', password: PASSWORD });
    await client.login('bob', PASSWORD);
    const error: unknown = await client.passkeys.options('not the password').then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TesseraError);
    expect(error).to.include({ status: 403, code: 'forbidden' });
  });
});

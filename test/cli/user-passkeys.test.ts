import { expect } from 'chai';
import type supertest from 'supertest';
import { SoftwareAuthenticator } from '../support/software-authenticator';
import { bearer, PASSWORD } from '../support/users';
import { passwordGrant, startWorkspaceWithServer, type CliWorkspace } from './cli-process';

// The workspace's server has the default ISSUER, http://localhost:$PORT with PORT 0.
const ORIGIN = 'http://localhost:0';

interface ListedPasskey {
  id: string;
  name: string;
}

describe('tessera user passkeys', () => {
  let cli: CliWorkspace;
  let server: ReturnType<typeof supertest>;
  before(async () => ({ cli, server } = await startWorkspaceWithServer()));
  after(() => cli?.close());

  /** Signs `username` up and enrols a passkey named `name` through the API; the user's access token. */
  async function userWithPasskey(username: string, name: string): Promise<string> {
    expect((await server.post('/signup').send({ username, password: PASSWORD })).status).to.equal(201);
    const token = (await passwordGrant(server, username, PASSWORD)).body.access_token as string;
    const options = await server.post('/me/passkeys/options').set(bearer(token)).send({ password: PASSWORD });
    const created = await server.post('/me/passkeys').set(bearer(token)).send({ name, response: new SoftwareAuthenticator(ORIGIN).register(options.body) });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return token;
  }
  const listed = async (username: string): Promise<ListedPasskey[]> => JSON.parse(await cli.ok(['user', 'passkeys', username, '--json'])) as ListedPasskey[];

  it("lists a user's passkeys as a table and as JSON", async () => {
    await userWithPasskey('alice', 'Work laptop');
    const table = await cli.ok(['user', 'passkeys', 'alice']);
    expect(table).to.match(/^ID\s+NAME\s+CREATED_AT\s+LAST_USED_AT\s+DEVICE_TYPE\s+BACKED_UP/);
    expect(table).to.include('Work laptop');
    expect((await listed('alice')).map((p) => p.name)).to.deep.equal(['Work laptop']);
  });

  it('removes one with --remove: gone from the list, the user still signed in', async () => {
    const token = await userWithPasskey('bob', 'Phone');
    const [passkey] = await listed('bob');
    expect(await cli.ok(['user', 'passkeys', 'bob', '--remove', passkey!.id])).to.include(`removed passkey ${passkey!.id} of bob`);
    expect(await listed('bob')).to.deep.equal([]);
    expect((await server.get('/me/passkeys').set(bearer(token))).body).to.deep.equal([]);
    expect((await server.get('/me').set(bearer(token))).status).to.equal(200);
  });

  it('fails with a clear line for an unknown user or passkey', async () => {
    const unknownUser = await cli.run(['user', 'passkeys', 'nobody']);
    expect(unknownUser.code).to.equal(1);
    expect(unknownUser.stderr).to.include('no user "nobody"');
    const unknownPasskey = await cli.run(['user', 'passkeys', 'alice', '--remove', 'no-such-passkey']);
    expect(unknownPasskey.code).to.equal(1);
    expect(unknownPasskey.stderr).to.include('alice has no passkey "no-such-passkey"');
  });
});

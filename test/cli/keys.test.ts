import { expect } from 'chai';
import { CliWorkspace } from './cli-process';

interface ListedKey {
  kid: string;
  alg: string;
  state: 'signing' | 'published';
  retired_at: string | null;
}

describe('tessera keys', () => {
  let cli: CliWorkspace;
  before(() => {
    cli = new CliWorkspace();
  });
  after(() => cli.close());

  const listed = async () => JSON.parse(await cli.ok(['keys', 'list', '--json'])) as ListedKey[];

  it('lists one ES256 and one RS256 signing key on a fresh database', async () => {
    const keys = await listed();
    expect(keys.map((k) => k.alg)).to.have.members(['ES256', 'RS256']);
    for (const key of keys) expect(key).to.include({ state: 'signing', retired_at: null });
  });

  it('rotates to new signing keys of both algorithms and keeps the old ones published', async () => {
    const old = await listed();
    const stdout = await cli.ok(['keys', 'rotate']);
    const kid = /new signing key (\S+);/.exec(stdout)?.[1];
    const keys = await listed();
    expect(keys).to.have.length(4);
    const signing = keys.filter((k) => k.state === 'signing');
    expect(signing.map((k) => k.alg)).to.have.members(['ES256', 'RS256']);
    expect(signing.find((k) => k.alg === 'ES256')?.kid).to.equal(kid);
    for (const { kid: oldKid } of old) {
      const retired = keys.find((k) => k.kid === oldKid);
      expect(retired?.state).to.equal('published');
      expect(retired?.retired_at).to.be.a('string');
    }
  });

  it('shows the same keys as a table without --json', async () => {
    const keys = await listed();
    const [header, ...rows] = (await cli.ok(['keys', 'list'])).trimEnd().split('\n');
    expect(header).to.match(/^KID\s+ALG\s+STATE\s+CREATED_AT\s+RETIRED_AT$/);
    expect(rows.map((row) => row.split(/\s+/)[0])).to.have.members(keys.map((k) => k.kid));
  });

  it('has a server on the same database sign with the new key and publish both', async () => {
    const keys = await listed();
    const server = await cli.startServer();
    const jwks = await server.get('/.well-known/jwks.json');
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).to.have.members(keys.map((k) => k.kid));
    await server.post('/signup').send({ username: 'alice', password: 'alice-password-1' }).expect(201);
    const token = await server.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'alice-password-1' });
    const header = JSON.parse(Buffer.from((token.body.access_token as string).split('.')[0]!, 'base64url').toString()) as { kid: string };
    expect(header.kid).to.equal(keys.find((k) => k.state === 'signing' && k.alg === 'ES256')?.kid);
  });

  it('rotates the id token keys with HS256, and says that JWT_SECRET still signs access tokens', async () => {
    const { code, stdout } = await cli.run(['keys', 'rotate'], { env: { JWT_ALG: 'HS256', JWT_SECRET: 's'.repeat(32) } });
    expect(code).to.equal(0);
    expect(stdout).to.include('JWT_SECRET');
    const kid = /new signing key (\S+);/.exec(stdout)?.[1];
    expect((await listed()).find((k) => k.kid === kid)).to.include({ alg: 'RS256', state: 'signing' });
  });
});

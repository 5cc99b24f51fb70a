import { expect } from 'chai';
import type supertest from 'supertest';
import { CliWorkspace, passwordGrant } from '../cli/cli-process';
import { eventually } from '../cluster/support';
import { decodeJwt } from '../support/oauth';

const ISSUER = 'http://tessera.cli.test';
// A running server notices a tenant removed by another process on its next poll (about a second).
const NOTICED_MS = 5_000;

interface ListedTenant {
  id: string;
  name: string;
  issuer: string;
  signup: string;
}

describe('tessera tenant', () => {
  let cli: CliWorkspace;
  let server: ReturnType<typeof supertest>;
  before(async () => {
    cli = new CliWorkspace();
    // The same issuer for the CLI and the server, which listens on a port of its own.
    cli.env.ISSUER = ISSUER;
    server = await cli.startServer();
  });
  after(() => cli.close());

  const listed = async (): Promise<ListedTenant[]> => JSON.parse(await cli.ok(['tenant', 'list', '--json'])) as ListedTenant[];

  it('prints its usage with add, list and remove for --help', async () => {
    const { code, stdout } = await cli.run(['tenant', '--help']);
    expect(code).to.equal(0);
    for (const action of ['add', 'list', 'remove']) expect(stdout).to.include(`tessera tenant ${action}`);
  });

  it('adds a tenant and prints it as JSON with --json: its issuer under /t/<id>', async () => {
    const added = JSON.parse(await cli.ok(['tenant', 'add', 'acme', '--name', 'Acme Corp', '--signup', 'closed', '--json'])) as ListedTenant;
    expect(added).to.include({ id: 'acme', name: 'Acme Corp', issuer: `${ISSUER}/t/acme`, signup: 'closed' });
    expect(await cli.ok(['tenant', 'add', 'beta'])).to.equal(`added tenant beta: issuer ${ISSUER}/t/beta, sign-up open\n`);
  });

  it('lists the tenants, the built-in one first, as JSON and as columns', async () => {
    const tenants = await listed();
    expect(tenants.map((tenant) => tenant.id)).to.deep.equal(['default', 'acme', 'beta']);
    expect(tenants[0]).to.include({ id: 'default', issuer: ISSUER, signup: 'open' });
    expect(await cli.ok(['tenant', 'list'])).to.match(/^ID\s+NAME\s+ISSUER\s+SIGNUP\s+CREATED_AT\n/).and.match(/^acme\s+Acme Corp\s+/m);
  });

  it('refuses a taken id (exit 1)', async () => {
    const taken = await cli.run(['tenant', 'add', 'acme']);
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.include('The tenant "acme" exists.');
  });

  it('refuses an id no tenant can have and a bad --signup (exit 2)', async () => {
    for (const args of [['tenant', 'add', 'Bad_Id'], ['tenant', 'add', 'gamma', '--signup', 'maybe']]) {
      const { code, stderr } = await cli.run(args);
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr).to.include('Usage:');
    }
    expect((await listed()).map((tenant) => tenant.id)).to.not.include('gamma');
  });

  it('adds the first admin of a tenant with user add --tenant: it logs in under /t/<id> only', async () => {
    expect((await cli.run(['user', 'add', 'alice', '--admin', '--tenant', 'acme'], { input: 'alice-password-1\n' })).code).to.equal(0);
    const token = await server.post('/t/acme/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'alice-password-1', scope: 'admin' });
    expect(token.status, JSON.stringify(token.body)).to.equal(200);
    expect(decodeJwt(token.body.access_token as string).claims.iss).to.equal(`${ISSUER}/t/acme`);
    expect((await passwordGrant(server, 'alice', 'alice-password-1')).status).to.equal(400);
  });

  it("lists a tenant's users with user list --tenant, and none of them without", async () => {
    const users = (tenant: string[]) => cli.ok(['user', 'list', '--json', ...tenant]).then((out) => (JSON.parse(out) as Array<{ username: string }>).map((u) => u.username));
    expect(await users(['--tenant', 'acme'])).to.deep.equal(['alice']);
    expect(await users([])).to.not.include('alice');
  });

  it("registers a tenant's client with client add --tenant, whose secret works under /t/<id> only", async () => {
    const client = JSON.parse(await cli.ok(['client', 'add', 'acme bot', '--scope', 'push', '--json', '--tenant', 'acme'])) as { client_id: string; client_secret: string };
    expect((await server.post('/t/acme/token').auth(client.client_id, client.client_secret).type('form').send({ grant_type: 'client_credentials' })).status).to.equal(200);
    expect((await server.post('/token').auth(client.client_id, client.client_secret).type('form').send({ grant_type: 'client_credentials' })).status).to.equal(401);
  });

  it("lists a tenant's own signing keys (ES256 and RS256) with keys list --tenant", async () => {
    const kids = async (tenant: string[]) => (JSON.parse(await cli.ok(['keys', 'list', '--json', ...tenant])) as Array<{ kid: string }>).map((key) => key.kid);
    const [acme, builtIn] = [await kids(['--tenant', 'acme']), await kids([])];
    expect(acme).to.have.length(2);
    expect(acme.filter((kid) => builtIn.includes(kid))).to.deep.equal([]);
  });

  it('refuses --tenant naming no tenant (exit 1)', async () => {
    const { code, stderr } = await cli.run(['user', 'list', '--tenant', 'nope']);
    expect(code).to.equal(1);
    expect(stderr).to.include('no tenant "nope"');
  });

  it('removes a tenant with everything in it, and the running server stops serving it', async () => {
    expect((await server.get('/t/acme/.well-known/jwks.json')).status).to.equal(200);
    expect(await cli.ok(['tenant', 'remove', 'acme'])).to.equal('removed tenant acme and everything in it\n');
    expect((await listed()).map((tenant) => tenant.id)).to.deep.equal(['default', 'beta']);
    await eventually('the server answers 404 for the removed tenant', NOTICED_MS, async () =>
      (await server.get('/t/acme/.well-known/jwks.json')).status === 404 ? true : undefined,
    );
  });

  it('refuses to remove the built-in tenant or one that does not exist (exit 1)', async () => {
    for (const [id, message] of [['default', 'The built-in tenant cannot be removed.'], ['nope', 'No such tenant.']]) {
      const { code, stderr } = await cli.run(['tenant', 'remove', id!]);
      expect(code, id).to.equal(1);
      expect(stderr).to.include(message);
    }
  });
});

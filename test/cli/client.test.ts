import { expect } from 'chai';
import type supertest from 'supertest';
import { startWorkspaceWithServer, type CliWorkspace } from './cli-process';

interface AddedClient {
  id: string;
  secret: string;
  stdout: string;
}

describe('tessera client', () => {
  let cli: CliWorkspace;
  let server: ReturnType<typeof supertest>;
  before(async () => ({ cli, server } = await startWorkspaceWithServer()));
  after(() => cli?.close());

  const add = async (name: string, ...options: string[]): Promise<AddedClient> => {
    const stdout = await cli.ok(['client', 'add', name, ...options]);
    const id = /^client_id:\s+(\S+)$/m.exec(stdout)?.[1];
    const secret = /^client_secret:\s+(\S+)$/m.exec(stdout)?.[1];
    if (!id || !secret) throw new Error(`no client_id and client_secret in: ${stdout}`);
    return { id, secret, stdout };
  };
  const clientCredentials = (id: string, secret: string, scope?: string) =>
    server
      .post('/token')
      .auth(id, secret)
      .type('form')
      .send({ grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) });
  const listed = async () => JSON.parse(await cli.ok(['client', 'list', '--json'])) as Array<Record<string, unknown>>;

  it('adds a confidential client, printing its id and secret once, and the secret gets client_credentials tokens', async () => {
    const bot = await add('bot', '--scope', 'push');
    expect(bot.stdout.match(/client_secret/g)).to.have.length(1);
    expect(bot.stdout).to.include('shown this once only');
    const res = await clientCredentials(bot.id, bot.secret, 'push');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ token_type: 'Bearer', scope: 'push' });
    expect(res.body).to.not.have.property('refresh_token');
  });

  it('adds a client whose secret is the only one that works', async () => {
    const bot = await add('checker', '--scope', 'push');
    const wrong = await clientCredentials(bot.id, `${bot.secret}x`);
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.equal('invalid_client');
  });

  it('adds a client limited to the scopes it was given', async () => {
    const bot = await add('narrow', '--scope', 'push');
    const res = await clientCredentials(bot.id, bot.secret, 'admin');
    expect(res.status).to.equal(400);
    expect(res.body.error).to.equal('invalid_scope');
  });

  it('adds a client that must use DPoP with --dpop: its token requests without a proof are refused', async () => {
    const bot = await add('strict', '--scope', 'push', '--dpop');
    expect((await listed()).find((client) => client.client_id === bot.id)).to.include({ dpop_bound_access_tokens: true });
    const res = await clientCredentials(bot.id, bot.secret, 'push');
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.error).to.equal('invalid_dpop_proof');
  });

  it('lists clients as JSON without any secret or secret hash', async () => {
    const bot = await add('listed', '--scope', 'push');
    const stdout = await cli.ok(['client', 'list', '--json']);
    expect(stdout).to.not.include(bot.secret);
    const clients = JSON.parse(stdout) as Array<Record<string, unknown>>;
    const shown = clients.find((c) => c.client_id === bot.id);
    expect(shown).to.include({ name: 'listed', scope: 'push', confidential: true });
    expect(shown?.grant_types).to.deep.equal(['client_credentials']);
    for (const client of clients) expect(client).to.not.have.any.keys('client_secret', 'secret', 'secret_hash');
  });

  it('removes a client so that its secret no longer gets tokens and it is no longer listed', async () => {
    const bot = await add('doomed', '--scope', 'push');
    expect((await clientCredentials(bot.id, bot.secret)).status).to.equal(200);
    expect(await cli.ok(['client', 'remove', bot.id])).to.include(`removed client ${bot.id}`);
    const res = await clientCredentials(bot.id, bot.secret);
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('invalid_client');
    expect((await listed()).map((c) => c.client_id)).to.not.include(bot.id);
  });

  it('exits 1 when removing an unknown client', async () => {
    const { code, stderr } = await cli.run(['client', 'remove', 'c_nonexistent']);
    expect(code).to.equal(1);
    expect(stderr).to.match(/no such client/i);
  });

  it('refuses to remove the built-in client', async () => {
    const { code } = await cli.run(['client', 'remove', 'tessera']);
    expect(code).to.equal(1);
    expect((await listed()).map((c) => c.client_id)).to.include('tessera');
  });

  it('exits 2 when adding a client without a name', async () => {
    const { code, stderr } = await cli.run(['client', 'add']);
    expect(code).to.equal(2);
    expect(stderr).to.include('Usage:');
  });
});

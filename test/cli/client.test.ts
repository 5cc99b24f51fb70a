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

  it('adds an OpenID Connect client with repeated redirect URIs and its metadata', async () => {
    const shown = JSON.parse(
      await cli.ok([
        'client', 'add', 'grafana', '--json',
        '--redirect-uri', 'https://grafana.example/login/generic_oauth',
        '--redirect-uri', 'http://127.0.0.1/callback',
        '--post-logout-redirect-uri', 'https://grafana.example/',
        '--id-token-alg', 'ES256',
        '--auth-method', 'client_secret_post',
        '--client-uri', 'https://grafana.example/',
        '--logo-uri', 'https://grafana.example/logo.svg',
      ]),
    ) as Record<string, unknown>;
    expect(shown).to.deep.include({
      name: 'grafana',
      confidential: true,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://grafana.example/login/generic_oauth', 'http://127.0.0.1/callback'],
      post_logout_redirect_uris: ['https://grafana.example/'],
      token_endpoint_auth_method: 'client_secret_post',
      first_party: false,
      id_token_signed_response_alg: 'ES256',
      client_uri: 'https://grafana.example/',
      logo_uri: 'https://grafana.example/logo.svg',
    });
    expect(shown.client_secret).to.be.a('string');
    expect((await listed()).find((c) => c.client_id === shown.client_id)).to.deep.include({ redirect_uris: shown.redirect_uris, token_endpoint_auth_method: 'client_secret_post' });
  });

  it('adds a first-party public client without a secret', async () => {
    const stdout = await cli.ok(['client', 'add', 'desktop', '--public', '--first-party', '--redirect-uri', 'com.example.desktop:/oauth']);
    expect(stdout).to.match(/^client_id:\s+c_\S+$/m);
    expect(stdout).to.not.include('client_secret');
    const id = /^client_id:\s+(\S+)$/m.exec(stdout)?.[1];
    expect((await listed()).find((c) => c.client_id === id)).to.deep.include({ confidential: false, first_party: true, token_endpoint_auth_method: 'none' });
  });

  it('lists the clients as a table with their auth method and redirect URIs', async () => {
    const table = await cli.ok(['client', 'list']);
    expect(table.split('\n')[0]).to.match(/^CLIENT_ID\s+NAME\s+GRANT_TYPES\s+AUTH_METHOD\s+FIRST_PARTY\s+REDIRECT_URIS$/);
    expect(table).to.match(/^tessera\s+.*\bnone\s+true\s+http:\/\/localhost:\d+\/$/m);
  });

  it('exits 2 with the reason for a redirect URI that cannot be registered, or inconsistent options', async () => {
    for (const args of [
      ['--redirect-uri', 'http://app.example/cb'],
      ['--redirect-uri', 'https://app.example/cb#fragment'],
      ['--public', '--auth-method', 'client_secret_basic', '--redirect-uri', 'https://app.example/cb'],
      ['--id-token-alg', 'HS256'],
      ['--grant-types', 'authorization_code'],
    ]) {
      const { code, stderr } = await cli.run(['client', 'add', 'bad', ...args]);
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr).to.match(/^tessera: (redirect_uris|token_endpoint_auth_method|id_token_signed_response_alg)/);
    }
    expect((await listed()).map((c) => c.name)).to.not.include('bad');
  });

  it('updates a client: the options given replace what it had, so its secret may move to the body', async () => {
    const bot = await add('mover', '--scope', 'push');
    const stdout = await cli.ok(['client', 'update', bot.id, '--auth-method', 'client_secret_post', '--redirect-uri', 'https://mover.example/cb', '--name', 'Mover', '--first-party']);
    expect(stdout).to.equal(`updated client ${bot.id}\n`);
    expect((await listed()).find((c) => c.client_id === bot.id)).to.deep.include({ name: 'Mover', token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['https://mover.example/cb'], first_party: true });
    expect((await clientCredentials(bot.id, bot.secret)).status).to.equal(401);
    const body = await server.post('/token').type('form').send({ grant_type: 'client_credentials', client_id: bot.id, client_secret: bot.secret });
    expect(body.status, JSON.stringify(body.body)).to.equal(200);
    await cli.ok(['client', 'update', bot.id, '--third-party']);
    expect((await listed()).find((c) => c.client_id === bot.id)).to.deep.include({ first_party: false });
  });

  it('refuses an update that would break the client (exit 1, with the reason), of the built-in client, or of an unknown one', async () => {
    const bot = await add('kept', '--scope', 'push');
    const broken = await cli.run(['client', 'update', bot.id, '--auth-method', 'none']);
    expect(broken.code).to.equal(1);
    expect(broken.stderr).to.include('token_endpoint_auth_method');
    expect((await cli.run(['client', 'update', 'tessera', '--third-party'])).code).to.equal(1);
    expect((await cli.run(['client', 'update', 'c_nobody', '--third-party'])).stderr).to.match(/no such client/i);
    expect((await cli.run(['client', 'update', bot.id])).code, 'nothing to change').to.equal(2);
    expect((await cli.run(['client', 'update', bot.id, '--redirect-uri', 'http://kept.example/'])).code).to.equal(2);
  });

  it('exits 2 when adding a client without a name', async () => {
    const { code, stderr } = await cli.run(['client', 'add']);
    expect(code).to.equal(2);
    expect(stderr).to.include('Usage:');
  });
});

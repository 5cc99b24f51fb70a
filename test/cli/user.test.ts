import { expect } from 'chai';
import type supertest from 'supertest';
import { otpAt, secretOf } from '../accounts/account-security-support';
import { exitOf, passwordGrant, screenOf, spawnCliOnTerminal, startWorkspaceWithServer, type CliWorkspace } from './cli-process';

interface ListedUser {
  id: string;
  username: string;
  roles: string[];
  disabled: boolean;
}

describe('tessera user', () => {
  let cli: CliWorkspace;
  let server: ReturnType<typeof supertest>;
  before(async () => ({ cli, server } = await startWorkspaceWithServer()));
  after(() => cli?.close());

  const listed = async (): Promise<ListedUser[]> => JSON.parse(await cli.ok(['user', 'list', '--json'])) as ListedUser[];
  /** `tessera <args>` on a terminal, typing `password` and then `repeat` at its two prompts; its exit code and what the terminal showed. */
  async function typePasswordsOnTerminal(args: readonly string[], password: string, repeat: string): Promise<{ code: number | null; screen: string }> {
    const child = spawnCliOnTerminal([...args], cli.dir, cli.env);
    const screen = screenOf(child);
    const exited = exitOf(child);
    await screen.waitFor('Password: ');
    child.stdin!.write(`${password}\r`);
    await screen.waitFor('Repeat password: ');
    child.stdin!.write(`${repeat}\r`);
    return { code: await exited, screen: screen.text() };
  }
  const refresh = (refreshToken: string) => server.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken });

  it('adds an admin whose password comes from stdin, and list --json shows it with role admin', async () => {
    const { code, stdout } = await cli.run(['user', 'add', 'alice', '--admin'], { input: 'alice-password-1\n' });
    expect(code).to.equal(0);
    expect(stdout).to.match(/created user alice .*with role admin/);
    const alice = (await listed()).find((u) => u.username === 'alice');
    expect(alice).to.include({ username: 'alice', disabled: false });
    expect(alice?.roles).to.deep.equal(['admin']);
    const token = await passwordGrant(server, 'alice', 'alice-password-1').send({ scope: 'admin' });
    expect(token.status, JSON.stringify(token.body)).to.equal(200);
    expect(token.body.scope).to.equal('admin');
  });

  it('asks for the password twice on a terminal, never echoing it, then creates the admin', async () => {
    const { code, screen } = await typePasswordsOnTerminal(['user', 'add', 'tina', '--admin'], 'tina-password-1', 'tina-password-1');
    expect(code).to.equal(0);
    expect(screen).to.match(/created user tina .*with role admin/);
    expect(screen).not.to.include('tina-password-1');
    expect((await passwordGrant(server, 'tina', 'tina-password-1')).status).to.equal(200);
  });

  it('refuses on a terminal when the two passwords differ, creating no user', async () => {
    const { code, screen } = await typePasswordsOnTerminal(['user', 'add', 'vic'], 'vic-password-1', 'vic-password-2');
    expect(code).to.equal(1);
    expect(screen).to.include('the passwords differ');
    expect((await listed()).map((u) => u.username)).not.to.include('vic');
  });

  it('adds a user without roles unless --admin is given', async () => {
    await cli.ok(['user', 'add', 'bob'], 'bob-password-1');
    expect((await listed()).find((u) => u.username === 'bob')?.roles).to.deep.equal([]);
  });

  it('refuses a taken username with exit 1 and one clear line', async () => {
    await cli.ok(['user', 'add', 'carol'], 'carol-password-1');
    for (const name of ['carol', 'CAROL']) {
      const { code, stderr } = await cli.run(['user', 'add', name], { input: 'other-password-1' });
      expect(code, name).to.equal(1);
      expect(stderr).to.match(/carol/i).and.match(/taken/);
      expect(stderr.split('\n').filter(Boolean)).to.have.length(1);
    }
    expect((await listed()).filter((u) => u.username.toLowerCase() === 'carol')).to.have.length(1);
  });

  it('refuses a password too short for the rules and creates no user', async () => {
    const { code, stderr } = await cli.run(['user', 'add', 'dan'], { input: 'short' });
    expect(code).to.equal(1);
    expect(stderr).to.include('password');
    expect((await listed()).map((u) => u.username)).to.not.include('dan');
  });

  it('refuses to add a user when stdin holds no password', async () => {
    const { code, stderr } = await cli.run(['user', 'add', 'dan']);
    expect(code).to.equal(1);
    expect(stderr).to.include('no password on stdin');
  });

  it('disables a user so that a server on the same database refuses their password grant and refresh', async () => {
    await cli.ok(['user', 'add', 'erin'], 'erin-password-1');
    const before = await passwordGrant(server, 'erin', 'erin-password-1');
    expect(before.status).to.equal(200);
    expect(await cli.ok(['user', 'disable', 'erin'])).to.equal('disabled user erin\n');
    expect((await listed()).find((u) => u.username === 'erin')?.disabled).to.equal(true);
    const grant = await passwordGrant(server, 'erin', 'erin-password-1');
    expect(grant.status).to.equal(400);
    expect(grant.body.error).to.equal('invalid_grant');
    expect((await refresh(before.body.refresh_token as string)).body.error).to.equal('invalid_grant');
  });

  it('enables a disabled user again', async () => {
    await cli.ok(['user', 'add', 'fay'], 'fay-password-1');
    await cli.ok(['user', 'disable', 'fay']);
    expect(await cli.ok(['user', 'enable', 'fay'])).to.equal('enabled user fay\n');
    expect((await passwordGrant(server, 'fay', 'fay-password-1')).status).to.equal(200);
  });

  it('sets a new password with passwd and ends the sessions of the old one', async () => {
    await cli.ok(['user', 'add', 'gus'], 'gus-password-1');
    const before = await passwordGrant(server, 'gus', 'gus-password-1');
    expect(before.status).to.equal(200);
    expect(await cli.ok(['user', 'passwd', 'gus'], 'gus-password-2\n')).to.match(/changed the password of gus/);
    expect((await passwordGrant(server, 'gus', 'gus-password-1')).body.error).to.equal('invalid_grant');
    expect((await passwordGrant(server, 'gus', 'gus-password-2')).status).to.equal(200);
    expect((await refresh(before.body.refresh_token as string)).body.error).to.equal('invalid_grant');
  });

  /** Turns two-factor sign-in on through the API of `base` (the root, or `/t/<tenant>`) with the user's password. */
  async function enrolTwoFactor(base: string, username: string, password: string): Promise<void> {
    const tokens = await server.post(`${base}/token`).type('form').send({ grant_type: 'password', username, password });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    const me = { Authorization: `Bearer ${tokens.body.access_token as string}` };
    const enrol = await server.post(`${base}/me/2fa`).set(me).send({ password });
    expect(enrol.status, JSON.stringify(enrol.body)).to.equal(201);
    const confirm = await server.post(`${base}/me/2fa/confirm`).set(me).send({ otp: otpAt(secretOf(enrol.body.otpauth_uri as string), Date.now()) });
    expect(confirm.status, JSON.stringify(confirm.body)).to.equal(204);
    expect((await server.post(`${base}/token`).type('form').send({ grant_type: 'password', username, password })).body.error).to.equal('mfa_required');
  }

  it('turns two-factor sign-in off with 2fa-off and ends the sessions of the user', async () => {
    await cli.ok(['user', 'add', 'hal'], 'hal-password-1');
    const before = await passwordGrant(server, 'hal', 'hal-password-1');
    await enrolTwoFactor('', 'hal', 'hal-password-1');
    expect(await cli.ok(['user', '2fa-off', 'hal'])).to.equal('turned two-factor sign-in off for hal; their sessions have ended\n');
    expect((await refresh(before.body.refresh_token as string)).body.error).to.equal('invalid_grant');
    const after = await passwordGrant(server, 'hal', 'hal-password-1');
    expect(after.status, JSON.stringify(after.body)).to.equal(200);
    expect(await cli.ok(['user', '2fa-off', 'hal'])).to.equal('two-factor sign-in was already off for hal; their sessions have ended\n');
    expect((await refresh(after.body.refresh_token as string)).body.error).to.equal('invalid_grant');
  });

  it('turns two-factor sign-in off for a user of the tenant given with --tenant, and only there', async () => {
    await cli.ok(['tenant', 'add', 'acme']);
    await cli.ok(['user', 'add', 'ivy', '--tenant', 'acme'], 'ivy-password-1');
    await enrolTwoFactor('/t/acme', 'ivy', 'ivy-password-1');
    const elsewhere = await cli.run(['user', '2fa-off', 'ivy']);
    expect(elsewhere.code).to.equal(1);
    expect(elsewhere.stderr).to.include('no user "ivy"');
    expect(await cli.ok(['user', '2fa-off', 'ivy', '--tenant', 'acme'])).to.match(/^turned two-factor sign-in off for ivy;/);
    const grant = await server.post('/t/acme/token').type('form').send({ grant_type: 'password', username: 'ivy', password: 'ivy-password-1' });
    expect(grant.status, JSON.stringify(grant.body)).to.equal(200);
  });

  it('exits 2 with the usage when 2fa-off names no user', async () => {
    const { code, stderr } = await cli.run(['user', '2fa-off']);
    expect(code).to.equal(2);
    expect(stderr).to.include('tessera user 2fa-off <username>');
  });

  it('exits 1 naming the user when acting on an unknown user', async () => {
    const { code, stderr } = await cli.run(['user', 'disable', 'nobody']);
    expect(code).to.equal(1);
    expect(stderr).to.include('no user "nobody"');
  });
});

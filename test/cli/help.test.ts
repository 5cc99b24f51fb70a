import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { CliWorkspace } from './cli-process';

const COMMAND_ACTIONS: Record<string, readonly string[]> = {
  serve: [],
  migrate: [],
  user: ['add', 'list', 'disable', 'enable', 'passwd'],
  client: ['add', 'list', 'remove'],
  keys: ['list', 'rotate'],
  tenant: ['add', 'list', 'remove'],
  doctor: [],
};

describe('tessera CLI help and usage errors', () => {
  let cli: CliWorkspace;
  before(() => {
    cli = new CliWorkspace();
  });
  after(() => cli.close());

  it('prints every command with --help and exits 0', async () => {
    const { code, stdout, stderr } = await cli.run(['--help']);
    expect(code).to.equal(0);
    expect(stderr).to.equal('');
    for (const command of Object.keys(COMMAND_ACTIONS)) expect(stdout).to.match(new RegExp(`^  ${command}\\s`, 'm'));
  });

  it('prints the same help when run without a command', async () => {
    const [bare, help] = await Promise.all([cli.run([]), cli.run(['--help'])]);
    expect(bare.code).to.equal(0);
    expect(bare.stdout).to.equal(help.stdout);
  });

  for (const [command, actions] of Object.entries(COMMAND_ACTIONS)) {
    it(`prints the usage of "${command}" with its actions for "${command} --help" and exits 0`, async () => {
      const { code, stdout } = await cli.run([command, '--help']);
      expect(code).to.equal(0);
      expect(stdout).to.match(new RegExp(`tessera ${command}\\b`));
      for (const action of actions) expect(stdout).to.include(`tessera ${command} ${action}`);
    });
  }

  it('touches no database when only asked for help', async () => {
    const fresh = new CliWorkspace();
    try {
      expect((await fresh.run(['user', '--help'])).code).to.equal(0);
      expect(existsSync(fresh.databaseFile)).to.equal(false);
    } finally {
      await fresh.close();
    }
  });

  it('exits 2 for an unknown command, naming it and showing the commands', async () => {
    const { code, stdout, stderr } = await cli.run(['frobnicate']);
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.include('unknown command "frobnicate"');
    expect(stderr).to.include('Commands:');
  });

  it('exits 2 for an unknown action of a command', async () => {
    const { code, stderr } = await cli.run(['user', 'rename', 'alice']);
    expect(code).to.equal(2);
    expect(stderr).to.include('unknown action "rename"');
  });

  it('exits 2 for an unknown option', async () => {
    const { code, stderr } = await cli.run(['user', 'list', '--colour']);
    expect(code).to.equal(2);
    expect(stderr).to.include('--colour');
    expect(stderr).to.include('Usage:');
  });
});

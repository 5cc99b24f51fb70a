import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { CliWorkspace } from './cli-process';

describe('tessera migrate', () => {
  let cli: CliWorkspace;
  before(() => {
    cli = new CliWorkspace();
  });
  after(() => cli.close());

  it('creates the database and runs the migrations on a fresh database', async () => {
    const { code, stdout } = await cli.run(['migrate']);
    expect(code).to.equal(0);
    expect(stdout).to.match(/^ran [1-9]\d* migration\(s\): /);
    expect(existsSync(cli.databaseFile)).to.equal(true);
  });

  it('says the database is up to date when run again', async () => {
    const { code, stdout } = await cli.run(['migrate']);
    expect(code).to.equal(0);
    expect(stdout).to.equal('database is up to date\n');
  });
});

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { CliWorkspace } from './cli-process';

const BAD_ENVIRONMENTS: Array<[string, Record<string, string>, string]> = [
  ['JWT_ALG=HS256 without JWT_SECRET', { JWT_ALG: 'HS256' }, 'JWT_SECRET'],
  ['JWT_ALG=HS256 with a 10-byte JWT_SECRET', { JWT_ALG: 'HS256', JWT_SECRET: '0123456789' }, 'JWT_SECRET'],
  ['ACCESS_TOKEN_TTL=abc', { ACCESS_TOKEN_TTL: 'abc' }, 'ACCESS_TOKEN_TTL'],
  ['DATABASE_URL=mysql://x', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
  ['DATABASE_POOL_MAX=abc', { DATABASE_POOL_MAX: 'abc' }, 'DATABASE_POOL_MAX'],
];

describe('tessera CLI with a bad configuration', () => {
  let cli: CliWorkspace;
  beforeEach(() => {
    cli = new CliWorkspace();
  });
  afterEach(() => cli.close());

  for (const [what, env, variable] of BAD_ENVIRONMENTS) {
    it(`refuses to serve with ${what}: exit 1 and one line on stderr naming ${variable}`, async () => {
      const { code, stdout, stderr } = await cli.run(['serve'], { env: { ...env, PORT: '0' } });
      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      const lines = stderr.split('\n').filter(Boolean);
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`\\b${variable}\\b`));
      expect(existsSync(cli.databaseFile)).to.equal(false);
    });
  }

  it('refuses other commands the same way before opening the database', async () => {
    const { code, stderr } = await cli.run(['user', 'list'], { env: { ACCESS_TOKEN_TTL: 'abc' } });
    expect(code).to.equal(1);
    expect(stderr.split('\n').filter(Boolean)).to.have.length(1);
    expect(stderr).to.include('ACCESS_TOKEN_TTL');
    expect(existsSync(cli.databaseFile)).to.equal(false);
  });
});

import { expect } from 'chai';
import { ConfigError, loadConfig, type Environment } from '../../src/config';
import { createLogger } from '../../src/logger';
import { CliWorkspace } from '../cli/cli-process';
import { startServer, type TestServer } from '../support/server';
import { login, PASSWORD } from '../support/users';
import { emailOf } from './account-security-support';

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The message of the ConfigError loadConfig throws for `env`. */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env as Environment);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** A server whose log lines are kept, parsed. */
async function loggedServer(env: Environment): Promise<{ server: TestServer; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { server: await startServer({ RATE_LIMITS: 'off', ...env }, 'sqlite', { logger }), lines };
}

/** Waits (bounded) for a log line that passes `test`: mail goes out in the background. */
async function logLine(lines: readonly LogLine[], test: (line: LogLine) => boolean): Promise<LogLine> {
  const deadline = Date.now() + 2_000;
  while (!lines.some(test) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const line = lines.find(test);
  expect(line, 'the log line').to.not.equal(undefined);
  return line!;
}

describe('configuration of mail and account security', () => {
  it('defaults: no verification, 600 s codes, no SMTP, mail from no-reply at the issuer host, no TOTP key', () => {
    const config = loadConfig({ ISSUER: 'https://auth.example.com' });
    expect(config.requireEmailVerification).to.equal(false);
    expect(config.accountCodeTtl).to.equal(600);
    expect(config.mail).to.deep.equal({ smtpUrl: undefined, from: 'tessera <no-reply@auth.example.com>' });
    expect(config.twoFactorKey).to.equal(undefined);
    expect(config.rateLimits.accountCodesPerHour).to.equal(30);
  });

  it('refuses REQUIRE_EMAIL_VERIFICATION=true in production without SMTP_URL, naming SMTP_URL', () => {
    expect(configError({ NODE_ENV: 'production', REQUIRE_EMAIL_VERIFICATION: 'true' })).to.match(/^invalid configuration: SMTP_URL: .*REQUIRE_EMAIL_VERIFICATION/);
    expect(loadConfig({ NODE_ENV: 'production', REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: 'smtps://mail.example.com' }).requireEmailVerification).to.equal(true);
    expect(loadConfig({ REQUIRE_EMAIL_VERIFICATION: 'true' }).requireEmailVerification).to.equal(true);
  });

  it('names the variable of a bad value', () => {
    expect(configError({ SMTP_URL: 'http://mail.example.com' })).to.include('SMTP_URL');
    expect(configError({ REQUIRE_EMAIL_VERIFICATION: 'yes' })).to.include('REQUIRE_EMAIL_VERIFICATION');
    expect(configError({ TWO_FACTOR_KEY: 'too short' })).to.include('TWO_FACTOR_KEY');
    expect(configError({ ACCOUNT_CODE_TTL: '0' })).to.include('ACCOUNT_CODE_TTL');
  });

  it('makes `tessera serve` exit 1 with one line naming SMTP_URL', async function () {
    this.timeout(30_000);
    const cli = new CliWorkspace();
    try {
      const { code, stderr } = await cli.run(['serve'], { env: { NODE_ENV: 'production', REQUIRE_EMAIL_VERIFICATION: 'true', PORT: '0' } });
      expect(code).to.equal(1);
      const lines = stderr.split('\n').filter(Boolean);
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.match(/\bSMTP_URL\b/);
    } finally {
      await cli.close();
    }
  });
});

describe('mail without SMTP_URL', () => {
  it('in development: warns at start-up and writes the code to the log at info, where it works', async () => {
    const { server, lines } = await loggedServer({ REQUIRE_EMAIL_VERIFICATION: 'true' });
    try {
      expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).to.include(
        'SMTP_URL is unset: verification and password reset codes are written to this log (development only)',
      );
      expect((await server.request.post('/signup').send({ username: 'alice', password: PASSWORD, email: emailOf('alice') })).status).to.equal(201);
      const mail = await logLine(lines, (line) => line.mail_to === emailOf('alice'));
      expect(mail.level).to.equal('info');
      const code = /^\s*(\d{6})\s*$/m.exec(String(mail.text))![1]!;
      expect((await server.request.post('/signup/verify').send({ username: 'alice', code })).status).to.equal(204);
      await login(server, 'alice');
    } finally {
      await server.close();
    }
  });

  it('in production: warns at start-up and logs that a mail was not sent, never its text', async () => {
    const { server, lines } = await loggedServer({ NODE_ENV: 'production' });
    try {
      expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).to.include('SMTP_URL is unset: verification and password reset codes cannot be mailed');
      expect((await server.request.post('/signup').send({ username: 'bob', password: PASSWORD, email: emailOf('bob') })).status).to.equal(201);
      expect((await server.request.post('/password/forgot').send({ username: 'bob' })).status).to.equal(202);
      const notSent = await logLine(lines, (line) => line.msg === 'mail not sent: SMTP_URL is unset');
      expect(notSent.level).to.equal('warn');
      expect(lines.filter((line) => 'text' in line || 'mail_to' in line)).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });
});

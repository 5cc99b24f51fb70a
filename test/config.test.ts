import { expect } from 'chai';
import { ConfigError, loadConfig, type Config, type Environment } from '../src/config';

/** The ConfigError loadConfig throws for `env`; fails the test when it does not throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    // Values outside the typed choices are the point here, as in a real environment.
    loadConfig(env as Environment);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  describe('defaults (SPEC §1)', () => {
    let config: Config;
    before(() => {
      config = loadConfig({});
    });

    it('listens on 127.0.0.1:8080', () => {
      expect(config.port).to.equal(8080);
      expect(config.host).to.equal('127.0.0.1');
    });

    it('uses SQLite at ./data/tessera.db and no Redis', () => {
      expect(config.databaseUrl).to.equal('sqlite:./data/tessera.db');
      expect(config.redisUrl).to.equal(undefined);
    });

    it('gives PostgreSQL a pool of 10, 10 s per statement and 5 s to get a connection', () => {
      expect(config.databaseLimits).to.deep.equal({ poolMax: 10, statementTimeoutMs: 10_000, acquireTimeoutMs: 5_000 });
    });

    it('derives the issuer from the port and the audience from the issuer', () => {
      expect(config.issuer).to.equal('http://localhost:8080');
      expect(config.audience).to.equal('http://localhost:8080');
      const onPort = loadConfig({ PORT: '9000' });
      expect(onPort.issuer).to.equal('http://localhost:9000');
      expect(onPort.audience).to.equal('http://localhost:9000');
    });

    it('takes the audience from ISSUER when only ISSUER is set', () => {
      const config = loadConfig({ ISSUER: 'https://auth.example.com/' });
      expect(config.issuer).to.equal('https://auth.example.com');
      expect(config.audience).to.equal('https://auth.example.com');
    });

    it('signs with ES256 and needs no secret', () => {
      expect(config.jwtAlg).to.equal('ES256');
      expect(config.jwtSecret).to.equal(undefined);
    });

    it('gives access tokens 900 s, sessions 2592000 s absolute and 1209600 s idle, and a 10 s reuse grace', () => {
      expect(config.accessTokenTtl).to.equal(900);
      expect(config.refreshTokenTtl).to.equal(2_592_000);
      expect(config.refreshIdleTtl).to.equal(1_209_600);
      expect(config.refreshReuseGrace).to.equal(10);
    });

    it('leaves signup open and creates no admin', () => {
      expect(config.signup).to.equal('open');
      expect(config.admin).to.equal(undefined);
    });

    it('keeps client registration closed and the password grant on', () => {
      expect(config.clientRegistration).to.equal('closed');
      expect(config.passwordGrant).to.equal(true);
    });

    it('sends no CORS headers, accepts any WebSocket Origin and trusts no proxy', () => {
      expect(config.corsOrigins).to.deep.equal([]);
      expect(config.wsOrigins).to.deep.equal([]);
      expect(config.trustProxy).to.equal(false);
    });

    it('turns rate limits on and allows 10 sockets per user', () => {
      expect(config.rateLimits.enabled).to.equal(true);
      expect(config.ws.maxConnectionsPerUser).to.equal(10);
    });

    it('logs at info and sends no message webhook', () => {
      expect(config.logLevel).to.equal('info');
      expect(config.messageWebhook).to.equal(undefined);
    });
  });

  describe('parsing values', () => {
    it('reads every variable it is given', () => {
      const config = loadConfig({
        PORT: '0',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://u@db/tessera',
        DATABASE_POOL_MAX: '25',
        DATABASE_STATEMENT_TIMEOUT_MS: '3000',
        DATABASE_ACQUIRE_TIMEOUT_MS: '1500',
        REDIS_URL: 'redis://cache:6379',
        ISSUER: 'https://auth.example.com',
        AUDIENCE: 'https://api.example.com',
        JWT_ALG: 'HS256',
        JWT_SECRET: 's'.repeat(32),
        ACCESS_TOKEN_TTL: '60',
        REFRESH_TOKEN_TTL: '3600',
        REFRESH_IDLE_TTL: '600',
        REFRESH_REUSE_GRACE: '0',
        SIGNUP: 'closed',
        CLIENT_REGISTRATION: 'token',
        PASSWORD_GRANT: 'off',
        ADMIN_USERNAME: 'root',
        ADMIN_PASSWORD: 'root-password',
        CORS_ORIGINS: 'https://a.example, https://b.example',
        WS_ORIGINS: 'https://a.example',
        TRUST_PROXY: '1',
        RATE_LIMITS: 'off',
        WS_MAX_CONNECTIONS_PER_USER: '3',
        LOG_LEVEL: 'warn',
        MESSAGE_WEBHOOK_URL: 'https://bot.example/hook',
        MESSAGE_WEBHOOK_SECRET: 'hook-secret',
      });
      expect(config).to.deep.include({
        port: 0,
        host: '0.0.0.0',
        databaseUrl: 'postgres://u@db/tessera',
        redisUrl: 'redis://cache:6379',
        issuer: 'https://auth.example.com',
        audience: 'https://api.example.com',
        jwtAlg: 'HS256',
        jwtSecret: 's'.repeat(32),
        accessTokenTtl: 60,
        refreshTokenTtl: 3600,
        refreshIdleTtl: 600,
        refreshReuseGrace: 0,
        signup: 'closed',
        clientRegistration: 'token',
        passwordGrant: false,
        admin: { username: 'root', password: 'root-password' },
        corsOrigins: ['https://a.example', 'https://b.example'],
        wsOrigins: ['https://a.example'],
        trustProxy: 1,
        logLevel: 'warn',
      });
      expect(config.databaseLimits).to.deep.equal({ poolMax: 25, statementTimeoutMs: 3_000, acquireTimeoutMs: 1_500 });
      expect(config.rateLimits.enabled).to.equal(false);
      expect(config.ws.maxConnectionsPerUser).to.equal(3);
      expect(config.messageWebhook).to.include({ url: 'https://bot.example/hook', secret: 'hook-secret' });
    });

    it('treats an empty value as unset', () => {
      const config = loadConfig({ REDIS_URL: '', ISSUER: '', AUDIENCE: '', JWT_SECRET: '' });
      expect(config.redisUrl).to.equal(undefined);
      expect(config.issuer).to.equal('http://localhost:8080');
      expect(config.audience).to.equal(config.issuer);
    });

    it('accepts postgresql:// as well as postgres://', () => {
      expect(loadConfig({ DATABASE_URL: 'postgresql://u@db/t' }).databaseUrl).to.equal('postgresql://u@db/t');
    });
  });

  describe('the result', () => {
    it('is frozen, nested objects included', () => {
      const config = loadConfig({ CORS_ORIGINS: 'https://a.example' });
      expect(Object.isFrozen(config)).to.equal(true);
      expect(Object.isFrozen(config.databaseLimits)).to.equal(true);
      expect(Object.isFrozen(config.rateLimits)).to.equal(true);
      expect(Object.isFrozen(config.ws)).to.equal(true);
      expect(Object.isFrozen(config.corsOrigins)).to.equal(true);
      expect(() => {
        (config as { port: number }).port = 1;
      }).to.throw(TypeError);
      expect(config.port).to.equal(8080);
    });
  });

  describe('bad values', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['a port that is not a number', { PORT: 'http' }, 'PORT'],
      ['a port above 65535', { PORT: '70000' }, 'PORT'],
      ['an empty host', { HOST: '' }, 'HOST'],
      ['a MySQL database URL', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      ['a pool size that is not a number', { DATABASE_POOL_MAX: 'abc' }, 'DATABASE_POOL_MAX'],
      ['a pool of 0 connections', { DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
      ['a fractional pool size', { DATABASE_POOL_MAX: '2.5' }, 'DATABASE_POOL_MAX'],
      ['a statement timeout with a unit', { DATABASE_STATEMENT_TIMEOUT_MS: '10s' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      ['a statement timeout of 0 (no timeout)', { DATABASE_STATEMENT_TIMEOUT_MS: '0' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      ['a statement timeout above an hour', { DATABASE_STATEMENT_TIMEOUT_MS: '3600001' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      ['a negative acquire timeout', { DATABASE_ACQUIRE_TIMEOUT_MS: '-1' }, 'DATABASE_ACQUIRE_TIMEOUT_MS'],
      ['an acquire timeout below 100 ms', { DATABASE_ACQUIRE_TIMEOUT_MS: '99' }, 'DATABASE_ACQUIRE_TIMEOUT_MS'],
      ['a Redis URL of another scheme', { REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
      ['an issuer that is not a URL', { ISSUER: 'auth.example.com' }, 'ISSUER'],
      ['an issuer with a non-HTTP scheme', { ISSUER: 'ftp://auth.example.com' }, 'ISSUER'],
      ['an unknown JWT algorithm', { JWT_ALG: 'none' }, 'JWT_ALG'],
      ['HS256 without a secret', { JWT_ALG: 'HS256' }, 'JWT_SECRET'],
      ['HS256 with a 10-byte secret', { JWT_ALG: 'HS256', JWT_SECRET: '0123456789' }, 'JWT_SECRET'],
      ['HS256 with a 31-byte secret', { JWT_ALG: 'HS256', JWT_SECRET: 's'.repeat(31) }, 'JWT_SECRET'],
      ['an access-token lifetime that is not a number', { ACCESS_TOKEN_TTL: 'abc' }, 'ACCESS_TOKEN_TTL'],
      ['an access-token lifetime of 0', { ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
      ['a fractional access-token lifetime', { ACCESS_TOKEN_TTL: '1.5' }, 'ACCESS_TOKEN_TTL'],
      ['a negative session lifetime', { REFRESH_TOKEN_TTL: '-1' }, 'REFRESH_TOKEN_TTL'],
      ['an idle lifetime that is not a number', { REFRESH_IDLE_TTL: 'week' }, 'REFRESH_IDLE_TTL'],
      ['a negative reuse grace', { REFRESH_REUSE_GRACE: '-5' }, 'REFRESH_REUSE_GRACE'],
      ['a signup mode other than open or closed', { SIGNUP: 'invite' }, 'SIGNUP'],
      ['a client registration mode other than closed, open or token', { CLIENT_REGISTRATION: 'yes' }, 'CLIENT_REGISTRATION'],
      ['a password grant other than on or off', { PASSWORD_GRANT: 'true' }, 'PASSWORD_GRANT'],
      ['an admin name without a password', { ADMIN_USERNAME: 'root' }, 'ADMIN_PASSWORD'],
      ['an admin name outside the username rules', { ADMIN_USERNAME: 'Bad Name!', ADMIN_PASSWORD: 'root-password' }, 'ADMIN_USERNAME'],
      ['an admin name of 2 characters', { ADMIN_USERNAME: 'ro', ADMIN_PASSWORD: 'root-password' }, 'ADMIN_USERNAME'],
      ['an admin password of 257 characters', { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'p'.repeat(257) }, 'ADMIN_PASSWORD'],
      ['an admin password of 7 characters', { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short12' }, 'ADMIN_PASSWORD'],
      ['rate limits neither on nor off', { RATE_LIMITS: 'yes' }, 'RATE_LIMITS'],
      ['zero sockets per user', { WS_MAX_CONNECTIONS_PER_USER: '0' }, 'WS_MAX_CONNECTIONS_PER_USER'],
      ['an unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
      ['a webhook URL that is not a URL', { MESSAGE_WEBHOOK_URL: 'bot', MESSAGE_WEBHOOK_SECRET: 'x' }, 'MESSAGE_WEBHOOK_URL'],
      ['a webhook URL without a secret', { MESSAGE_WEBHOOK_URL: 'https://bot.example/hook' }, 'MESSAGE_WEBHOOK_SECRET'],
    ];
    for (const [what, env, variable] of cases) {
      it(`refuses ${what}, naming ${variable} in one line`, () => {
        const error = configError(env);
        expect(error.message).to.match(new RegExp(`\\b${variable}\\b`));
        expect(error.message).to.not.include('\n');
      });
    }
  });
});

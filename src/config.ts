import { z } from 'zod';
import { passwordSchema, usernameSchema } from './accounts/account-rules';
import { tenantIdSchema } from './tenants/tenant';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = (fallback: 'on' | 'off') => z.enum(['on', 'off']).default(fallback);
const list = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
// host=tenant: a host name and the tenant it serves at its root (SPEC §8).
const tenantHost = z
  .string()
  .regex(/^[A-Za-z0-9.-]+=[^=]+$/, 'must be host=tenant pairs separated by commas')
  .transform((pair) => pair.toLowerCase().split('=') as [string, string])
  .refine(([, tenant]) => tenantIdSchema.safeParse(tenant).success, 'names a tenant id that cannot exist');
const optional = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** How one process uses PostgreSQL (SQLite has a single connection and a fixed busy timeout). */
export interface DatabaseLimits {
  /** Connections in the pool. */
  readonly poolMax: number;
  /** Milliseconds a statement may run (PostgreSQL's statement_timeout). */
  readonly statementTimeoutMs: number;
  /** Milliseconds a query may wait for a connection: a free one in the pool, or a new one's handshake. */
  readonly acquireTimeoutMs: number;
}

export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = Object.freeze({ poolMax: 10, statementTimeoutMs: 10_000, acquireTimeoutMs: 5_000 });
// Node timers take at most 2^31 - 1 ms; an hour is far beyond any statement tessera runs.
const databaseMs = (fallback: number) => z.coerce.number().int().min(100).max(3_600_000).default(fallback);

const environmentSchema = z
  .object({
    NODE_ENV: z.string().default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z
      .string()
      .default('sqlite:./data/tessera.db')
      .refine((url) => /^(sqlite:|postgres(ql)?:\/\/)/.test(url), 'must start with sqlite: or postgres://'),
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(DEFAULT_DATABASE_LIMITS.poolMax),
    DATABASE_STATEMENT_TIMEOUT_MS: databaseMs(DEFAULT_DATABASE_LIMITS.statementTimeoutMs),
    DATABASE_ACQUIRE_TIMEOUT_MS: databaseMs(DEFAULT_DATABASE_LIMITS.acquireTimeoutMs),
    REDIS_URL: optional.refine((url) => url === undefined || /^rediss?:\/\//.test(url), 'must start with redis:// or rediss://'),
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/).default('tessera:'),
    ISSUER: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
    AUDIENCE: optional,
    JWT_ALG: z.enum(['ES256', 'RS256', 'HS256']).default('ES256'),
    JWT_SECRET: optional,
    ACCESS_TOKEN_TTL: seconds(900), // 15 min
    REFRESH_TOKEN_TTL: seconds(2_592_000), // 30 days, absolute session lifetime
    REFRESH_IDLE_TTL: seconds(1_209_600), // 14 days without a refresh ends the session
    REFRESH_REUSE_GRACE: z.coerce.number().int().min(0).default(10), // seconds
    SIGNUP: z.enum(['open', 'closed']).default('open'),
    CLIENT_REGISTRATION: z.enum(['closed', 'open', 'token']).default('closed'), // RFC 7591 at /register
    PASSWORD_GRANT: flag('on'),
    ADMIN_USERNAME: optional.pipe(usernameSchema.optional()), // the SPEC §4 rules, as for any user
    ADMIN_PASSWORD: optional.pipe(passwordSchema.optional()),
    TENANT_HOSTS: list.pipe(z.array(tenantHost)),
    CORS_ORIGINS: list,
    WS_ORIGINS: list,
    TRUST_PROXY: z.string().default('false'),
    RATE_LIMITS: flag('on'),
    RATE_LIMIT_TOKEN_PER_MINUTE: z.coerce.number().int().positive().default(600),
    RATE_LIMIT_LOGIN_FAILURES: z.coerce.number().int().positive().default(10), // per username+IP in 15 min
    RATE_LIMIT_SIGNUP_PER_HOUR: z.coerce.number().int().positive().default(30),
    PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(15), // scrypt N = 2^cost
    WS_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(10),
    WS_UPGRADES_PER_MINUTE: z.coerce.number().int().positive().default(120), // per IP
    WS_MAX_PAYLOAD: z.coerce.number().int().min(1024).default(65_536), // bytes; larger frames close with 1009
    WS_FRAMES_PER_SECOND: z.coerce.number().int().positive().default(20), // per socket, burst of twice that
    WS_SEND_BUFFER_LIMIT: z.coerce.number().int().min(1024).default(1_048_576), // bytes queued for a slow reader before 1013
    WS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(20_000), // a client must send its headers within this (slowloris)
    METRICS_TOKEN: optional.refine((token) => token === undefined || token.length >= 16, 'must be at least 16 characters'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MESSAGE_WEBHOOK_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
    MESSAGE_WEBHOOK_SECRET: optional,
    MESSAGE_WEBHOOK_RETRY_MS: z.coerce.number().int().positive().default(1_000), // first retry; each further one doubles
    REQUIRE_EMAIL_VERIFICATION: z.enum(['true', 'false']).default('false'),
    SMTP_URL: optional.refine((url) => url === undefined || /^smtps?:\/\//.test(url), 'must start with smtp:// or smtps://'),
    MAIL_FROM: optional,
    ACCOUNT_CODE_TTL: seconds(600), // 10 min: e-mailed verification and reset codes
    RATE_LIMIT_ACCOUNT_CODES_PER_HOUR: z.coerce.number().int().positive().default(30), // per IP, over verify, resend, forgot and reset
    TWO_FACTOR_KEY: optional.refine((key) => key === undefined || key.length >= 32, 'must be at least 32 characters'),
    ACCOUNT_CODE_KEY: optional.refine((key) => key === undefined || key.length >= 32, 'must be at least 32 characters'),
  })
  .superRefine((env, ctx) => {
    if (env.JWT_ALG === 'HS256' && Buffer.byteLength(env.JWT_SECRET ?? '') < 32) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be at least 32 bytes when JWT_ALG=HS256' });
    }
    if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'ADMIN_USERNAME and ADMIN_PASSWORD must be set together' });
    }
    if (env.MESSAGE_WEBHOOK_URL !== undefined && env.MESSAGE_WEBHOOK_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MESSAGE_WEBHOOK_SECRET'], message: 'is required when MESSAGE_WEBHOOK_URL is set' });
    }
    // Without SMTP the codes would only reach the log, which is for development.
    if (env.NODE_ENV === 'production' && env.REQUIRE_EMAIL_VERIFICATION === 'true' && env.SMTP_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'is required when REQUIRE_EMAIL_VERIFICATION=true in production' });
    }
  });

export type Environment = z.input<typeof environmentSchema>;

/** The name of every variable tessera reads (the README documents each). */
export const ENVIRONMENT_VARIABLES = Object.keys(environmentSchema.shape) as ReadonlyArray<keyof Environment>;

/** The whole configuration of one tessera process, parsed once and frozen. */
export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly databaseLimits: DatabaseLimits;
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwtAlg: 'ES256' | 'RS256' | 'HS256';
  readonly jwtSecret: string | undefined;
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly refreshIdleTtl: number;
  readonly refreshReuseGrace: number;
  /** Whether sign-up is open in tenants without a setting of their own. */
  readonly signup: 'open' | 'closed';
  /** RFC 7591 registration at /register: not offered, open to anyone, or for bearers of an `admin` token. */
  readonly clientRegistration: 'closed' | 'open' | 'token';
  /** Whether `/token` offers the password grant (and the mfa grant that completes it) at all. */
  readonly passwordGrant: boolean;
  /** Host name (lower case) → the tenant served at its root. */
  readonly tenantHosts: ReadonlyMap<string, string>;
  readonly admin: { readonly username: string; readonly password: string } | undefined;
  readonly corsOrigins: readonly string[];
  readonly wsOrigins: readonly string[];
  readonly trustProxy: boolean | number | string;
  readonly rateLimits: {
    readonly enabled: boolean;
    readonly tokenPerMinute: number;
    readonly loginFailures: number;
    readonly signupPerHour: number;
    readonly accountCodesPerHour: number;
  };
  readonly passwordHashCost: number;
  /** Milliseconds a client has to send its request headers. */
  readonly httpHeadersTimeoutMs: number;
  readonly ws: {
    readonly maxConnectionsPerUser: number;
    readonly upgradesPerMinute: number;
    readonly maxPayload: number;
    readonly framesPerSecond: number;
    readonly sendBufferLimit: number;
    readonly heartbeatMs: number;
  };
  readonly logLevel: string;
  readonly metricsToken: string | undefined;
  readonly messageWebhook: { readonly url: string; readonly secret: string; readonly retryBaseMs: number } | undefined;
  /** SPEC §8: signup mails a code, and the account stays closed until it is entered. */
  readonly requireEmailVerification: boolean;
  /** Seconds an e-mailed verification or reset code stays usable. */
  readonly accountCodeTtl: number;
  /** No SMTP URL: mail goes to the log (development) or nowhere (production). */
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string };
  /** Encrypts TOTP secrets at rest when set. */
  readonly twoFactorKey: string | undefined;
  /** Keys the HMAC under which e-mailed codes are stored; unset, a random key kept in the database. */
  readonly accountCodeKey: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * Parses the environment into a frozen Config. Throws a ConfigError whose
 * message names the first bad variable, in one line.
 */
export function loadConfig(env: Environment = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = issue?.path.join('.') ?? 'environment';
    throw new ConfigError(`invalid configuration: ${variable}: ${issue?.message ?? 'invalid value'}`);
  }
  const e = parsed.data;
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    production: e.NODE_ENV === 'production',
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databaseLimits: Object.freeze({
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
    }),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    issuer,
    audience: e.AUDIENCE ?? issuer,
    jwtAlg: e.JWT_ALG,
    jwtSecret: e.JWT_SECRET,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    refreshIdleTtl: e.REFRESH_IDLE_TTL,
    refreshReuseGrace: e.REFRESH_REUSE_GRACE,
    signup: e.SIGNUP,
    clientRegistration: e.CLIENT_REGISTRATION,
    passwordGrant: e.PASSWORD_GRANT === 'on',
    tenantHosts: new Map(e.TENANT_HOSTS),
    admin: e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    wsOrigins: Object.freeze(e.WS_ORIGINS),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    rateLimits: Object.freeze({
      enabled: e.RATE_LIMITS === 'on',
      tokenPerMinute: e.RATE_LIMIT_TOKEN_PER_MINUTE,
      loginFailures: e.RATE_LIMIT_LOGIN_FAILURES,
      signupPerHour: e.RATE_LIMIT_SIGNUP_PER_HOUR,
      accountCodesPerHour: e.RATE_LIMIT_ACCOUNT_CODES_PER_HOUR,
    }),
    passwordHashCost: e.PASSWORD_HASH_COST,
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    ws: Object.freeze({
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      upgradesPerMinute: e.WS_UPGRADES_PER_MINUTE,
      maxPayload: e.WS_MAX_PAYLOAD,
      framesPerSecond: e.WS_FRAMES_PER_SECOND,
      sendBufferLimit: e.WS_SEND_BUFFER_LIMIT,
      heartbeatMs: e.WS_HEARTBEAT_MS,
    }),
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    messageWebhook:
      e.MESSAGE_WEBHOOK_URL && e.MESSAGE_WEBHOOK_SECRET
        ? { url: e.MESSAGE_WEBHOOK_URL, secret: e.MESSAGE_WEBHOOK_SECRET, retryBaseMs: e.MESSAGE_WEBHOOK_RETRY_MS }
        : undefined,
    requireEmailVerification: e.REQUIRE_EMAIL_VERIFICATION === 'true',
    accountCodeTtl: e.ACCOUNT_CODE_TTL,
    mail: Object.freeze({ smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `tessera <no-reply@${new URL(issuer).hostname}>` }),
    twoFactorKey: e.TWO_FACTOR_KEY,
    accountCodeKey: e.ACCOUNT_CODE_KEY,
  });
}

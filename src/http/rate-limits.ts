import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import { rateLimited } from '../errors';
import { MFA_GRANT_TYPE } from '../oauth/grant';
import { clientKey } from './client-key';

const MINUTE = 60_000;
// SPEC §9: answers naming unknown usernames, per user and hour; more would let a token list the tenant's users.
const UNKNOWN_MEMBER_ANSWERS_PER_HOUR = 20;

/** Where counters live: this process's memory by default, Redis when configured (shared by the cluster). */
export type RateLimitStoreFactory = (prefix: string) => Store | undefined;

interface Limit {
  readonly name: string;
  readonly windowMs: number;
  readonly limit: number;
  readonly key?: (req: Request) => string;
  readonly skip?: (req: Request) => boolean;
  /** Count only failed requests. */
  readonly failuresOnly?: boolean;
  /** What counts as success when only failures count; status < 400 by default. */
  readonly succeeded?: (req: Request, res: Response) => boolean;
}

const clientIp = (req: Request) => clientKey(req.ip);
const grantType = (req: Request) => (req.body as { grant_type?: unknown } | undefined)?.grant_type;

/**
 * The SPEC §7 limits: `/token` per IP, failed password grants per username+IP, `/signup` per IP;
 * and SPEC §8's: failed mfa grants per IP, the e-mailed code endpoints (verify, resend, forgot,
 * reset) together per IP, and the two-factor changes (enrol, confirm, disable) together per IP;
 * and SPEC §9's: conversations naming unknown users, per user (after the bearer check).
 */
export function createRateLimits(config: Config, metrics: Metrics, storeFor: RateLimitStoreFactory = () => undefined) {
  const limiter = ({ name, windowMs, limit, key = clientIp, skip, failuresOnly = false, succeeded }: Limit): RequestHandler => {
    if (!config.rateLimits.enabled) return (_req, _res, next) => next();
    const store = storeFor(`rl:${name}:`);
    return rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: key,
      // The library looks for its own ipKeyGenerator in each key function's source; ours call clientKey, which wraps it.
      validate: { keyGeneratorIpFallback: false },
      ...(skip ? { skip } : {}),
      skipSuccessfulRequests: failuresOnly,
      ...(succeeded ? { requestWasSuccessful: succeeded } : {}),
      ...(store ? { store } : {}),
      handler: (req, _res, next) => {
        metrics.rateLimited.inc({ limit: name });
        const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        next(rateLimited(resetTime ? (resetTime.getTime() - Date.now()) / 1000 : windowMs / 1000));
      },
    });
  };

  return {
    token: limiter({ name: 'token', windowMs: MINUTE, limit: config.rateLimits.tokenPerMinute }),
    failedLogins: limiter({
      name: 'login',
      windowMs: 15 * MINUTE,
      limit: config.rateLimits.loginFailures,
      failuresOnly: true,
      // A right password answered mfa_required is no failed login (src/oauth/token-endpoint.ts sets the flag).
      succeeded: (_req, res) => res.statusCode < 400 || res.locals.credentialsAccepted === true,
      skip: (req) => grantType(req) !== 'password',
      key: (req) => {
        const username = (req.body as { username?: unknown } | undefined)?.username;
        return `${clientIp(req)}:${typeof username === 'string' ? username.toLowerCase() : ''}`;
      },
    }),
    // Wrong one-time passwords from one IP, whichever accounts they are for (each account also counts its own).
    failedMfa: limiter({
      name: 'mfa',
      windowMs: 15 * MINUTE,
      limit: config.rateLimits.loginFailures,
      failuresOnly: true,
      skip: (req) => grantType(req) !== MFA_GRANT_TYPE,
    }),
    signup: limiter({ name: 'signup', windowMs: 60 * MINUTE, limit: config.rateLimits.signupPerHour }),
    accountCodes: limiter({ name: 'account_codes', windowMs: 60 * MINUTE, limit: config.rateLimits.accountCodesPerHour }),
    twoFactor: limiter({ name: 'two_factor', windowMs: 60 * MINUTE, limit: config.rateLimits.accountCodesPerHour }),
    // Once a user is over, every new conversation is 429 for the rest of the hour: a 201 would answer the same question.
    unknownMembers: limiter({
      name: 'unknown_members',
      windowMs: 60 * MINUTE,
      limit: UNKNOWN_MEMBER_ANSWERS_PER_HOUR,
      failuresOnly: true,
      succeeded: (_req, res) => res.statusCode !== 422,
      key: (req) => `user:${req.principal?.subject ?? clientIp(req)}`,
    }),
  };
}

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
/** Whose password is tried: the token's user on an account route, else the password grant's `username`. */
function loginName(req: Request): string {
  if (req.principal) return req.principal.username?.toLowerCase() ?? req.principal.subject;
  const username = (req.body as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' ? username.toLowerCase() : '';
}
/** Which sign-in form of the authorization endpoint a request posts (src/authorize/authorize-routes.ts marks it). */
const signInForm = (req: Request): unknown => req.res?.locals.signInForm;

/**
 * The SPEC §7 limits: `/token` per IP, failed password grants (and SPEC §9 password re-checks) per username+IP, `/signup` per IP;
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
    // Password grants, and (SPEC §9) the account routes that ask a token's user for the password again:
    // both count against the same user and address, so a token buys no guesses the login form does not give.
    failedLogins: limiter({
      name: 'login',
      windowMs: 15 * MINUTE,
      limit: config.rateLimits.loginFailures,
      failuresOnly: true,
      // A right password answered mfa_required is no failed login (src/oauth/token-endpoint.ts sets the flag);
      // on an account route only a wrong password is one (src/accounts/current-password.ts sets that flag).
      succeeded: (req, res) =>
        req.principal ? res.locals.passwordRejected !== true : res.statusCode < 400 || res.locals.credentialsAccepted === true,
      // The password grant, the sign-in page and the account routes count together (SPEC §9, §10).
      skip: (req) => req.principal === undefined && grantType(req) !== 'password' && signInForm(req) !== 'password',
      key: (req) => `${clientIp(req)}:${loginName(req)}`,
    }),
    // Wrong one-time passwords from one IP, whichever accounts they are for (each account also counts its own).
    failedMfa: limiter({
      name: 'mfa',
      windowMs: 15 * MINUTE,
      limit: config.rateLimits.loginFailures,
      failuresOnly: true,
      skip: (req) => grantType(req) !== MFA_GRANT_TYPE && signInForm(req) !== 'second_factor',
    }),
    signup: limiter({ name: 'signup', windowMs: 60 * MINUTE, limit: config.rateLimits.signupPerHour }),
    // Registering an app is signing one up: the same budget per IP, counted apart.
    registration: limiter({ name: 'registration', windowMs: 60 * MINUTE, limit: config.rateLimits.signupPerHour }),
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

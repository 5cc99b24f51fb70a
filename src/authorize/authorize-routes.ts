import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../errors';
import { oauthParameters } from '../oauth/token-endpoint';
import type { Api } from '../http/api';
import type { Services } from '../services';
import type { PageFrame } from '../pages/layout';
import { messagePage } from '../pages/message-page';
import { AuthorizationFlow } from './authorization-flow';
import { EndSession } from './end-session';
import { sendPage } from './page-response';
import { SignIn } from './sign-in';

export interface AuthorizeLimits {
  /** SPEC §7: failed logins per username and IP, shared with the password grant. */
  readonly failedLogins: RequestHandler;
  /** Wrong second-factor codes per IP, shared with the mfa grant. */
  readonly failedMfa: RequestHandler;
}

const TAG = 'Sign in';
const FORM = ['application/x-www-form-urlencoded'] as const;
const page = (description: string) => ({ description });
const form = (req: Request): Record<string, unknown> => (typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {});
/** What a browser posts is a flat form: anything else (nested JSON, repeated fields) is `invalid_request` before any step runs. */
const flatForm: RequestHandler = (req, _res, next) => {
  if (req.body !== undefined) oauthParameters(req);
  next();
};

/** Marks a request as one of the sign-in forms the limits count (see src/http/rate-limits.ts), then applies the limit with its answer as a page. */
const formLimit = (kind: 'password' | 'second_factor', limit: RequestHandler, frame: PageFrame): RequestHandler[] => [
  (_req, res, next) => {
    res.locals.signInForm = kind;
    next();
  },
  (req, res, next) => {
    void limit(req, res, (error?: unknown) => {
      if (!(error instanceof ApiError) || error.status !== 429) return next(error);
      res.set(error.headers);
      const description = 'Too many failed attempts from here. Wait a few minutes, then try again.';
      sendPage(res, 429, messagePage(frame, 'Too many attempts', description), { problem: { code: 'rate_limited', description } });
    });
  },
];

const authorizeQuery = z.object({
  response_type: z.string(), client_id: z.string(), redirect_uri: z.string(), scope: z.string().optional(), state: z.string().optional(),
  code_challenge: z.string(), code_challenge_method: z.literal('S256'), nonce: z.string().optional(),
  prompt: z.enum(['none', 'login', 'consent']).optional(), max_age: z.string().optional(), login_hint: z.string().optional(),
  response_mode: z.enum(['query', 'form_post']).optional(),
});

/**
 * SPEC §10 authorization endpoint and its pages: `/authorize` (GET, or POST as a form), the sign-in,
 * second-factor and consent forms, and `/end-session`. HTML throughout; errors for the client go
 * back to its redirect URI, the rest are pages.
 */
export function authorizeRoutes(api: Api, router: Router, services: Services, limits: AuthorizeLimits): void {
  const flow = new AuthorizationFlow(services);
  const signIn = new SignIn(flow);
  const endSession = new EndSession(flow);
  const responses = {
    200: page('A page: sign in, consent, or the form_post response'),
    303: page('To the redirect URI with code (or error), state and iss'),
    400: page('An error page: unknown client or redirect URI not registered (never redirected)'),
  };

  api.route(
    router,
    // The query is documented, not parsed by the registry: a bad value must become an error redirect or page, not a JSON 400.
    { method: 'get', path: '/authorize', tag: TAG, summary: 'Authorization endpoint (RFC 6749 §4.1, PKCE S256 required, OIDC Core §3.1.2)', documentedQuery: authorizeQuery, responses },
    (_input, req, res) => flow.authorize(req, res, req.query as Record<string, unknown>),
  );
  api.route(
    router,
    { method: 'post', path: '/authorize', tag: TAG, summary: 'Authorization endpoint with the parameters as a form (OIDC Core §3.1.2.1)', documentedBody: authorizeQuery, bodyTypes: FORM, responses },
    (_input, req, res) => flow.authorize(req, res, form(req)),
  );

  // The forms of an interaction: each posts its CSRF token and interaction id beside its own fields.
  const interaction = { interaction: z.string(), csrf_token: z.string() };
  const forms = [
    {
      path: '/authorize/login', summary: 'The sign-in form: username and password', fields: { username: z.string(), password: z.string() },
      before: formLimit('password', limits.failedLogins, flow.frame), refused: 'CSRF check failed, or e-mail verification pending', limited: 'Too many failed sign-ins',
      handle: signIn.password.bind(signIn),
    },
    {
      path: '/authorize/two-factor', summary: 'The second step of signing in: an authenticator or recovery code', fields: { otp: z.string() },
      before: formLimit('second_factor', limits.failedMfa, flow.frame), refused: 'CSRF check failed', limited: 'Too many wrong codes',
      handle: signIn.secondFactor.bind(signIn),
    },
    {
      path: '/authorize/consent', summary: 'The consent form: Allow or Deny (access_denied)', fields: { decision: z.enum(['allow', 'deny']) },
      before: [], refused: 'CSRF check failed', limited: undefined,
      handle: signIn.consent.bind(signIn),
    },
    {
      path: '/authorize/passkey/options', summary: "The login page script's request for WebAuthn options (JSON `{options}`), bound to this interaction", fields: {},
      before: [], refused: 'CSRF check failed', limited: undefined, ok: page('`{options}`: PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get()'),
      handle: signIn.passkeyOptions.bind(signIn),
    },
    {
      path: '/authorize/passkey', summary: "Signing in with a passkey: the browser's AuthenticationResponseJSON as `response` (no second factor after it)",
      fields: { response: z.string() }, before: [], refused: 'CSRF check failed', limited: undefined,
      handle: signIn.passkey.bind(signIn),
    },
  ];
  for (const { path, summary, fields, before, refused, limited, handle, ...rest } of forms) {
    api.route(
      router,
      {
        method: 'post', path, tag: TAG, summary, bodyTypes: FORM, documentedBody: z.object({ ...interaction, ...fields }), before: [flatForm, ...before],
        responses: { ...responses, ...('ok' in rest ? { 200: rest.ok } : {}), 403: page(refused), ...(limited === undefined ? {} : { 429: page(limited) }) } as Record<number, { description: string }>,
      },
      (_input, req, res) => handle(req, res),
    );
  }

  const endSessionParams = z.object({
    id_token_hint: z.string().optional(), client_id: z.string().optional(), post_logout_redirect_uri: z.string().optional(), state: z.string().optional(),
  });
  const endSessionResponses = { 200: page('Signed out'), 303: page('To the registered post_logout_redirect_uri, with state'), 400: page('The id_token_hint was not issued here') };
  api.route(
    router,
    { method: 'get', path: '/end-session', tag: TAG, summary: 'OIDC RP-Initiated Logout: ends the browser session and its tokens', documentedQuery: endSessionParams, responses: endSessionResponses },
    (_input, req, res) => endSession.handle(req, res, req.query as Record<string, unknown>),
  );
  api.route(
    router,
    { method: 'post', path: '/end-session', tag: TAG, summary: 'OIDC RP-Initiated Logout with the parameters as a form', documentedBody: endSessionParams, bodyTypes: FORM, before: [flatForm], responses: endSessionResponses },
    (_input, req, res) => endSession.handle(req, res, form(req)),
  );
}

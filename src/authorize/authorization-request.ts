import { parseScope } from '../auth/scopes';
import type { ClientRow } from '../db/queries/clients';
import { redirectUriMatches } from '../oauth/redirect-uris';
import { authorizationError, invalidAuthorizationRequest, PageError } from './authorization-errors';

export type Prompt = 'none' | 'login' | 'consent';
export type ResponseMode = 'query' | 'form_post';

/** A checked authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  readonly state: string | undefined;
  /** The scopes asked for; undefined when `scope` was left out. */
  readonly scope: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly prompt: ReadonlySet<Prompt>;
  /** Seconds. */
  readonly maxAge: number | undefined;
  readonly loginHint: string | undefined;
}

/** Where errors go once the client and redirect URI are known: enough to answer any error. */
export type ResponseTarget = Pick<AuthorizationRequest, 'redirectUri' | 'responseMode' | 'state'>;

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/; // RFC 7636 §4.2: S256 gives 43 base64url characters
const PROMPTS = new Set<string>(['none', 'login', 'consent']);
const MAX_LENGTH = 2000;

const unknownClient = () => new PageError(400, 'Unknown application', 'The application that sent you here is not registered with this server.');
const badRedirect = () =>
  new PageError(400, 'Wrong return address', 'The application that sent you here asked to return to an address it has not registered. You were not sent there.');

/** The parameters as single strings: RFC 6749 §3.1 forbids repeating one; too long counts as malformed. */
function singleValues(raw: Record<string, unknown>): { values: Map<string, string>; repeated: string[] } {
  const values = new Map<string, string>();
  const repeated: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'string') values.set(name, value);
    else repeated.push(name);
  }
  return { values, repeated };
}

function optional(values: Map<string, string>, name: string): string | undefined {
  const value = values.get(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_LENGTH) throw invalidAuthorizationRequest(`The parameter "${name}" is too long.`);
  return value;
}

/** The client and the redirect URI, which must be right before anything may be redirected. */
export function responseTarget(client: ClientRow | undefined, values: Map<string, string>, repeated: readonly string[]): ResponseTarget {
  if (!client || repeated.includes('client_id')) throw unknownClient();
  const presented = values.get('redirect_uri');
  if (repeated.includes('redirect_uri')) throw badRedirect();
  // OIDC Core §3.1.2.1 requires it; without one, a client with exactly one registered URI means that one.
  const redirectUri = presented ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined);
  if (redirectUri === undefined || !redirectUriMatches(client.redirect_uris, redirectUri)) throw badRedirect();
  const mode = values.get('response_mode');
  const state = values.get('state');
  // A state too long to echo is left out of the answer, and the request refused for it (below).
  const echoed = state === '' || (state?.length ?? 0) > MAX_LENGTH ? undefined : state;
  return { redirectUri, responseMode: mode === 'form_post' ? 'form_post' : 'query', state: echoed };
}

/** Reads the raw parameters: the client id (for the lookup) and the rest, split by whether they repeat. */
export function rawParameters(raw: Record<string, unknown>): { clientId: string | undefined; values: Map<string, string>; repeated: string[] } {
  const { values, repeated } = singleValues(raw);
  const clientId = values.get('client_id');
  return { clientId: clientId && clientId.length <= 200 ? clientId : undefined, values, repeated };
}

/** Checks the rest of the request against the client; throws an `AuthorizationError` to redirect. */
export function authorizationRequest(client: ClientRow, target: ResponseTarget, values: Map<string, string>, repeated: readonly string[]): AuthorizationRequest {
  if (repeated.length > 0) throw invalidAuthorizationRequest(`The parameter "${repeated[0]}" is given more than once.`);
  optional(values, 'state');
  const mode = values.get('response_mode');
  if (mode !== undefined && mode !== 'query' && mode !== 'form_post') throw invalidAuthorizationRequest('response_mode must be query or form_post.');
  if (values.has('request')) throw authorizationError('request_not_supported', 'Request objects are not supported.');
  if (values.has('request_uri')) throw authorizationError('request_uri_not_supported', 'request_uri is not supported.');
  const responseType = values.get('response_type');
  if (responseType === undefined) throw invalidAuthorizationRequest('The parameter "response_type" is missing.');
  if (responseType !== 'code') throw authorizationError('unsupported_response_type', 'Only response_type=code is supported.');
  if (!client.grant_types.includes('authorization_code')) throw authorizationError('unauthorized_client', 'This client may not use the authorization code flow.');

  // RFC 7636 and RFC 9700 §2.1.1: PKCE for every client, and only S256.
  const challenge = values.get('code_challenge');
  if (challenge === undefined) throw invalidAuthorizationRequest('PKCE is required: send code_challenge with code_challenge_method=S256.');
  if (values.get('code_challenge_method') !== 'S256') throw invalidAuthorizationRequest('code_challenge_method must be S256.');
  if (!PKCE_CHALLENGE.test(challenge)) throw invalidAuthorizationRequest('code_challenge is malformed.');

  const scope = optional(values, 'scope');
  const clientScopes = new Set(parseScope(client.scope));
  const refused = parseScope(scope).filter((s) => !clientScopes.has(s));
  if (refused.length > 0) throw authorizationError('invalid_scope', `The scope "${refused.join(' ')}" is not available to this client.`);

  const prompt = new Set(parseScope(optional(values, 'prompt')));
  for (const value of prompt) if (!PROMPTS.has(value)) throw invalidAuthorizationRequest(`prompt=${value} is not supported.`);
  if (prompt.has('none') && prompt.size > 1) throw invalidAuthorizationRequest('prompt=none cannot be combined with other values.');

  const maxAgeText = optional(values, 'max_age');
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) throw invalidAuthorizationRequest('max_age must be a number of seconds.');

  return {
    clientId: client.id,
    ...target,
    scope,
    nonce: optional(values, 'nonce'),
    codeChallenge: challenge,
    prompt: prompt as Set<Prompt>,
    maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
    loginHint: optional(values, 'login_hint'),
  };
}

// The authorization code flow of a first-party app and a signed-in browser,
// driven by autocannon on the load core: the requests of one flow run in order
// on one connection, sharing autocannon's per-connection context, which it
// resets when the list starts over, i.e. for every new flow.
import { createHash, randomBytes } from 'node:crypto';
import type autocannon from 'autocannon';
import type { CodeFlowSpec, LoadResult, LoadSpec, MintCodesArgs } from '../lib/agent-protocol';
import { autocannonRun, newTally, recordStatus, type Tally } from './http-load';

const FORM = 'application/x-www-form-urlencoded';
const REDIRECT = 303; // the authorization response (src/authorize/authorization-response.ts)

interface FlowContext {
  verifier?: string;
  code?: string;
  accessToken?: string;
}

const locationOf = (headers: Record<string, unknown>) => {
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === 'location');
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
};

/** The token request that redeems a code (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5). */
export const codeGrantBody = (flow: CodeFlowSpec, code: string, verifier: string) =>
  new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: flow.redirectUri }).toString();

/** GET /authorize with a new PKCE pair (S256); the code of the 303 and its verifier go to the context and to `minted`. */
function authorizeRequest(flow: CodeFlowSpec, tally: Tally, minted?: string[]): autocannon.Request {
  return {
    method: 'GET',
    path: '/authorize',
    headers: { cookie: flow.cookie },
    setupRequest(request, context: FlowContext) {
      const verifier = randomBytes(32).toString('base64url');
      context.verifier = verifier;
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: flow.clientId,
        redirect_uri: flow.redirectUri,
        scope: flow.scope,
        state: randomBytes(8).toString('base64url'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      return { ...request, path: `/authorize?${query}` };
    },
    onResponse(status, body, context: FlowContext, headers) {
      recordStatus(tally, status, body, REDIRECT);
      const location = locationOf(headers as Record<string, unknown>);
      const code = location && new URL(location).searchParams.get('code');
      context.code = code ?? 'no-code';
      if (code && minted) minted.push(codeGrantBody(flow, code, context.verifier!));
    },
  };
}

/** `count` codes, each as its token request body; minting is not timed (a separate agent command). */
export async function mintCodes(args: MintCodesArgs): Promise<{ bodies: string[] }> {
  const tally = newTally();
  const bodies: string[] = [];
  const result = await autocannonRun(args, { amount: args.count }, [authorizeRequest(args.flow, tally, bodies)], tally);
  if (result.unexpected > 0) throw new Error(`minting codes: ${result.unexpected} unexpected answers, e.g. ${tally.samples[0] ?? 'a socket error'}`);
  return { bodies };
}

/** Whole flows as fast as the server answers: the rate counts flows that ended with a 200 from /userinfo. */
export async function codeFlowLoad(spec: LoadSpec & { readonly codeFlow: CodeFlowSpec }): Promise<LoadResult> {
  const flow = spec.codeFlow;
  const tally = newTally();
  let flows = 0;
  const token: autocannon.Request = {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': FORM, authorization: flow.authorization },
    setupRequest: (request, context: FlowContext) => ({ ...request, body: codeGrantBody(flow, context.code ?? 'no-code', context.verifier ?? 'no-verifier') }),
    onResponse(status, body, context: FlowContext) {
      recordStatus(tally, status, body);
      context.accessToken = status === 200 ? (JSON.parse(body) as { access_token: string }).access_token : 'no-token';
    },
  };
  const userinfo: autocannon.Request = {
    method: 'GET',
    path: '/userinfo',
    setupRequest: (request, context: FlowContext) => ({ ...request, headers: { authorization: `Bearer ${context.accessToken ?? 'no-token'}` } }),
    onResponse(status, body) {
      recordStatus(tally, status, body);
      if (status === 200) flows++;
    },
  };
  return autocannonRun(spec, spec, [authorizeRequest(flow, tally), token, userinfo], tally, () => flows);
}

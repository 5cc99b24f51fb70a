// What the code-flow workloads need, set up through tessera's own CLI and
// pages: a confidential first-party app (no consent page) and the bench user
// signed in once on the login page, as a browser would be.
import { createHash, randomBytes } from 'node:crypto';
import { basicAuth, BENCH_PASSWORD, BENCH_USER } from './api';
import type { CodeFlowSpec } from './agent-protocol';
import { tesseraCli } from './tessera';

const REDIRECT_URI = 'http://127.0.0.1/callback'; // loopback: any port matches (RFC 8252 §7.3); never followed
const SCOPE = 'openid profile';
const BROWSER_SESSION_COOKIE = 'tessera_session'; // src/authorize/browser-sessions.ts

/** Registers the app `bench-app` with the CLI: confidential, first-party, authorization_code and refresh_token. */
async function addApp(dir: string, databaseUrl: string): Promise<{ clientId: string; clientSecret: string }> {
  const args = ['client', 'add', 'bench-app', '--first-party', '--redirect-uri', REDIRECT_URI, '--scope', SCOPE, '--json'];
  const shown = JSON.parse(await tesseraCli(dir, databaseUrl, args)) as Record<string, unknown>;
  if (typeof shown.client_id !== 'string' || typeof shown.client_secret !== 'string') throw new Error('tessera client add printed no id and secret');
  return { clientId: shown.client_id, clientSecret: shown.client_secret };
}

/** The `name=value` pairs a response sets (attributes dropped). */
const cookiesOf = (res: Response) => res.headers.getSetCookie().map((line) => line.split(';')[0]!);

const unescapeHtml = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The login page's form: where it posts and its hidden fields (interaction, CSRF token). */
function loginForm(page: string): { action: string; fields: Record<string, string> } {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(page);
  if (!form) throw new Error(`no form on the login page: ${page.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[name!] = unescapeHtml(value!);
  return { action: unescapeHtml(form[1]!), fields };
}

/** GET /authorize without a session, then the login form: the browser session's cookie. */
async function signIn(url: string, clientId: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: SCOPE,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  const page = await fetch(`${url}/authorize?${query}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET /authorize without a session: ${page.status} ${html.slice(0, 300)}`);
  const { action, fields } = loginForm(html);
  const signedIn = await fetch(new URL(action, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: cookiesOf(page).join('; ') },
    body: new URLSearchParams({ ...fields, username: BENCH_USER, password: BENCH_PASSWORD }).toString(),
  });
  const session = cookiesOf(signedIn).find((cookie) => cookie.startsWith(`${BROWSER_SESSION_COOKIE}=`));
  if (signedIn.status !== 303 || !session) throw new Error(`signing in on the login page: ${signedIn.status} ${(await signedIn.text()).slice(0, 300)}`);
  return session;
}

/** A first-party app and a signed-in browser for the code-flow workloads. */
export async function codeFlowSetUp(url: string, dir: string, databaseUrl: string): Promise<CodeFlowSpec> {
  const app = await addApp(dir, databaseUrl);
  const { clientId } = app;
  return {
    clientId,
    authorization: basicAuth(app),
    redirectUri: REDIRECT_URI,
    scope: SCOPE,
    cookie: await signIn(url, clientId),
  };
}

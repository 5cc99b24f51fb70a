import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { NewClient } from '../../src/oauth/clients';
import type { TestServer } from '../support/server';
import { PASSWORD } from '../support/users';

export const REDIRECT_URI = 'https://app.example/callback';

/** An app registered for the code flow; `secret` only for confidential ones. */
export interface CodeClient {
  readonly id: string;
  readonly secret: string | undefined;
}

/** Registers a code-flow client in the server's tenant: third-party and confidential unless told. */
export async function codeClient(server: TestServer, options: Partial<Omit<NewClient, 'tenantId'>> = {}): Promise<CodeClient> {
  const { clients, tenantId } = server.tessera.services;
  const { client, secret } = await clients.create({
    tenantId,
    name: 'Example App',
    scope: 'openid profile email offline_access tasks:read tasks:write',
    grantTypes: ['authorization_code', 'refresh_token'],
    confidential: true,
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: ['https://app.example/signed-out'],
    clientUri: 'https://app.example/',
    ...options,
  });
  return { id: client.id, secret };
}

/** A PKCE pair (RFC 7636 §4.1–4.2, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization request parameters of a well-formed code-flow request, with `extra` on top. */
export function authorizeParams(client: CodeClient, challenge: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

/** One answer as a browser sees it: status, headers and the page. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The redirect target, when the answer is a redirect. */
  readonly location: string | undefined;
}

/** A form on a page: where it posts and its hidden fields. */
export interface PageForm {
  readonly action: string;
  readonly fields: Record<string, string>;
}

const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first form of a page and its hidden fields. */
export function formOf(page: string): PageForm {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(page);
  expect(form, `a form on the page:\n${page}`).to.not.equal(null);
  const fields: Record<string, string> = {};
  for (const [, name, value] of form![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[name!] = unescape(value!);
  return { action: unescape(form![1]!), fields };
}

/**
 * A person's browser over plain HTTP: it keeps cookies (per name, whatever their path), does not
 * follow redirects, and posts forms. Enough to drive the pages without Chromium.
 */
export class BrowserAgent {
  readonly cookies = new Map<string, string>();

  constructor(readonly server: TestServer) {}

  /** GET a path of the server (of its tenant, for a tenant's view of it). */
  async get(path: string, query: Record<string, string> = {}): Promise<Answer> {
    const url = new URL(`${this.server.url}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return this.send(url.href, { method: 'GET' });
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    return this.postTo(`${this.server.url}${path}`, fields, headers);
  }

  /** Posts the page's form with `fields` added. */
  async submit(page: string, fields: Record<string, string> = {}): Promise<Answer> {
    const form = formOf(page);
    return this.postTo(new URL(form.action, this.server.url).href, { ...form.fields, ...fields });
  }

  private async postTo(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Signs in on a login page; returns the answer after the password. */
  async signIn(page: string, username: string, password = PASSWORD): Promise<Answer> {
    return this.submit(page, { username, password });
  }

  private async send(url: string, init: RequestInit): Promise<Answer> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    // A browser's Accept: the pages answer errors as pages to it (and as JSON to other clients).
    const headers = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) };
    const res = await fetch(url, { ...init, redirect: 'manual', headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (value === '' || /Expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, body: await res.text(), location: res.headers.get('location') ?? undefined };
  }
}

/** The parameters of a redirect to the client. */
export function redirectParams(answer: Answer): URLSearchParams {
  expect(answer.status, answer.body).to.equal(303);
  expect(answer.location).to.be.a('string');
  return new URL(answer.location!).searchParams;
}

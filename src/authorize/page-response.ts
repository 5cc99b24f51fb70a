import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { FORM_POST_SCRIPT } from '../pages/form-post-page';
import { PASSKEY_SCRIPT } from '../pages/passkey-script';
import type { PageFrame } from '../pages/layout';
import { messagePage } from '../pages/message-page';
import { webStylesheet } from '../web/web-files';
import type { PageError } from './authorization-errors';

const scriptHashes = [FORM_POST_SCRIPT, PASSKEY_SCRIPT].map((script) => `'sha256-${createHash('sha256').update(script).digest('base64')}'`).join(' ');

/** What a page may load and where its forms may go: never framed (clickjacking), and no script but the form post's and the login page's passkey script. */
function contentSecurityPolicy(formTargets: readonly string[], images: readonly string[]): string {
  return [
    "default-src 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    `script-src ${scriptHashes}`,
    `img-src 'self' data: ${images.join(' ')}`.trim(),
    // Signing in ends in a redirect to the client: browsers check form-action against redirects too.
    `form-action 'self' ${formTargets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
  ].join('; ');
}

const originOf = (uri: string | null | undefined): string[] => {
  if (!uri) return [];
  try {
    const url = new URL(uri);
    // A private-use scheme (RFC 8252 §7.1) has no origin: CSP names it by its scheme.
    return [url.origin === 'null' ? url.protocol : url.origin];
  } catch {
    return [];
  }
};

/** What a 4xx page says to a program: the SPEC §2 error body. */
export interface Problem {
  readonly code: string;
  readonly description: string;
}

export interface PageOptions {
  /** For an error page (4xx): the error body sent instead of the page to a client that did not ask for HTML. */
  readonly problem?: Problem;
  /** Where this page's forms, or the redirects they lead to, may go beside this server: the client's redirect URI. */
  readonly redirectUri?: string;
  /** An image the page shows from elsewhere (the client's logo). */
  readonly image?: string | null;
}

/** The frame every page is drawn in: the web client's stylesheet, looked up once. */
export const pageFrame = (): PageFrame => ({ stylesheet: webStylesheet() });

/** Browsers ask for HTML when they navigate or post a form; an API client or a probe does not. */
const wantsHtml = (res: Response) => /\btext\/html\b/.test(res.req.get('accept') ?? '');

/**
 * Sends a server-rendered page with `Cache-Control: no-store` and its own CSP (SPEC §10:
 * `frame-ancestors 'none'`). An error (4xx) goes as the SPEC §2 JSON body to a client that did not
 * ask for HTML: every endpoint's errors stay machine-readable.
 */
export function sendPage(res: Response, status: number, page: string, options: PageOptions = {}): void {
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  if (status >= 400 && !wantsHtml(res)) {
    const problem = options.problem ?? { code: 'invalid_request', description: 'The request was refused.' };
    res.json({ error: problem.code, error_description: problem.description });
    return;
  }
  res
    .set({
      'Content-Security-Policy': contentSecurityPolicy(originOf(options.redirectUri), originOf(options.image)),
      'X-Frame-Options': 'DENY',
    })
    .type('html')
    .send(page);
}

export function sendErrorPage(res: Response, frame: PageFrame, error: PageError): void {
  sendPage(res, error.status, messagePage(frame, error.title, error.description), { problem: { code: error.code, description: error.description } });
}

import type { Response } from 'express';
import { formPostPage } from '../pages/form-post-page';
import type { PageFrame } from '../pages/layout';
import type { ResponseTarget } from './authorization-request';
import { sendPage } from './page-response';

/**
 * Answers the client at its redirect URI: in the query (RFC 6749 §4.1.2), or posted by the browser
 * (OAuth 2.0 Form Post Response Mode). `state` is echoed and `iss` names this server (RFC 9207).
 */
export function respond(res: Response, frame: PageFrame, issuer: string, target: ResponseTarget, parameters: Record<string, string>): void {
  const fields: Record<string, string> = { ...parameters, ...(target.state === undefined ? {} : { state: target.state }), iss: issuer };
  if (target.responseMode === 'form_post') {
    sendPage(res, 200, formPostPage(frame, target.redirectUri, fields), { redirectUri: target.redirectUri });
    return;
  }
  const url = new URL(target.redirectUri);
  for (const [name, value] of Object.entries(fields)) url.searchParams.append(name, value);
  res.set('Cache-Control', 'no-store').redirect(303, url.href);
}

/** An error answer (RFC 6749 §4.1.2.1). */
export function respondWithError(res: Response, frame: PageFrame, issuer: string, target: ResponseTarget, code: string, description: string): void {
  respond(res, frame, issuer, target, { error: code, error_description: description });
}

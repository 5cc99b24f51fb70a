import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import type { Answer } from '../durability/http';

const REQUEST_TIMEOUT_MS = 15_000;

/** A JSON POST whose server has read its headers and half its body, and waits for the rest. */
export interface HeldRequest {
  /** Writes the rest of the body. */
  finish(): void;
  /** The status, headers and JSON body, once the whole answer is read; rejects when the connection fails at any point. */
  readonly answer: Promise<HeldAnswer>;
}

export interface HeldAnswer extends Answer {
  readonly headers: IncomingHttpHeaders;
}

export interface HeldRequestOptions {
  /** The agent that sends it (a keep-alive one keeps the connection open for more requests); Node's global agent by default. */
  readonly agent?: Agent;
}

/**
 * Starts a bearer-authenticated JSON POST to `url` and resolves once the
 * server has begun handling it: `Expect: 100-continue` makes the server answer
 * `100 Continue` when it has parsed the headers, so the request is known to be
 * in flight there, not queued in a kernel buffer. Then half the body is sent.
 */
export function startHeldRequest(url: string, token: string, json: unknown, { agent }: HeldRequestOptions = {}): Promise<HeldRequest> {
  const body = Buffer.from(JSON.stringify(json));
  const half = Math.floor(body.length / 2);
  return new Promise((resolveStarted, rejectStarted) => {
    const req = request(url, {
      method: 'POST',
      agent,
      timeout: REQUEST_TIMEOUT_MS,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': body.length,
        expect: '100-continue',
      },
    });
    const answer = new Promise<HeldAnswer>((resolve, reject) => {
      req.once('error', reject);
      req.once('timeout', () => req.destroy(new Error(`no answer to POST ${url} within ${REQUEST_TIMEOUT_MS} ms`)));
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('error', reject);
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      });
    });
    answer.catch(rejectStarted);
    req.once('continue', () => {
      req.write(body.subarray(0, half));
      resolveStarted({ finish: () => req.end(body.subarray(half)), answer });
    });
    req.flushHeaders();
  });
}

const REQUEST_TIMEOUT_MS = 10_000;

export const PASSWORD = 'correct horse battery';

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * One request to the child server with a JSON or form body; resolves once the
 * whole answer is read, rejects when the connection fails at any point (so a
 * response cut by a crash is never taken for an answer).
 */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Like `call`, but the status must be `status`; returns the body. */
export async function expectCall(status: number, ...args: Parameters<typeof call>): Promise<Record<string, unknown>> {
  const answer = await call(...args);
  if (answer.status !== status) throw new Error(`${args[1]} ${args[2]}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export const passwordGrant = (base: string, username: string) =>
  expectCall(200, base, 'POST', '/token', { form: { grant_type: 'password', username, password: PASSWORD } });

export const refreshGrant = (base: string, refreshToken: string) =>
  call(base, 'POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: refreshToken } });

export const signup = (base: string, username: string) => expectCall(201, base, 'POST', '/signup', { json: { username, password: PASSWORD } });

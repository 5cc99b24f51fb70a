import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

// Belt and braces: request logs never carry these fields, but any object
// logged by mistake is still scrubbed.
const REDACTED_PATHS = [
  'password',
  '*.password',
  'current_password',
  'new_password',
  'client_secret',
  '*.client_secret',
  'refresh_token',
  '*.refresh_token',
  'access_token',
  '*.access_token',
  'token',
  '*.token',
  'ticket',
  '*.ticket',
  'mfa_token',
  '*.mfa_token',
  'otp',
  '*.otp',
  'secret',
  '*.secret',
  'otpauth_uri',
  '*.otpauth_uri',
  'recovery_codes',
  '*.recovery_codes',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

// Any parameter that carries a credential, whether or not the endpoint reads it from the query: a client may put it there.
const SECRET_QUERY_PARAMETERS = new Set([
  'token',
  'ticket',
  'access_token',
  'refresh_token',
  'code',
  'password',
  'current_password',
  'new_password',
  'client_secret',
  'mfa_token',
  'otp',
  'secret',
]);
const QUERY_PARAMETER = /([?&])([^=&#]*)=[^&#]*/g;

/** A parameter name as a server reads it (`%74oken` is `token`), in lower case. */
function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/** Replaces the values of secret-bearing query parameters (`?token=…`, also spelt `?%74oken=…`) in a URL or path. */
export function redactUrl(url: string): string {
  if (!url.includes('=')) return url;
  return url.replace(QUERY_PARAMETER, (parameter: string, separator: string, name: string) =>
    SECRET_QUERY_PARAMETERS.has(parameterName(name)) ? `${separator}${name}=[REDACTED]` : parameter,
  );
}

const LEVEL_COLOURS: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };
const OMITTED = new Set(['time', 'level', 'msg', 'service']);

/** For a person at a terminal: `12:00:01 info  request method=GET status=200`. Secrets are already redacted by then. */
export const prettyDestination: DestinationStream = {
  write(line: string) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
      const level = String(entry.level);
      const fields = Object.entries(entry)
        .filter(([key]) => !OMITTED.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      process.stdout.write(`${time} \x1b[${LEVEL_COLOURS[level] ?? '0'}m${level.padEnd(5)}\x1b[0m ${String(entry.msg ?? '')} ${fields}\n`);
    } catch {
      process.stdout.write(line);
    }
  },
};

/** A pino JSON logger with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tessera' },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

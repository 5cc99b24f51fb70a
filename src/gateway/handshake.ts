import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AccessTokens, Principal } from '../auth/access-tokens';
import { authenticate, bearerToken, requireScope } from '../auth/authenticate';
import { ApiError, forbidden, invalidToken, notFound, rateLimited } from '../errors';
import type { AttemptLimiter } from './attempt-limiter';
import type { TicketStore } from './tickets';

const WS_PATH = /^\/ws\/([^/]+)$/;

async function redeemTicket({ tickets, accessTokens, tenantId }: HandshakeContext, ticket: string): Promise<Principal> {
  const principal = await tickets.redeem(ticket);
  // A ticket opens sockets of the tenant that issued it only (SPEC §8).
  if (!principal || principal.tenantId !== tenantId) throw invalidToken('The ticket is unknown, used or expired.');
  // The ticket was checked when issued; its token may have expired or its session ended since.
  accessTokens.assertLive(principal);
  requireScope(principal, 'messages:read');
  return principal;
}

export interface HandshakeContext {
  /** The tenant the upgrade is for, and its token checks. */
  readonly tenantId: string;
  readonly accessTokens: AccessTokens;
  readonly tickets: TicketStore;
  /** Upgrade attempts per client address (IPv6 by /56, as REST); undefined when RATE_LIMITS=off. */
  readonly attempts: AttemptLimiter | undefined;
  readonly allowedOrigins: readonly string[];
  readonly ip: string;
}

/**
 * Decides an upgrade before any socket exists (SPEC §6): path (as the
 * tenant's routes see it), attempts per IP, Origin, token (query, header or
 * ticket), scope and user. Throws the ApiError to answer with; returns the
 * principal otherwise.
 */
export async function checkUpgrade(req: IncomingMessage, query: URLSearchParams, path: string, context: HandshakeContext): Promise<Principal> {
  const match = WS_PATH.exec(path);
  if (!match) throw notFound('route');
  if (context.attempts && !context.attempts.allow(context.ip)) throw rateLimited(context.attempts.retryAfter());
  const origin = req.headers.origin;
  if (context.allowedOrigins.length > 0 && (origin === undefined || !context.allowedOrigins.includes(origin))) {
    throw forbidden('This Origin may not open sockets.');
  }

  const ticket = query.get('ticket');
  const principal =
    ticket === null
      ? await authenticate(context.accessTokens, query.get('token') ?? bearerToken(req.headers.authorization), 'messages:read')
      : await redeemTicket(context, ticket);
  let username: string;
  try {
    username = decodeURIComponent(match[1]!);
  } catch {
    throw notFound('route');
  }
  if (principal.kind !== 'user' || principal.username?.toLowerCase() !== username.toLowerCase()) {
    throw forbidden('The token belongs to another user.');
  }
  return principal;
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Answers a refused upgrade with a plain HTTP response and the SPEC error body, then drops the connection. */
export function refuse(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.responseBody);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    'Cache-Control': 'no-store',
    ...error.headers,
  };
  const head = `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? 'Error'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  if (socket.writable) socket.end(head + body);
  socket.destroy();
}

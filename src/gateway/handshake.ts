import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Principal } from '../auth/access-tokens';
import { authenticate, authorizationToken, requireScope, type TokenChecks } from '../auth/authenticate';
import type { ProofTarget } from '../auth/dpop';
import { ApiError, forbidden, invalidToken, notFound, rateLimited } from '../errors';
import type { AttemptLimiter } from './attempt-limiter';
import type { TicketStore } from './tickets';

const WS_PATH = /^\/ws\/([^/]+)$/;

async function redeemTicket({ tickets, checks, tenantId }: HandshakeContext, ticket: string): Promise<Principal> {
  const principal = await tickets.redeem(ticket);
  // A ticket opens sockets of the tenant that issued it only (SPEC §8).
  if (!principal || principal.tenantId !== tenantId) throw invalidToken('The ticket is unknown, used or expired.');
  // The ticket was checked when issued; its token may have expired or its session ended since.
  checks.accessTokens.assertLive(principal);
  requireScope(principal, 'messages:read');
  return principal;
}

function presentedToken(req: IncomingMessage, query: URLSearchParams, target: ProofTarget) {
  const inQuery = query.get('token');
  const header = authorizationToken(req.headers.authorization);
  const proof = req.headers.dpop;
  return {
    token: inQuery ?? header?.token,
    scheme: inQuery === null ? (header?.scheme ?? 'Bearer') : 'Bearer',
    proof: Array.isArray(proof) ? proof.join(', ') : proof,
    target,
  } as const;
}

export interface HandshakeContext {
  /** The tenant the upgrade is for, and its token checks. */
  readonly tenantId: string;
  readonly checks: TokenChecks;
  /** The socket's URL as a DPoP proof names it. */
  readonly target: ProofTarget;
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
  // A ticket made with DPoP carries its key's thumbprint (the proof was checked when it was issued); a
  // token in the query is a bearer token, so a bound one is refused there (SPEC §11).
  const principal = ticket === null ? await authenticate(context.checks, presentedToken(req, query, context.target), 'messages:read') : await redeemTicket(context, ticket);
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

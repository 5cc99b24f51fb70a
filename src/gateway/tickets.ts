import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from '../auth/access-tokens';
import { unavailable } from '../errors';

export const TICKET_TTL_SECONDS = 30;

/**
 * One-time WebSocket tickets (SPEC §6): a bearer-authenticated client trades
 * its token for a short random ticket, so no token ends up in a URL.
 * Redeeming a ticket twice, or after 30 s, finds nothing.
 */
export interface TicketStore {
  issue(principal: Principal): Promise<string>;
  redeem(ticket: string): Promise<Principal | undefined>;
}

const newTicket = () => randomBytes(24).toString('base64url');

/** Tickets in this process's memory: the embedded default. */
export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, { principal: Principal; expiresAt: number }>();

  async issue(principal: Principal, now = Date.now()): Promise<string> {
    for (const [ticket, entry] of this.tickets) if (entry.expiresAt <= now) this.tickets.delete(ticket);
    const ticket = newTicket();
    this.tickets.set(ticket, { principal, expiresAt: now + TICKET_TTL_SECONDS * 1000 });
    return ticket;
  }

  async redeem(ticket: string, now = Date.now()): Promise<Principal | undefined> {
    const entry = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return entry && entry.expiresAt > now ? entry.principal : undefined;
  }
}

type StoredPrincipal = Omit<Principal, 'scopes'> & { scopes: string[] };

/** Tickets in Redis, so a ticket issued by one process opens a socket on any other. */
export class RedisTicketStore implements TicketStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async issue(principal: Principal): Promise<string> {
    const ticket = newTicket();
    const stored: StoredPrincipal = { ...principal, scopes: [...principal.scopes] };
    await this.redis.set(this.key(ticket), JSON.stringify(stored), 'EX', TICKET_TTL_SECONDS).catch((error: unknown) => {
      throw unavailable(`ticket store: ${String(error)}`);
    });
    return ticket;
  }

  async redeem(ticket: string): Promise<Principal | undefined> {
    // GETDEL: the read and the delete are one step, so two processes cannot both redeem it.
    const raw = await this.redis.getdel(this.key(ticket)).catch((error: unknown) => {
      throw unavailable(`ticket store: ${String(error)}`);
    });
    if (raw === null) return undefined;
    const stored = JSON.parse(raw) as StoredPrincipal;
    return { ...stored, scopes: new Set(stored.scopes) };
  }

  private key(ticket: string): string {
    return `${this.prefix}ticket:${ticket}`;
  }
}

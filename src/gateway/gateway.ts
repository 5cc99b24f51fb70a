import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyAddr from 'proxy-addr';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/access-tokens';
import { notFound, rateLimited, unavailable } from '../errors';
import { toApiError } from '../http/error-handler';
import { redactUrl } from '../logger';
import type { Services } from '../services';
import type { TenantDirectory } from '../tenants/tenant-directory';
import { AttemptLimiter } from './attempt-limiter';
import { Connection, ignoreSocketError, type ConnectionContext } from './connection';
import { CLOSE, deliveryFrame } from './frames';
import { checkUpgrade, refuse } from './handshake';
import { SocketRegistry } from './registry';
import { socketTarget, type SocketAuth } from './socket-auth';
import { Sequencer } from './sequencer';
import type { BusEvents } from '../bus/bus';
import type { TicketStore } from './tickets';

const SHUTDOWN_GRACE_MS = 2_000;
const GAP_WAIT_MS = 250; // how long an out-of-order message waits for the one before it

/**
 * The client's address as Express's `req.ip` gives it under TRUST_PROXY. With no proxy trusted that is
 * the peer's address, read without parsing X-Forwarded-For as proxy-addr would.
 */
function clientAddressOf(trustProxy: boolean | number | string): (req: IncomingMessage) => string {
  if (trustProxy === false) return (req) => req.socket.remoteAddress ?? '';
  const trust =
    typeof trustProxy === 'boolean'
      ? () => trustProxy
      : typeof trustProxy === 'number'
        ? (_address: string, hop: number) => hop < trustProxy
        : proxyAddr.compile(trustProxy.split(',').map((value) => value.trim()));
  return (req) => proxyAddr(req, trust);
}

const rawPath = (url = '/'): string => url.slice(0, url.search(/[?#]|$/));
/** The query of a request target (`/ws/alice?token=…`), without parsing the rest as a URL. */
const queryOf = (url = '/'): URLSearchParams => new URLSearchParams(/^[^?#]*\?([^#]*)/.exec(url)?.[1] ?? '');

/**
 * The WebSocket gateway at `/ws/:username` (and `/t/<tenant>/ws/:username`)
 * on the same server and port as the REST API. Every decision is made in
 * the `upgrade` event, before a socket exists; accepted sockets speak the
 * frame protocol of `Connection`. Sockets of every tenant share it.
 */
export class Gateway {
  readonly registry = new SocketRegistry<Connection>();
  private readonly wss: WebSocketServer;
  /** Undefined with RATE_LIMITS=off, which turns every rate limit off (the per-user socket limit is a resource limit and stays). */
  private readonly attempts: AttemptLimiter | undefined;
  private readonly clientAddress: (req: IncomingMessage) => string;
  /** What every socket shares: one object, not one (and two closures) per socket. */
  private readonly connectionContext: ConnectionContext;
  private readonly stop: Array<() => void> = [];
  private readonly sequencer: Sequencer;
  private closing = false;

  constructor(
    private readonly services: Services,
    readonly tickets: TicketStore,
    private readonly tenants: TenantDirectory,
  ) {
    const { config, bus } = services;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.ws.maxPayload, perMessageDeflate: false, clientTracking: false });
    this.attempts = config.rateLimits.enabled ? new AttemptLimiter(config.ws.upgradesPerMinute) : undefined;
    this.clientAddress = clientAddressOf(config.trustProxy);
    this.connectionContext = {
      messages: services.messages,
      logger: services.logger,
      limits: config.ws,
      onClose: (closed) => {
        this.registry.remove(closed);
        services.metrics.openSockets.dec();
      },
      onMessageFrame: () => services.metrics.socketMessages.inc({ direction: 'in' }),
    };
    this.sequencer = new Sequencer(
      (tenantId, sessionId, afterSeq, limit) => services.messages.after(tenantId, sessionId, afterSeq, limit),
      (event) => this.fanOut(event),
      { gapWaitMs: GAP_WAIT_MS, onError: (error) => services.logger.error({ err: String(error) }, 'message fan-out failed') },
    );
    this.stop.push(() => this.sequencer.close());
    this.stop.push(
      services.revoked.onAdded((ids) => {
        const revoked = new Set(ids);
        for (const connection of this.registry.all()) if (revoked.has(connection.sessionId)) connection.close(CLOSE.revoked, 'session revoked');
      }),
      tenants.onRemoved((tenantId) => {
        for (const connection of this.registry.all()) if (connection.tenantId === tenantId) connection.close(CLOSE.revoked, 'tenant removed');
      }),
      bus.subscribe('messages.created', (event) => this.sequencer.accept(event)),
      bus.subscribe('push.sent', ({ tenantId, userId, type, data }) => {
        const frame = JSON.stringify({ type: 'push', event: type, data });
        for (const connection of this.registry.ofUser(tenantId, userId)) connection.send(frame);
      }),
    );
    const heartbeat = setInterval(() => {
      for (const connection of this.registry.all()) connection.heartbeat();
    }, config.ws.heartbeatMs);
    heartbeat.unref();
    this.stop.push(() => clearInterval(heartbeat));
  }

  /** Hands one stored message to every local socket of its members but the one that sent it. */
  private fanOut({ tenantId, message, memberIds, origin }: BusEvents['messages.created']): void {
    const { metrics } = this.services;
    // Serialised, encoded and framed once per message, not once per socket.
    const frame = deliveryFrame(message);
    let delivered = 0;
    for (const userId of memberIds) {
      for (const connection of this.registry.ofUser(tenantId, userId)) {
        if (connection.id === origin) continue;
        connection.receive(message, frame);
        delivered += 1;
      }
    }
    if (delivered > 0) {
      metrics.socketMessages.inc({ direction: 'out' }, delivered);
      metrics.fanoutLatency.observe(Math.max(0, Date.now() - Date.parse(message.timestamp)) / 1000);
    }
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', ignoreSocketError);
      void this.upgrade(req, socket, head);
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config, logger } = this.services;
    const ip = this.clientAddress(req);
    let principal: Principal;
    let auth: SocketAuth;
    try {
      // The path as sent, as REST routes see it: URL's pathname resolves "..", and "/t/acme/../../ws/x"
      // would reach another tenant than the one its prefix names (and a proxy's rules for it) say.
      const target = this.tenants.target(req.headers.host, rawPath(req.url));
      const tenant = target && (await this.tenants.get(target.tenantId));
      if (!target || !tenant) throw notFound('tenant');
      auth = { checks: tenant, target: socketTarget(req, target.path, rawPath(req.url), tenant.config.issuer) };
      principal = await checkUpgrade(req, queryOf(req.url), target.path, {
        tenantId: tenant.tenantId,
        ...auth,
        tickets: this.tickets,
        attempts: this.attempts,
        allowedOrigins: config.wsOrigins,
        ip,
      });
      // After the awaits above nothing waits until the socket is registered: handleUpgrade calls back
      // at once (no verifyClient), so the count checked here is the count the socket joins, and no
      // socket is registered once close() has begun and taken its list of sockets to close.
      if (this.closing) throw unavailable('the server is shutting down');
      if (this.registry.count(principal.tenantId, principal.subject) >= config.ws.maxConnectionsPerUser) throw rateLimited(60);
    } catch (error) {
      const apiError = toApiError(error);
      const refusal = () => ({ url: redactUrl(req.url ?? ''), status: apiError.status, code: apiError.code, ip });
      if (apiError.status >= 500) logger.error({ ...refusal(), detail: apiError.internal }, 'socket refused');
      else if (logger.isLevelEnabled('info')) logger.info(refusal(), 'socket refused');
      refuse(socket, apiError);
      return;
    }
    this.accept(req, socket, head, principal, auth, ip);
  }

  /**
   * Completes an upgrade that was decided. Not part of `upgrade`: an open socket's objects would
   * otherwise keep that async function's whole frame (the request, its headers, `head`) alive.
   */
  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal, auth: SocketAuth, ip: string): void {
    const { logger, metrics } = this.services;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(ws, principal, auth, this.connectionContext);
      this.registry.add(connection);
      metrics.openSockets.inc();
      connection.start();
      if (logger.isLevelEnabled('info')) logger.info({ url: redactUrl(req.url ?? ''), user_id: principal.subject, connection_id: connection.id, ip }, 'socket opened');
    });
  }

  /** Refuses upgrades from now on (503), closes every socket with 1001 and waits for them, at most a short grace. */
  async close(): Promise<void> {
    this.closing = true;
    for (const stop of this.stop.splice(0)) stop();
    const open = this.registry.all();
    for (const connection of open) connection.close(CLOSE.goingAway, 'server shutting down');
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (this.registry.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of this.registry.all()) connection.terminate();
  }
}

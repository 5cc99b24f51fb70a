import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { AccountCodeKey } from './accounts/account-code-key';
import { Sessions } from './accounts/sessions';
import { Users } from './accounts/users';
import { createApp } from './app';
import { createHttpServer } from './server';
import { Gateway } from './gateway/gateway';
import { KEY_RELOAD_MS, tokenRetentionMs } from './auth/access-tokens';
import { RevokedSessions } from './auth/revoked-sessions';
import { createLocalBus } from './bus/bus';
import { createRedisBus } from './bus/redis-bus';
import { DpopProofs } from './auth/dpop';
import { DpopNonces } from './auth/dpop-nonces';
import { MemoryProofReplayStore, RedisProofReplayStore } from './auth/dpop-replay';
import { MemoryTicketStore, RedisTicketStore } from './gateway/tickets';
import { redisRateLimitStores } from './http/redis-rate-limit-store';
import { connectRedis } from './redis';
import type { Config } from './config';
import { migrate, openDatabase } from './db/connection';
import { createReads } from './db/reads';
import { createSessionQueries } from './db/queries/sessions';
import { createTenantQueries } from './db/queries/tenants';
import { ApiError } from './errors';
import { createLogger, type Logger } from './logger';
import { createMailer, mailWarning } from './mail/mailer';
import { createMetrics } from './metrics';
import { Clients } from './oauth/clients';
import { RefreshTokens } from './oauth/refresh-tokens';
import type { Services } from './services';
import { MessageStore } from './messages/message-store';
import { MessageWebhook } from './messages/webhook';
import { BUILT_IN_TENANT } from './tenants/tenant';
import { TenantDirectory } from './tenants/tenant-directory';
import { servicesForTenant } from './tenants/tenant-services';

const REVOCATION_POLL_MS = 500; // picks up revocations by other processes on the same database well within SPEC §3.3's 1 s, even without Redis
const REVOCATION_POLL_OVERLAP_MS = 1_000; // finds a revocation whose commit came after the time it is stamped with
const TENANT_POLL_MS = 1_000; // picks up tenant changes made elsewhere (`tenant remove`) even without Redis
const SESSION_PRUNE_MS = 3_600_000; // 1 h
const ENDED_SESSION_RETENTION_MS = 7 * 24 * 3_600_000; // ended sessions stay visible to operators for a week

export interface TesseraOptions {
  readonly logger?: Logger;
  /** Run migrations first (serve does; the CLI's read-only commands may not need to). */
  readonly migrate?: boolean;
  /** The tenant the services are for (the CLI's --tenant); the built-in one by default. */
  readonly tenantId?: string;
  /** What time it is for account-security expiry and TOTP (Services.clock); `Date.now` by default. */
  readonly clock?: () => number;
}

/** One tessera process: its services, its HTTP server, and how to stop it. */
export interface Tessera {
  readonly services: Services;
  readonly app: Express;
  readonly server: Server;
  readonly gateway: Gateway;
  /** Every tenant this process serves; `services` are the built-in tenant's. */
  readonly tenants: TenantDirectory;
  /** Starts listening; resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, finishes requests in flight, closes the database. */
  close(): Promise<void>;
}

/** Builds the services over an opened, migrated database. */
export async function createServices(config: Config, options: TesseraOptions = {}): Promise<Services> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = openDatabase(config.databaseUrl, config.databaseLimits);
  const redis = config.redisUrl ? connectRedis(config.redisUrl, config.redisPrefix, logger) : undefined;
  try {
    if (options.migrate !== false) await migrate(db);
    const metrics = createMetrics();
    const reads = createReads(db);
    const bus = redis ? createRedisBus(redis.commands, redis.subscriber, redis.prefix, logger) : createLocalBus();
    const tenantId = options.tenantId ?? BUILT_IN_TENANT;
    const tenant = await createTenantQueries(db).find(tenantId);
    if (!tenant) throw new Error(`no tenant "${tenantId}"`);
    const revoked = new RevokedSessions(tokenRetentionMs(config.accessTokenTtl));
    const sessions = new Sessions(db, bus);
    const webhook = config.messageWebhook
      ? new MessageWebhook({ ...config.messageWebhook, baseDelayMs: config.messageWebhook.retryBaseMs }, logger.child({ component: 'webhook' }))
      : undefined;
    return await servicesForTenant({
      config,
      logger,
      metrics,
      db,
      reads,
      bus,
      redis,
      revoked,
      sessions,
      users: new Users(db, sessions, config.passwordHashCost, reads),
      clients: new Clients(db, sessions, reads),
      refreshTokens: new RefreshTokens(db, sessions, { reuseGrace: config.refreshReuseGrace, idleTtl: config.refreshIdleTtl, onReuse: () => metrics.refreshReuse.inc() }),
      messages: new MessageStore(db, bus, webhook, logger, (role) => metrics.messagesStored.inc({ role })),
      webhook,
      mailer: createMailer(config, logger),
      accountCodeKey: new AccountCodeKey(db, config.accountCodeKey),
      dpop: new DpopProofs(
        redis ? new RedisProofReplayStore(redis.commands, redis.prefix, logger) : new MemoryProofReplayStore(),
        config.dpopNonces ? new DpopNonces(db) : undefined,
      ),
      clock: options.clock ?? Date.now,
    }, tenant);
  } catch (error) {
    await redis?.close();
    await db.destroy();
    throw error;
  }
}

async function closeServices({ webhook, mailer, bus, redis, reads, db }: Services): Promise<void> {
  webhook?.close();
  await mailer.close();
  reads.close();
  await bus.close();
  await redis?.close();
  await db.destroy();
}

async function bootstrapAdmin({ config, users, tenantId, logger }: Services): Promise<void> {
  if (!config.admin || (await users.queries.countAdmins(tenantId)) > 0) return;
  try {
    await users.create({ tenantId, username: config.admin.username, password: config.admin.password, roles: ['admin'] });
  } catch (error) {
    // Processes of a cluster starting together on a fresh database race to create it: the loser finds the winner's.
    if (error instanceof ApiError && error.code === 'conflict' && (await users.queries.countAdmins(tenantId)) > 0) return;
    throw error;
  }
  logger.info({ username: config.admin.username }, 'created the admin user from ADMIN_USERNAME');
}

/**
 * Keeps this process's view of revocations, keys and tenants current: bus
 * events at once, and a poll of the database as the safety net for
 * processes that share a database without sharing a bus.
 */
async function startBackgroundWork(services: Services, tenants: TenantDirectory): Promise<() => void> {
  const { bus, revoked, db, logger, config } = services;
  const sessionQueries = createSessionQueries(db);
  const guard = (what: string, work: () => Promise<unknown>) => () =>
    void work().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, `${what} failed`));
  const unsubscribe = [
    bus.subscribe('sessions.revoked', ({ ids, at }) => revoked.add(ids, at)),
    bus.subscribe('keys.rotated', ({ tenantId }) => guard('key reload', () => tenants.reloadKeys(tenantId))()),
    bus.subscribe('tenants.changed', ({ tenantId, tenant }) => tenants.apply(tenantId, tenant ?? undefined)),
  ];
  let polledUntil = Date.now() - tokenRetentionMs(config.accessTokenTtl);
  const poll = async () => {
    const now = Date.now();
    for (const row of await sessionQueries.listRevokedSince(polledUntil - REVOCATION_POLL_OVERLAP_MS)) revoked.add([row.id], row.revoked_at!);
    polledUntil = now;
    revoked.prune(now);
  };
  await poll();
  const timers = [
    setInterval(guard('revocation poll', poll), REVOCATION_POLL_MS),
    setInterval(guard('key reload', () => tenants.reloadKeys()), KEY_RELOAD_MS),
    setInterval(guard('tenant refresh', () => tenants.refresh()), TENANT_POLL_MS),
    setInterval(guard('session pruning', () => sessionQueries.deleteEndedBefore(Date.now() - ENDED_SESSION_RETENTION_MS)), SESSION_PRUNE_MS),
  ];
  for (const timer of timers) timer.unref();
  return () => {
    for (const timer of timers) clearInterval(timer);
    for (const stop of unsubscribe) stop();
  };
}

/** Creates a whole tessera process (not yet listening). */
export async function createTessera(config: Config, options: TesseraOptions = {}): Promise<Tessera> {
  const services = await createServices(config, options);
  const { redis, logger } = services;
  const warning = mailWarning(config);
  if (warning) logger.warn(warning);
  const tenants = new TenantDirectory(services);
  let stopBackgroundWork: () => void;
  try {
    await bootstrapAdmin(services);
    stopBackgroundWork = await startBackgroundWork(services, tenants);
  } catch (error) {
    await closeServices(services);
    throw error;
  }
  const gateway = new Gateway(services, redis ? new RedisTicketStore(redis.commands, redis.prefix) : new MemoryTicketStore(), tenants);
  const app = createApp(tenants, gateway, redis ? { rateLimitStore: redisRateLimitStores(redis.commands, redis.prefix, logger) } : {});
  const { server, close: closeHttpServer } = createHttpServer(app, { headersTimeoutMs: config.httpHeadersTimeoutMs });
  gateway.attach(server);

  return {
    services,
    app,
    server,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    gateway,
    tenants,
    async close() {
      stopBackgroundWork();
      // The listener closes first, so that no connection arrives while the gateway closes its sockets (for up to its grace).
      const httpClosed = closeHttpServer();
      await gateway.close();
      await httpClosed;
      await closeServices(services);
    },
  };
}

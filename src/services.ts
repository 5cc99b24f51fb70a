import type { AccountCodeKey } from './accounts/account-code-key';
import type { AccessTokens } from './auth/access-tokens';
import type { DpopProofs } from './auth/dpop';
import type { KeyRing } from './auth/key-ring';
import type { RevokedSessions } from './auth/revoked-sessions';
import type { Sessions } from './accounts/sessions';
import type { Users } from './accounts/users';
import type { Bus } from './bus/bus';
import type { Config } from './config';
import type { Database } from './db/connection';
import type { Reads } from './db/reads';
import type { Logger } from './logger';
import type { Mailer } from './mail/mailer';
import type { Metrics } from './metrics';
import type { MessageStore } from './messages/message-store';
import type { MessageWebhook } from './messages/webhook';
import type { Clients } from './oauth/clients';
import type { RefreshTokens } from './oauth/refresh-tokens';
import type { RedisConnections } from './redis';
import type { TenantSettings } from './tenants/tenant';

/** Everything a route or command needs: built by `createServices`, once per tenant a process serves. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly db: Database;
  /** Hot reads outside transactions (a read-only SQLite connection with cached statements). */
  readonly reads: Reads;
  readonly bus: Bus;
  /** Present when REDIS_URL is set. */
  readonly redis: RedisConnections | undefined;
  /** The tenant these services serve (SPEC §8); every tenant of a process shares the rest. */
  readonly tenantId: string;
  /** That tenant's settings, kept current. */
  readonly tenant: TenantSettings;
  readonly keys: KeyRing;
  readonly revoked: RevokedSessions;
  readonly accessTokens: AccessTokens;
  /** DPoP proof checks (RFC 9449), shared by every tenant: one replay store, one nonce key. */
  readonly dpop: DpopProofs;
  readonly sessions: Sessions;
  readonly users: Users;
  readonly clients: Clients;
  readonly refreshTokens: RefreshTokens;
  readonly messages: MessageStore;
  readonly webhook: MessageWebhook | undefined;
  readonly mailer: Mailer;
  /** The keyed hash of e-mailed codes (one key for every tenant; the tenant is hashed in). */
  readonly accountCodeKey: AccountCodeKey;
  /** Epoch milliseconds now, for the expiry of e-mailed codes and mfa tokens and for TOTP steps (tests move it). */
  readonly clock: () => number;
}

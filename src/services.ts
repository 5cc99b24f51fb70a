import type { AccessTokens } from './auth/access-tokens';
import type { KeyRing } from './auth/key-ring';
import type { RevokedSessions } from './auth/revoked-sessions';
import type { Sessions } from './accounts/sessions';
import type { Users } from './accounts/users';
import type { Bus } from './bus/bus';
import type { Config } from './config';
import type { Database } from './db/connection';
import type { Reads } from './db/reads';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { MessageStore } from './messages/message-store';
import type { MessageWebhook } from './messages/webhook';
import type { Clients } from './oauth/clients';
import type { RefreshTokens } from './oauth/refresh-tokens';
import type { RedisConnections } from './redis';

/** Everything a route or command needs, built once per process by `createTessera`. */
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
  /** The tenant served at the root (SPEC §8). */
  readonly tenantId: string;
  readonly keys: KeyRing;
  readonly revoked: RevokedSessions;
  readonly accessTokens: AccessTokens;
  readonly sessions: Sessions;
  readonly users: Users;
  readonly clients: Clients;
  readonly refreshTokens: RefreshTokens;
  readonly messages: MessageStore;
  readonly webhook: MessageWebhook | undefined;
}

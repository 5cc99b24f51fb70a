import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Sessions } from '../accounts/sessions';
import { ADMIN_SCOPE, formatScope, USER_SCOPES } from '../auth/scopes';
import { createClientQueries, type ClientRow } from '../db/queries/clients';
import type { Reads } from '../db/reads';
import { conflict, notFound } from '../errors';

export const BUILT_IN_CLIENT_ID = 'tessera';
export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface NewClient {
  readonly tenantId: string;
  readonly name: string;
  readonly scope: string;
  readonly grantTypes: readonly GrantType[];
  readonly confidential: boolean;
  /** RFC 9449 §5.2: the client must send a DPoP proof with every token request. */
  readonly dpopBoundAccessTokens?: boolean;
}

// Client secrets are 256 random bits: a fast hash is enough, unlike passwords.
const hashSecret = (secret: string) => hash('sha256', secret, 'hex');

/** Public view of a client, as the admin API and CLI show it. */
export const publicClient = (client: ClientRow) => ({
  client_id: client.id,
  name: client.name,
  scope: client.scope,
  grant_types: client.grant_types,
  confidential: client.confidential,
  dpop_bound_access_tokens: client.dpop_bound_access_tokens,
  created_at: new Date(client.created_at).toISOString(),
});

/** The public client every tenant has, used when a request names no client (SPEC §3.1). */
export const builtInClient = (tenantId: string, now: number): ClientRow => ({
  tenant_id: tenantId,
  id: BUILT_IN_CLIENT_ID,
  name: 'tessera built-in public client',
  secret_hash: null,
  confidential: false,
  grant_types: ['password', 'refresh_token'],
  scope: formatScope([...USER_SCOPES, ADMIN_SCOPE]),
  created_at: now,
  dpop_bound_access_tokens: false,
});

/** OAuth clients: registration, secret checks, removal. */
export class Clients {
  readonly queries: ReturnType<typeof createClientQueries>;

  constructor(
    db: Knex,
    private readonly sessions: Sessions,
    reads?: Reads,
  ) {
    this.queries = createClientQueries(db, reads);
  }

  /** Registers a client; the secret (confidential clients only) is returned this once and stored hashed. */
  async create(client: NewClient, now = Date.now()): Promise<{ client: ClientRow; secret: string | undefined }> {
    const secret = client.confidential ? randomBytes(32).toString('base64url') : undefined;
    const row: ClientRow = {
      tenant_id: client.tenantId,
      id: `c_${randomBytes(12).toString('base64url')}`,
      name: client.name,
      secret_hash: secret === undefined ? null : hashSecret(secret),
      confidential: client.confidential,
      grant_types: [...client.grantTypes],
      scope: client.scope,
      created_at: now,
      dpop_bound_access_tokens: client.dpopBoundAccessTokens ?? false,
    };
    await this.queries.insert(row);
    return { client: row, secret };
  }

  /** True when `secret` is the client's secret (constant time). */
  secretMatches(client: ClientRow, secret: string): boolean {
    if (client.secret_hash === null) return false;
    const expected = Buffer.from(client.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(secret), 'hex');
    return timingSafeEqual(actual, expected);
  }

  /** Removes a client and ends every session it holds. */
  async remove(tenantId: string, id: string): Promise<void> {
    if (id === BUILT_IN_CLIENT_ID) throw conflict('The built-in client cannot be removed.');
    if (!(await this.queries.remove(tenantId, id))) throw notFound('client');
    await this.sessions.revoke({ tenantId, clientId: id }, 'client_removed');
  }
}

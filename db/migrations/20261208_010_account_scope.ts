import type { Knex } from 'knex';

// SPEC §9: the new scope `account` guards managing the account, and is in the default scope of the
// password grant and of first-party clients. The built-in client of every tenant gains it. So do the
// live sessions it started with the whole default user scope (a login that asked for no narrower
// scope): until now any of their tokens could manage the account, and without this every signed-in
// web client would lose its devices page until its user signs in again. Narrower sessions stay narrow.

const ACCOUNT = 'account';
const BUILT_IN_CLIENT = 'tessera';
const FULL_USER_SCOPE = ['tasks:read', 'tasks:write', 'calendar:read', 'calendar:write', 'messages:read', 'messages:write'];
const BATCH = 500;

interface Scoped {
  readonly tenant_id: string;
  readonly id: string;
  readonly scope: string;
}

const scopes = (scope: string) => scope.split(' ').filter(Boolean);
const withAccount = (scope: string) => [...scopes(scope).filter((s) => s !== ACCOUNT), ACCOUNT].join(' ');
const withoutAccount = (scope: string) => scopes(scope).filter((s) => s !== ACCOUNT).join(' ');

/** Sets each row's scope to `change(scope)` where that differs, one update per distinct new scope and batch of ids. */
async function rescope(db: Knex, table: string, rows: readonly Scoped[], change: (scope: string) => string): Promise<void> {
  const byScope = new Map<string, Scoped[]>();
  for (const row of rows) {
    const scope = change(row.scope);
    if (scope !== row.scope) byScope.set(scope, [...(byScope.get(scope) ?? []), row]);
  }
  for (const [scope, changed] of byScope) {
    for (let i = 0; i < changed.length; i += BATCH) {
      const batch = changed.slice(i, i + BATCH);
      await db(table).whereIn(['tenant_id', 'id'], batch.map((row) => [row.tenant_id, row.id])).update({ scope });
    }
  }
}

export async function up(db: Knex): Promise<void> {
  const builtIn: Scoped[] = await db('clients').where({ id: BUILT_IN_CLIENT }).select('tenant_id', 'id', 'scope');
  await rescope(db, 'clients', builtIn, withAccount);
  const live: Scoped[] = await db('sessions')
    .where({ client_id: BUILT_IN_CLIENT })
    .whereNotNull('user_id')
    .whereNull('revoked_at')
    .where('expires_at', '>', Date.now())
    .select('tenant_id', 'id', 'scope');
  const full = live.filter((session) => FULL_USER_SCOPE.every((s) => scopes(session.scope).includes(s)));
  await rescope(db, 'sessions', full, withAccount);
}

export async function down(db: Knex): Promise<void> {
  const builtIn: Scoped[] = await db('clients').where({ id: BUILT_IN_CLIENT }).select('tenant_id', 'id', 'scope');
  await rescope(db, 'clients', builtIn, withoutAccount);
  const sessions: Scoped[] = await db('sessions').where({ client_id: BUILT_IN_CLIENT }).select('tenant_id', 'id', 'scope');
  await rescope(db, 'sessions', sessions, withoutAccount);
}

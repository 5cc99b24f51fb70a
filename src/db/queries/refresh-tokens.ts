import type { Knex } from 'knex';
import { isPostgres } from '../connection';

export interface RefreshTokenRow {
  id: string;
  session_id: string;
  token_hash: string;
  created_at: number;
  rotated_at: number | null;
  successor_id: string | null;
  successor_sealed: string | null;
}

export function createRefreshTokenQueries(db: Knex) {
  const tokens = () => db<RefreshTokenRow>('refresh_tokens');
  return {
    async insert(token: RefreshTokenRow): Promise<void> {
      await tokens().insert(token);
    },
    /** Finds a token by hash, locking its row until the transaction ends (PostgreSQL). */
    async findByHashForUpdate(tokenHash: string): Promise<RefreshTokenRow | undefined> {
      const query = tokens().where({ token_hash: tokenHash });
      if (isPostgres(db)) query.forUpdate();
      return query.first();
    },
    async findById(id: string): Promise<RefreshTokenRow | undefined> {
      return tokens().where({ id }).first();
    },
    async markRotated(id: string, successorId: string, successorSealed: string, now: number): Promise<void> {
      await tokens().where({ id }).update({ rotated_at: now, successor_id: successorId, successor_sealed: successorSealed });
    },
    async findByHash(tokenHash: string): Promise<RefreshTokenRow | undefined> {
      return tokens().where({ token_hash: tokenHash }).first();
    },
  };
}

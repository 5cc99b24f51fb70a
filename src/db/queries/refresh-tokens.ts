import type { Knex } from 'knex';

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
    async findByHash(tokenHash: string): Promise<RefreshTokenRow | undefined> {
      return tokens().where({ token_hash: tokenHash }).first();
    },
  };
}

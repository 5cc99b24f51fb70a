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

/** A new refresh token: the columns a rotation or a new session writes. */
export const INSERT_REFRESH_TOKEN = 'INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) VALUES (?, ?, ?, ?)';
export const newRefreshTokenBindings = (token: RefreshTokenRow) => [token.id, token.session_id, token.token_hash, token.created_at];

export function createRefreshTokenQueries(db: Knex) {
  const tokens = () => db<RefreshTokenRow>('refresh_tokens');
  return {
    async findByHash(tokenHash: string): Promise<RefreshTokenRow | undefined> {
      return tokens().where({ token_hash: tokenHash }).first();
    },
  };
}

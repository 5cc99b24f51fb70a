import type { Knex } from 'knex';

interface ServerSecretRow {
  name: string;
  value: string;
  created_at: number;
}

/** Secrets the server makes for itself on first use and every process then shares. */
export function createServerSecretQueries(db: Knex) {
  const secrets = () => db<ServerSecretRow>('server_secrets');
  return {
    /** The secret of this name: the stored one, or `value` stored now (processes racing to store one all get the winner's). */
    async findOrInsert(name: string, value: string, now: number): Promise<string> {
      await secrets().insert({ name, value, created_at: now }).onConflict('name').ignore();
      const row = await secrets().where({ name }).first();
      if (!row) throw new Error(`the server secret ${name} could not be stored`);
      return row.value;
    },
  };
}

// For the knex CLI (`npx knex migrate:status`); tessera itself migrates on `serve` and `tessera migrate`.
import { knexConfig } from './src/db/connection';

export default knexConfig(process.env.DATABASE_URL ?? 'sqlite:./data/tessera.db');

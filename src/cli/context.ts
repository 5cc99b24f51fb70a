import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import type { Services } from '../services';
import { createServices } from '../tessera';
import { CliError } from './command';

/** Reads `.env` (real environment variables win) and parses the configuration. */
export function cliConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The `--tenant <id>` option of the commands that work inside one tenant (SPEC §8). */
export const tenantOption = { tenant: { type: 'string' } } as const;

/** Runs a command against the configured database (migrated first), as one tenant (the built-in one by default), then closes it. */
export async function withServices(work: (services: Services) => Promise<void>, tenantId?: string): Promise<void> {
  const config = cliConfig();
  const services = await createServices(config, { logger: createLogger('warn'), tenantId });
  try {
    await work(services);
  } finally {
    // With REDIS_URL set (a cluster's environment) open Redis connections would keep the command from exiting.
    await services.redis?.close();
    await services.db.destroy();
  }
}

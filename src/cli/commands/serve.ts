import { createLogger, prettyDestination } from '../../logger';
import { createTessera } from '../../tessera';
import type { Command } from '../command';
import { cliConfig } from '../context';

const SHUTDOWN_DEADLINE_MS = 10_000; // SPEC §7

export const serve: Command = {
  name: 'serve',
  summary: 'start the server (migrates the database and creates signing keys first)',
  usage: 'Usage: tessera serve\n\nConfiguration comes from the environment and .env; see the README.',
  async run() {
    const config = cliConfig();
    // JSON lines for machines; readable lines only for a person at a terminal, never in production.
    const logger = createLogger(config.logLevel, process.stdout.isTTY && !config.production ? prettyDestination : undefined);
    const tessera = await createTessera(config, { logger });
    // A failed listen (port taken) must not leave the database pool holding the process open.
    const port = await tessera.listen().catch(async (error: unknown) => {
      await tessera.close();
      throw error;
    });
    logger.info({ host: config.host, port, issuer: config.issuer, database: config.databaseUrl.split(':')[0] }, 'tessera listening');

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      setTimeout(() => {
        logger.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      tessera.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  },
};

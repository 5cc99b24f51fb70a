import { migrate as runMigrations, openDatabase } from '../../db/connection';
import type { Command } from '../command';
import { cliConfig } from '../context';

export const migrate: Command = {
  name: 'migrate',
  summary: 'bring the database schema up to date',
  usage: 'Usage: tessera migrate',
  async run() {
    const { databaseUrl, databaseLimits } = cliConfig();
    const db = openDatabase(databaseUrl, databaseLimits);
    try {
      const ran = await runMigrations(db);
      process.stdout.write(ran.length === 0 ? 'database is up to date\n' : `ran ${ran.length} migration(s): ${ran.join(', ')}\n`);
    } finally {
      await db.destroy();
    }
  },
};

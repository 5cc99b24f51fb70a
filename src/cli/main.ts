import { CliError, type Command } from './command';
import { client } from './commands/client';
import { doctor } from './commands/doctor';
import { keys } from './commands/keys';
import { migrate } from './commands/migrate';
import { serve } from './commands/serve';
import { tenant } from './commands/tenant';
import { user } from './commands/user';

/** Every `tessera` command, in the order `--help` lists them (the README's CLI table documents each). */
export const COMMANDS: readonly Command[] = [serve, migrate, user, client, keys, tenant, doctor];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `tessera: a token server, REST API and WebSocket gateway in one process

Usage: tessera <command> [options]    (tessera <command> --help for more)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

/** The `tessera` CLI entry point. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new CliError(`unknown command "${name}"\n\n${help()}`, 2);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${command.usage}\n`);
      return;
    }
    await command.run(rest);
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = exitCode;
  }
}

if (require.main === module) void main(process.argv.slice(2));

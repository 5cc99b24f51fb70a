import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { tenantOption, withServices } from '../context';

const usage = `Usage:
  tessera keys list [--json]
  tessera keys rotate        adds a new signing key; the old one stays published until its tokens expire

Options:
  --tenant <id>   the keys of that tenant (default: the built-in one)`;

export const keys: Command = {
  name: 'keys',
  summary: 'list and rotate the token signing keys',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, ...tenantOption, help: { type: 'boolean', short: 'h' } }, usage);
    const [action] = positionals;
    if (values.help || !action) {
      process.stdout.write(`${usage}\n`);
      return;
    }
    await withServices(async ({ keys: ring, config }) => {
      switch (action) {
        case 'list':
          printRows(
            ring.list().map((key) => ({
              kid: key.kid,
              alg: key.alg,
              state: key.retiredAt === null ? 'signing' : 'published',
              created_at: key.createdAt ? new Date(key.createdAt).toISOString() : null,
              retired_at: key.retiredAt === null ? null : new Date(key.retiredAt).toISOString(),
            })),
            values.json === true,
          );
          return;
        case 'rotate':
          if (config.jwtAlg === 'HS256') throw new CliError('HS256 keys come from JWT_SECRET; change the secret to rotate');
          process.stdout.write(`new signing key ${await ring.rotate()}; running servers pick it up within a minute\n`);
          return;
        default:
          throw new CliError(`unknown action "${action}"\n\n${usage}`, 2);
      }
    }, values.tenant);
  },
};

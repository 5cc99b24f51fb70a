import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { tenantOption, withServices } from '../context';

const usage = `Usage:
  tessera keys list [--json]
  tessera keys rotate        adds a new ES256 and RS256 signing key; the old ones stay published until their tokens expire
                             (with JWT_ALG=HS256 access tokens stay signed with JWT_SECRET)

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
        case 'rotate': {
          const kid = await ring.rotate();
          const signing = ring.list().filter((key) => key.retiredAt === null && key.alg !== 'HS256');
          process.stdout.write(`new signing key ${kid}; signing now: ${signing.map((key) => `${key.kid} (${key.alg})`).join(', ')}; running servers pick them up within a minute\n`);
          if (config.jwtAlg === 'HS256') process.stdout.write('access tokens stay signed with JWT_SECRET (HS256); change the secret to rotate that key\n');
          return;
        }
        default:
          throw new CliError(`unknown action "${action}"\n\n${usage}`, 2);
      }
    }, values.tenant);
  },
};

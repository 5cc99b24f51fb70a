import { parseScope } from '../../auth/scopes';
import { newClientBody } from '../../accounts/admin-routes';
import { publicClient } from '../../oauth/clients';
import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { tenantOption, withServices } from '../context';

const usage = `Usage:
  tessera client add <name> [--scope "<scopes>"] [--grant-types client_credentials,...] [--public] [--dpop]
      prints the client id and, for confidential clients, its secret (shown this once only);
      --dpop: every token request of the client needs a DPoP proof (RFC 9449 dpop_bound_access_tokens)
  tessera client list [--json]
  tessera client remove <client_id>                          ends every session of the client

Options:
  --tenant <id>   the clients of that tenant (default: the built-in one)`;

export const client: Command = {
  name: 'client',
  summary: 'register, list and remove OAuth clients',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        scope: { type: 'string' },
        'grant-types': { type: 'string' },
        public: { type: 'boolean' },
        dpop: { type: 'boolean' },
        json: { type: 'boolean' },
        ...tenantOption,
        help: { type: 'boolean', short: 'h' },
      },
      usage,
    );
    const [action, argument] = positionals;
    if (values.help || !action) {
      process.stdout.write(`${usage}\n`);
      return;
    }
    await withServices(async ({ clients, tenantId }) => {
      switch (action) {
        case 'add': {
          const parsed = newClientBody.safeParse({
            name: argument,
            scope: values.scope,
            grant_types: values['grant-types']?.split(',').map((s) => s.trim()),
            confidential: !values.public,
            dpop_bound_access_tokens: values.dpop === true,
          });
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new CliError(`${issue?.path.join('.') || 'name'}: ${issue?.message ?? 'invalid'}\n\n${usage}`, 2);
          }
          const input = parsed.data;
          const { client: created, secret } = await clients.create({
            tenantId,
            name: input.name,
            scope: parseScope(input.scope).join(' '),
            grantTypes: input.grant_types,
            confidential: input.confidential,
            dpopBoundAccessTokens: input.dpop_bound_access_tokens,
          });
          const shown = { ...publicClient(created), ...(secret === undefined ? {} : { client_secret: secret }) };
          if (values.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          else {
            process.stdout.write(`client_id:     ${created.id}\n`);
            if (secret !== undefined) process.stdout.write(`client_secret: ${secret}\n(the secret is shown this once only; store it now)\n`);
          }
          return;
        }
        case 'list':
          printRows((await clients.queries.list(tenantId)).map(publicClient), values.json === true);
          return;
        case 'remove': {
          if (!argument) throw new CliError(`a client id is required\n\n${usage}`, 2);
          await clients.remove(tenantId, argument).catch((error: unknown) => {
            throw new CliError(error instanceof Error ? error.message.replace(/^\w+: /, '') : String(error));
          });
          process.stdout.write(`removed client ${argument}; its sessions have ended\n`);
          return;
        }
        default:
          throw new CliError(`unknown action "${action}"\n\n${usage}`, 2);
      }
    }, values.tenant);
  },
};

import type { TenantRow } from '../../db/queries/tenants';
import { issuerOf, tenantJson } from '../../tenants/tenant';
import { newTenantBody } from '../../tenants/tenant-routes';
import { Tenants } from '../../tenants/tenants';
import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { withServices } from '../context';

const usage = `Usage:
  tessera tenant add <id> [--name "<name>"] [--signup open|closed] [--json]
      served under /t/<id> (and at the root of any host TENANT_HOSTS maps to it), issuer <ISSUER>/t/<id>;
      without --signup it follows SIGNUP. Its first admin: tessera user add --tenant <id> --admin <username>
  tessera tenant list [--json]
  tessera tenant remove <id>      deletes the tenant with all its users, clients, sessions, keys and data`;

const failure = (error: unknown) => new CliError(error instanceof Error ? error.message.replace(/^\w+: /, '') : String(error));

export const tenant: Command = {
  name: 'tenant',
  summary: 'add, list and remove tenants',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { name: { type: 'string' }, signup: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      usage,
    );
    const [action, id] = positionals;
    if (values.help || !action) {
      process.stdout.write(`${usage}\n`);
      return;
    }
    await withServices(async ({ db, bus, config }) => {
      const tenants = new Tenants(db, bus, config.issuer);
      const shown = (row: TenantRow) => tenantJson(row, issuerOf(config.issuer, row.id), config.signup);
      switch (action) {
        case 'add': {
          const parsed = newTenantBody.safeParse({ id, name: values.name, signup: values.signup });
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new CliError(`${issue?.path.join('.') || 'id'}: ${issue?.message ?? 'invalid'}\n\n${usage}`, 2);
          }
          const added = shown(await tenants.create(parsed.data).catch((error: unknown) => Promise.reject(failure(error))));
          if (values.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
          else process.stdout.write(`added tenant ${added.id}: issuer ${added.issuer}, sign-up ${added.signup}\n`);
          return;
        }
        case 'list':
          printRows((await tenants.queries.list()).map(shown), values.json === true);
          return;
        case 'remove':
          if (!id) throw new CliError(`a tenant id is required\n\n${usage}`, 2);
          await tenants.remove(id).catch((error: unknown) => Promise.reject(failure(error)));
          process.stdout.write(`removed tenant ${id} and everything in it\n`);
          return;
        default:
          throw new CliError(`unknown action "${action}"\n\n${usage}`, 2);
      }
    });
  },
};

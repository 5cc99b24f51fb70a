import type { z } from 'zod';
import { emailSchema, passwordSchema, usernameSchema } from '../../accounts/account-rules';
import { TwoFactor } from '../../accounts/two-factor';
import type { Services } from '../../services';
import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { tenantOption, withServices } from '../context';
import { readNewPassword } from '../password-input';
import { userPasskeys } from './user-passkeys';

const usage = `Usage:
  tessera user add <username> [--admin] [--email <address>]   password from a prompt, or stdin
  tessera user list [--json]
  tessera user disable <username>                            ends every session of the user
  tessera user enable <username>
  tessera user passwd <username>                             ends every session of the user
  tessera user 2fa-off <username>                            turns two-factor sign-in off; ends every session of the user
  tessera user passkeys <username> [--json]                  lists the user's passkeys
  tessera user passkeys <username> --remove <id>             removes one: it signs in no more; sessions go on

Options:
  --tenant <id>   the users of that tenant (default: the built-in one)`;

function valid<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new CliError(`${what} ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return result.data;
}

async function findUser(services: Services, username: string | undefined) {
  if (!username) throw new CliError(`a username is required\n\n${usage}`, 2);
  const user = await services.users.queries.findByUsername(services.tenantId, username);
  if (!user) throw new CliError(`no user "${username}"`);
  return user;
}

export const user: Command = {
  name: 'user',
  summary: 'add, list, disable, enable users, set passwords, turn two-factor sign-in off, list and remove passkeys',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { admin: { type: 'boolean' }, email: { type: 'string' }, json: { type: 'boolean' }, remove: { type: 'string' }, ...tenantOption, help: { type: 'boolean', short: 'h' } },
      usage,
    );
    const [action, username] = positionals;
    if (values.help || !action) {
      process.stdout.write(`${usage}\n`);
      return;
    }
    await withServices(async (services) => {
      switch (action) {
        case 'add': {
          const name = valid(usernameSchema, username, 'username');
          const email = values.email === undefined ? undefined : valid(emailSchema, values.email, 'email');
          const password = valid(passwordSchema, await readNewPassword(), 'password');
          const created = await services.users
            .create({ tenantId: services.tenantId, username: name, password, email, roles: values.admin ? ['admin'] : [] })
            .catch((error: unknown) => {
              throw new CliError(error instanceof Error ? error.message.replace(/^conflict: /, '') : String(error));
            });
          process.stdout.write(`created user ${created.username} (${created.id})${values.admin ? ' with role admin' : ''}\n`);
          return;
        }
        case 'list': {
          const users = await services.users.queries.list(services.tenantId);
          printRows(
            users.map((u) => ({ id: u.id, username: u.username, email: u.email, roles: u.roles, disabled: u.disabled, created_at: new Date(u.created_at).toISOString() })),
            values.json === true,
          );
          return;
        }
        case 'disable':
        case 'enable': {
          const found = await findUser(services, username);
          await services.users.setDisabled(found, action === 'disable');
          process.stdout.write(`${action}d user ${found.username}\n`);
          return;
        }
        case 'passwd': {
          const found = await findUser(services, username);
          await services.users.setPassword(found, valid(passwordSchema, await readNewPassword(), 'password'));
          process.stdout.write(`changed the password of ${found.username}; their sessions have ended\n`);
          return;
        }
        case '2fa-off': {
          const found = await findUser(services, username);
          const wasOn = await new TwoFactor(services).switchOff(found.id);
          process.stdout.write(`${wasOn ? 'turned two-factor sign-in off for' : 'two-factor sign-in was already off for'} ${found.username}; their sessions have ended\n`);
          return;
        }
        case 'passkeys':
          await userPasskeys(services, await findUser(services, username), { remove: values.remove, json: values.json });
          return;
        default:
          throw new CliError(`unknown action "${action}"\n\n${usage}`, 2);
      }
    }, values.tenant);
  },
};

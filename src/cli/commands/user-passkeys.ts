import { Passkeys, publicPasskey } from '../../accounts/passkeys';
import type { UserRow } from '../../db/queries/users';
import type { Services } from '../../services';
import { CliError, printRows } from '../command';

/** `tessera user passkeys <name> [--remove <id>] [--json]`: lists a user's passkeys, or removes one (it signs in no more; sessions go on). */
export async function userPasskeys(services: Services, user: UserRow, options: { remove?: string; json?: boolean }): Promise<void> {
  const passkeys = new Passkeys(services);
  if (options.remove !== undefined) {
    await passkeys.remove(user.id, options.remove).catch(() => {
      throw new CliError(`${user.username} has no passkey "${options.remove}"`);
    });
    process.stdout.write(`removed passkey ${options.remove} of ${user.username}; their sessions go on\n`);
    return;
  }
  printRows((await passkeys.list(user.id)).map(publicPasskey), options.json === true);
}

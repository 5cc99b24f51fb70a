import type { z } from 'zod';
import type { ClientRow } from '../../db/queries/clients';
import { ApiError } from '../../errors';
import { clientPatchBody, newClientBody, newClientOf, updateClient } from '../../oauth/client-metadata';
import { publicClient } from '../../oauth/clients';
import { CliError, parseCommandArgs, printRows, type Command } from '../command';
import { tenantOption, withServices } from '../context';

const usage = `Usage:
  tessera client add <name> [options]
      prints the client id and, for confidential clients, its secret (shown this once only)
    --scope "<scopes>"                what the client may ask for (default: the resource scopes and
                                      openid profile email offline_access for authorization_code
                                      clients, nothing for the others)
    --grant-types <list>              comma-separated: authorization_code, refresh_token, password,
                                      client_credentials (default: authorization_code,refresh_token
                                      with --redirect-uri, else client_credentials)
    --redirect-uri <uri>              repeatable; https, http on 127.0.0.1/[::1]/localhost (any port
                                      on the IP literals), or a private-use scheme (com.example.app:/cb)
    --post-logout-redirect-uri <uri>  repeatable; where end-session may send the browser back
    --public                          no secret (token endpoint auth method none): browser and native apps
    --auth-method <method>            client_secret_basic, client_secret_post or none; without it a
                                      confidential client may send its secret either way (listed as
                                      either; null with --json)
    --first-party                     skips the consent page
    --id-token-alg RS256|ES256        how its id tokens are signed (default RS256)
    --client-uri <url> / --logo-uri <url>   shown on the consent page
    --dpop                            every token request of the client needs a DPoP proof
                                      (RFC 9449 dpop_bound_access_tokens)
  tessera client update <client_id> [options]
      changes what the options give (--redirect-uri and --post-logout-redirect-uri replace the
      lists); also --name <name>, and --third-party to undo --first-party
  tessera client list [--json]
  tessera client remove <client_id>   ends every session of the client

Options:
  --tenant <id>   the clients of that tenant (default: the built-in one)`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** The metadata the options of `add` and `update` give, in the admin API's field names. */
const metadataOf = (values: Values) => ({
  scope: values.scope,
  grant_types: (values['grant-types'] as string | undefined)?.split(',').map((s) => s.trim()),
  token_endpoint_auth_method: values['auth-method'],
  redirect_uris: values['redirect-uri'],
  post_logout_redirect_uris: values['post-logout-redirect-uri'],
  first_party: values['third-party'] ? false : values['first-party'],
  id_token_signed_response_alg: values['id-token-alg'],
  client_uri: values['client-uri'],
  logo_uri: values['logo-uri'],
  dpop_bound_access_tokens: values.dpop,
});

function parsed<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CliError(`${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}\n\n${usage}`, 2);
}

const detailsOf = (error: ApiError) =>
  ((error.body.details ?? []) as Array<{ field: string; message: string }>).map((d) => `\n  ${d.field}: ${d.message}`).join('');

const listed = (client: ClientRow) => ({
  client_id: client.id,
  name: client.name,
  grant_types: client.grant_types,
  // null (JSON): a confidential client registered without a method, which may use either.
  auth_method: client.token_endpoint_auth_method ?? 'either',
  first_party: client.first_party,
  redirect_uris: client.redirect_uris,
});

export const client: Command = {
  name: 'client',
  summary: 'register, change, list and remove OAuth clients',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        scope: { type: 'string' },
        'grant-types': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean' },
        'auth-method': { type: 'string' },
        'first-party': { type: 'boolean' },
        'third-party': { type: 'boolean' },
        name: { type: 'string' },
        'id-token-alg': { type: 'string' },
        'client-uri': { type: 'string' },
        'logo-uri': { type: 'string' },
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
          const input = parsed(newClientBody, {
            name: argument,
            ...metadataOf(values),
            ...(values.public && { confidential: false }),
            token_endpoint_auth_method: values['auth-method'] ?? (values.public ? 'none' : undefined),
          });
          const { client: created, secret } = await clients.create(newClientOf(tenantId, input));
          const shown = { ...publicClient(created), ...(secret === undefined ? {} : { client_secret: secret }) };
          if (values.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          else {
            process.stdout.write(`client_id:     ${created.id}\n`);
            if (secret !== undefined) process.stdout.write(`client_secret: ${secret}\n(the secret is shown this once only; store it now)\n`);
          }
          return;
        }
        case 'update': {
          if (!argument) throw new CliError(`a client id is required\n\n${usage}`, 2);
          const patch = parsed(clientPatchBody, { name: values.name, ...metadataOf(values) });
          const updated = await updateClient(clients, tenantId, argument, patch).catch((error: unknown) => {
            throw new CliError(error instanceof ApiError ? `${error.description}${detailsOf(error)}` : String(error));
          });
          if (values.json) process.stdout.write(`${JSON.stringify(publicClient(updated), null, 2)}\n`);
          else process.stdout.write(`updated client ${updated.id}\n`);
          return;
        }
        case 'list': {
          const rows = await clients.queries.list(tenantId);
          printRows(values.json ? rows.map(publicClient) : rows.map(listed), values.json === true);
          return;
        }
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

import type { Requester } from './resources.js';
import type { Passkey, PasskeyCreationOptions } from './types.js';

const at = (id: string) => `/me/passkeys/${encodeURIComponent(id)}`;

/**
 * Passkeys of the logged-in user (scope `account`): `options` with the current password, then the
 * browser's answer to them (`navigator.credentials.create`, as JSON) to `register`.
 */
export function passkeys(request: Requester) {
  return {
    list: () => request<Passkey[]>('GET', '/me/passkeys'),
    /** A wrong password rejects with 403 `forbidden`, and counts as a failed login. */
    options: (password: string) => request<PasskeyCreationOptions>('POST', '/me/passkeys/options', { password }),
    register: (response: unknown, name?: string) => request<Passkey>('POST', '/me/passkeys', { response, ...(name === undefined ? {} : { name }) }),
    rename: (id: string, name: string) => request<Passkey>('PATCH', at(id), { name }),
    /** The passkey signs in no more; sessions go on. */
    remove: (id: string) => request<void>('DELETE', at(id)),
  };
}

import { browserSupportsWebAuthn, startRegistration, type PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import type { Passkey, TesseraClient } from 'tessera/client';
import { describe, field, h, value, when } from './dom';

/**
 * "Passkeys" of the devices view: the list, each with rename and remove, and adding one (the current
 * password first, as the server asks, then the browser's own passkey dialog).
 */
export function passkeysSection(client: TesseraClient, notify: (text: string) => void): HTMLElement {
  const section = h('section', { class: 'card', 'aria-labelledby': 'passkeys-title' });
  const heading = h('h2', { id: 'passkeys-title' }, 'Passkeys');
  const list = h('ul', { class: 'list', 'aria-label': 'Passkeys' });
  const run = (work: () => Promise<unknown>) => work().then(render).catch((error: unknown) => notify(describe(error)));

  const row = (passkey: Passkey) =>
    h(
      'li',
      { class: 'item' },
      h('span', {}, h('strong', {}, passkey.name), passkey.backed_up ? h('span', { class: 'badge' }, 'Synced') : null,
        h('br'), h('small', { class: 'muted' }, `added ${when(passkey.created_at)} · ${passkey.last_used_at ? `used ${when(passkey.last_used_at)}` : 'not used yet'}`)),
      h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Rename ${passkey.name}`,
        onclick: () => {
          const name = prompt('New name', passkey.name)?.trim();
          if (name) void run(() => client.passkeys.rename(passkey.id, name));
        },
      }, 'Rename'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${passkey.name}`, onclick: () => void run(() => client.passkeys.remove(passkey.id)) }, 'Remove'),
    );

  // The server asks for the password again (SPEC §9): a borrowed or stolen session alone cannot add a passkey.
  const form = h('form', {},
    field('Current password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 256 }),
    field('Name (optional)', { name: 'name', maxlength: 100, placeholder: 'e.g. Work laptop' }),
    h('button', { type: 'submit' }, 'Add a passkey'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = String(new FormData(form).get('password') ?? '');
    const name = value(form, 'name') || undefined;
    void run(async () => {
      const options = await client.passkeys.options(password);
      const response = await startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON });
      await client.passkeys.register(response, name);
      form.reset();
      notify('Passkey added.');
    });
  });

  async function render(): Promise<void> {
    list.replaceChildren(...(await client.passkeys.list()).map(row));
  }

  const supported = browserSupportsWebAuthn();
  section.replaceChildren(heading, h('p', {}, 'Sign in with your fingerprint, face or screen lock instead of a password.'), list,
    supported ? form : h('p', { class: 'muted' }, 'This browser cannot create passkeys.'));
  render().catch((error: unknown) => notify(describe(error)));
  return section;
}

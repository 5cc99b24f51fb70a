import type { TesseraClient, TwoFactorEnrolment } from 'tessera/client';
import { describe, field, h, value } from './dom';

/** The Base32 secret in groups of four, as people type it into an app. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

/**
 * "Two-step sign-in" of the devices view: its state, turning it on (the key, a link for an
 * authenticator app, the recovery codes, and a first code to confirm) and turning it off.
 */
export function twoFactorSection(client: TesseraClient, notify: (text: string) => void): HTMLElement {
  const section = h('section', { class: 'card', 'aria-labelledby': 'two-factor-title' });
  const heading = h('h2', { id: 'two-factor-title' }, 'Two-step sign-in');

  /** A one-field form whose submit runs `work`, then shows the section afresh. */
  const codeForm = (label: string, button: string, danger: boolean, work: (code: string) => Promise<unknown>) => {
    const form = h('form', {}, field(label, { name: 'code', required: true, autocomplete: 'one-time-code', autocapitalize: 'none', maxlength: 20 }),
      h('button', { type: 'submit', class: danger ? 'danger' : undefined }, button));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      work(value(form, 'code')).then(render).catch((error: unknown) => notify(describe(error)));
    });
    return form;
  };

  function showEnrolment(enrolment: TwoFactorEnrolment): void {
    section.replaceChildren(
      heading,
      h('p', {}, 'Add this key to your authenticator app (or ', h('a', { href: enrolment.otpauth_uri }, 'open it in the app'), '):'),
      h('p', {}, h('code', { class: 'secret' }, grouped(enrolment.secret))),
      h('p', {}, 'Recovery codes: each works once, when you do not have the app. Keep them somewhere safe; they are not shown again.'),
      h('ul', { class: 'codes', 'aria-label': 'Recovery codes' }, ...enrolment.recovery_codes.map((code) => h('li', {}, h('code', {}, code)))),
      codeForm('Code from the app', 'Confirm', false, (code) => client.twoFactor.confirm(code)),
    );
  }

  async function render(): Promise<void> {
    const status = await client.twoFactor.status();
    if (status.enabled) {
      section.replaceChildren(
        heading,
        h('p', {}, `On · ${status.recovery_codes_left} recovery codes left.`),
        codeForm('Code (or a recovery code) to turn it off', 'Turn off', true, (code) => client.twoFactor.disable(code)),
      );
      return;
    }
    const start = h('button', { type: 'button' }, 'Turn on two-step sign-in');
    start.addEventListener('click', () => void client.twoFactor.enrol().then(showEnrolment, (error: unknown) => notify(describe(error))));
    section.replaceChildren(heading, h('p', {}, 'Off. Turn it on to be asked for a code from an authenticator app at every sign-in.'), start);
  }

  render().catch((error: unknown) => notify(describe(error)));
  return section;
}

import type { TesseraClient, TwoFactorEnrolment } from 'tessera/client';
import { describe, field, h } from './dom';

/** The Base32 secret in groups of four, as people type it into an app. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

/**
 * "Two-step sign-in" of the devices view: its state, turning it on (the current password first,
 * then the key, a link for an authenticator app, the recovery codes, and a first code to confirm)
 * and turning it off.
 */
export function twoFactorSection(client: TesseraClient, notify: (text: string) => void): HTMLElement {
  const section = h('section', { class: 'card', 'aria-labelledby': 'two-factor-title' });
  const heading = h('h2', { id: 'two-factor-title' }, 'Two-step sign-in');

  /** A form of one field named `answer`, whose submit runs `work` with what was typed (as typed: passwords are not trimmed). */
  const oneFieldForm = (input: HTMLLabelElement, button: string, danger: boolean, work: (answer: string) => Promise<void>) => {
    const form = h('form', {}, input, h('button', { type: 'submit', class: danger ? 'danger' : undefined }, button));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      work(String(new FormData(form).get('answer') ?? '')).catch((error: unknown) => notify(describe(error)));
    });
    return form;
  };
  /** A form for a code from the app (or a recovery code) that runs `work`, then shows the section afresh. */
  const codeForm = (label: string, button: string, danger: boolean, work: (code: string) => Promise<unknown>) =>
    oneFieldForm(field(label, { name: 'answer', required: true, autocomplete: 'one-time-code', autocapitalize: 'none', maxlength: 20 }), button, danger,
      (code) => work(code.trim()).then(render));

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
    // The server asks for the password again (SPEC §9): a borrowed or stolen session alone cannot turn it on.
    const start = oneFieldForm(
      field('Current password', { name: 'answer', type: 'password', required: true, autocomplete: 'current-password', maxlength: 256 }),
      'Turn on two-step sign-in', false, (password) => client.twoFactor.enrol(password).then(showEnrolment));
    section.replaceChildren(heading, h('p', {}, 'Off. Turn it on to be asked for a code from an authenticator app at every sign-in.'), start);
  }

  render().catch((error: unknown) => notify(describe(error)));
  return section;
}

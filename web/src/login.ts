import { TesseraError, type TesseraClient } from 'tessera/client';
import { describe, field, h, value, type Child } from './dom';

/**
 * One card of the sign-in flow: a heading, some text, fields and buttons. `submit` gets the
 * form and the submitting button's value; a sentence it returns, or what it throws, is shown in the card's alert.
 */
function card(main: HTMLElement, title: string, children: Child[], submit: (form: HTMLFormElement, action: string) => Promise<string | void>, notice = ''): void {
  const error = h('p', { class: 'error', role: 'alert' }, notice);
  const form = h('form', { class: 'card', 'aria-labelledby': 'login-title' }, h('h1', { id: 'login-title' }, title), ...children, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    form.setAttribute('aria-busy', 'true');
    try {
      error.textContent = (await submit(form, (event.submitter as HTMLButtonElement | null)?.value ?? '')) ?? '';
    } catch (failure) {
      error.textContent = describe(failure);
    } finally {
      form.removeAttribute('aria-busy');
    }
  });
  main.replaceChildren(form);
  const inputs = [...form.querySelectorAll('input')];
  (inputs.find((input) => !input.value) ?? inputs[0])?.focus();
}

/**
 * Submit buttons; a secondary one is outlined, a link one looks like a link, and `skip` and link
 * ones submit without the fields being checked (Back, Send again, Forgot password?).
 */
const buttons = (...items: Array<[label: string, action: string, kind?: 'secondary' | 'skip' | 'link']>) =>
  h('div', { class: 'row' }, ...items.map(([label, action, kind]) =>
    h('button', { type: 'submit', name: 'action', value: action, class: kind === 'link' ? 'link' : kind ? 'secondary' : undefined, formnovalidate: kind === 'skip' || kind === 'link' }, label)));

const codeField = (label: string, digitsOnly: boolean) =>
  field(label, { name: 'code', required: true, autocomplete: 'one-time-code', autocapitalize: 'none', ...(digitsOnly ? { inputmode: 'numeric', pattern: '\\s*\\d{6}\\s*', maxlength: 8 } : { maxlength: 20 }) });

/** Sign in, or create an account and sign in; `done` runs once signed in. */
export function showLogin(main: HTMLElement, client: TesseraClient, notice: string, done: () => void): void {
  const restart = () => showLogin(main, client, '', done);

  /** The password grant, and what the server may ask for next: a second factor, or the e-mailed code. */
  async function signIn(username: string, password: string): Promise<void> {
    try {
      await client.login(username, password);
      done();
    } catch (failure) {
      if (!(failure instanceof TesseraError)) throw failure;
      if (failure.code === 'mfa_required') secondFactor();
      else if (failure.body.verification_pending === true) verifyEmail(username, password);
      else throw failure;
    }
  }

  async function createAccount(username: string, password: string, email?: string): Promise<void> {
    try {
      const created = await client.signup({ username, password, ...(email ? { email } : {}) });
      if (created.verification_pending) verifyEmail(username, password);
      else await signIn(username, password);
    } catch (failure) {
      const wantsEmail = failure instanceof TesseraError && JSON.stringify(failure.details ?? []).includes('"field":"email"');
      if (wantsEmail && !email) askEmail(username, password);
      else throw failure;
    }
  }

  function askEmail(username: string, password: string): void {
    card(main, 'Your e-mail address', [
      h('p', {}, 'This server sends a code to your e-mail address before the account can be used.'),
      field('E-mail', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: 254 }),
      buttons(['Create account', 'signup'], ['Back', 'back', 'skip']),
    ], async (form, action) => (action === 'back' ? restart() : createAccount(username, password, value(form, 'email'))));
  }

  function verifyEmail(username: string, password: string): void {
    card(main, 'Check your e-mail', [
      h('p', {}, 'Enter the 6-digit code we sent to your e-mail address. It works for 10 minutes.'),
      codeField('Code', true),
      buttons(['Verify', 'verify'], ['Send a new code', 'resend', 'skip']),
    ], async (form, action) => {
      if (action === 'resend') {
        await client.resendVerification(username);
        return 'A new code is on its way (one a minute at most).';
      }
      await client.verifySignup(username, value(form, 'code'));
      await signIn(username, password);
    });
  }

  /** Forgot password, step 1: a username or an address, to mail a reset code to. */
  function forgotPassword(typed: string): void {
    card(main, 'Reset your password', [
      h('p', {}, 'Enter your username or the e-mail address of your account, and we send a code to the address the account has.'),
      field('Username or e-mail', { name: 'who', autocomplete: 'username', autocapitalize: 'none', required: true, maxlength: 254, value: typed || undefined }),
      buttons(['Send code', 'send'], ['Back', 'back', 'skip']),
    ], async (form, action) => {
      if (action === 'back') return restart();
      const who = value(form, 'who');
      const identifier = who.includes('@') ? { email: who } : { username: who };
      await client.forgotPassword(identifier);
      resetPassword(identifier, 'username' in identifier ? who : '');
    });
  }

  /** Forgot password, step 2: the mailed code and a new password; then signs in with it. */
  function resetPassword(identifier: { username: string } | { email: string }, username: string): void {
    card(main, 'Choose a new password', [
      h('p', {}, 'If the account has an e-mail address, a 6-digit code is on its way; it works for 10 minutes. The mail names the account.'),
      field('Username', { name: 'username', autocomplete: 'username', autocapitalize: 'none', required: true, minlength: 3, maxlength: 32, value: username || undefined }),
      codeField('Code', true),
      field('New password', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 256 }),
      buttons(['Set password', 'reset'], ['Send a new code', 'resend', 'skip'], ['Back', 'back', 'skip']),
    ], async (form, action) => {
      if (action === 'back') return restart();
      if (action === 'resend') {
        await client.forgotPassword(identifier);
        return 'A new code is on its way (one a minute at most).';
      }
      const name = value(form, 'username');
      const password = String(new FormData(form).get('password') ?? '');
      await client.resetPassword(name, value(form, 'code'), password);
      await signIn(name, password);
    });
  }

  function secondFactor(): void {
    card(main, 'Two-step verification', [
      h('p', {}, 'Enter the code from your authenticator app, or one of your recovery codes.'),
      codeField('Code', false),
      buttons(['Verify', 'verify'], ['Back', 'back', 'skip']),
    ], async (form, action) => {
      if (action === 'back') return restart();
      await client.loginMfa(value(form, 'code'));
      done();
    });
  }

  card(main, 'Sign in', [
    field('Username', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, autocapitalize: 'none' }),
    field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 8 }),
    buttons(['Sign in', 'login'], ['Create account', 'signup', 'secondary']),
    buttons(['Forgot password?', 'forgot', 'link']),
  ], async (form, action) => {
    const username = value(form, 'username');
    if (action === 'forgot') return forgotPassword(username);
    const password = String(new FormData(form).get('password') ?? '');
    await (action === 'signup' ? createAccount(username, password) : signIn(username, password));
  }, notice);
}

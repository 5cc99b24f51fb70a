import type { TesseraClient } from 'tessera/client';
import { describe, field, h, value } from './dom';

/** Sign in, or create an account and sign in; `done` runs once signed in. */
export function showLogin(main: HTMLElement, client: TesseraClient, notice: string, done: () => void): void {
  const error = h('p', { class: 'error', role: 'alert' }, notice);
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in'),
    field('Username', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, autocapitalize: 'none' }),
    field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 8 }),
    error,
    h('div', { class: 'row' }, h('button', { type: 'submit', name: 'action', value: 'login' }, 'Sign in'), h('button', { type: 'submit', name: 'action', value: 'signup', class: 'secondary' }, 'Create account')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = value(form, 'username');
    const password = String(new FormData(form).get('password') ?? '');
    const signup = (event.submitter as HTMLButtonElement | null)?.value === 'signup';
    error.textContent = '';
    form.setAttribute('aria-busy', 'true');
    try {
      if (signup) await client.signup({ username, password });
      await client.login(username, password);
      done();
    } catch (failure) {
      error.textContent = describe(failure);
    } finally {
      form.removeAttribute('aria-busy');
    }
  });
  main.replaceChildren(form);
  form.querySelector('input')?.focus();
}

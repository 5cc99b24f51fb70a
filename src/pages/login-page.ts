import { html, SafeHtml } from './html';
import { alert, hiddenFields, layout, type InteractionForm, type PageFrame } from './layout';
import { PASSKEY_SCRIPT } from './passkey-script';

export interface LoginPage extends InteractionForm {
  readonly clientName: string;
  readonly username: string;
  readonly error?: string;
  /** Where a person who forgot the password can reset it. */
  readonly forgotPasswordUrl: string;
  /** Where the passkey script asks for WebAuthn options, and where it posts the assertion. */
  readonly passkey: { readonly optionsUrl: string; readonly action: string };
}

/**
 * Username and password; after a wrong try the error is announced and the field to fix has focus.
 * Below, a passkey form that stays hidden unless its script runs and finds WebAuthn.
 */
export function loginPage(frame: PageFrame, page: LoginPage): string {
  const focusPassword = page.username !== '';
  return layout(
    frame,
    'Sign in',
    html`<p>to continue to <strong>${page.clientName}</strong></p>
${alert(page.error)}
<form method="post" action="${page.action}">
${hiddenFields(page)}
<label class="field"><span>Username</span><input name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${page.username}"${page.error && !focusPassword ? html` aria-invalid="true" autofocus` : ''}${!page.error && !focusPassword ? html` autofocus` : ''}></label>
<label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" required${focusPassword ? html` autofocus` : ''}${page.error && focusPassword ? html` aria-invalid="true"` : ''}></label>
<div class="row"><button type="submit">Sign in</button></div>
</form>
<form method="post" action="${page.passkey.action}" id="passkey" data-options="${page.passkey.optionsUrl}" hidden>
${hiddenFields(page)}<input type="hidden" name="response" value="">
<div class="row"><button type="button">Sign in with a passkey</button></div>
<p role="status" aria-live="polite"></p>
</form>
<p><a href="${page.forgotPasswordUrl}">Forgot password?</a></p>
<script>${new SafeHtml(PASSKEY_SCRIPT)}</script>`,
  );
}

import { html } from './html';
import { alert, hiddenFields, layout, type InteractionForm, type PageFrame } from './layout';

export interface TwoFactorPage extends InteractionForm {
  readonly error?: string;
}

/** The second step of signing in: a code from the authenticator app, or a recovery code. */
export function twoFactorPage(frame: PageFrame, page: TwoFactorPage): string {
  return layout(
    frame,
    'Two-step verification',
    html`<p>Enter the code from your authenticator app, or one of your recovery codes.</p>
${alert(page.error)}
<form method="post" action="${page.action}">
${hiddenFields(page)}
<label class="field"><span>Code</span><input name="otp" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required autofocus${page.error ? html` aria-invalid="true"` : ''}></label>
<div class="row"><button type="submit">Verify</button></div>
</form>`,
  );
}

import { html } from './html';
import { layout, type PageFrame } from './layout';

/** The one script of these pages: it submits the form (its hash is in the page's CSP). */
export const FORM_POST_SCRIPT = 'document.forms[0].submit();';

/**
 * OAuth 2.0 Form Post Response Mode §2: the response parameters posted to the redirect URI by the
 * browser; the button does it where scripts do not run.
 */
export function formPostPage(frame: PageFrame, redirectUri: string, fields: Readonly<Record<string, string>>): string {
  return layout(
    frame,
    'Continue',
    html`<form method="post" action="${redirectUri}">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<div class="row"><button type="submit">Continue</button></div>
</form>
<script>${FORM_POST_SCRIPT}</script>`,
  );
}

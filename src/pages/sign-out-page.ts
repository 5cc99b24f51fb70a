import { html } from './html';
import { layout, type PageFrame } from './layout';

export interface SignOutPage {
  readonly action: string;
  readonly username: string;
  /** The logout request's parameters and the CSRF token, carried through the confirmation. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Asks before signing out when the request does not prove it comes from an app of this person's (OIDC RP-Initiated Logout §2). */
export function signOutPage(frame: PageFrame, page: SignOutPage): string {
  return layout(
    frame,
    'Sign out?',
    html`<p>Sign <strong>${page.username}</strong> out of tessera in this browser?</p>
<form method="post" action="${page.action}">
${Object.entries(page.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<div class="row"><button type="submit" autofocus>Sign out</button></div>
</form>`,
  );
}

import { html } from './html';
import { hiddenFields, layout, type InteractionForm, type PageFrame } from './layout';

export interface ConsentPage extends InteractionForm {
  readonly client: { readonly name: string; readonly uri: string | null; readonly logoUri: string | null };
  readonly username: string;
  /** Each requested scope in plain words. */
  readonly scopes: ReadonlyArray<{ readonly scope: string; readonly description: string }>;
}

/** Names the app and what it asks for; Allow or Deny. */
export function consentPage(frame: PageFrame, page: ConsentPage): string {
  const { client } = page;
  const name = client.uri ? html`<a href="${client.uri}" rel="noopener noreferrer">${client.name}</a>` : html`${client.name}`;
  return layout(
    frame,
    `Allow ${client.name}?`,
    html`${client.logoUri ? html`<p><img src="${client.logoUri}" alt="${client.name} logo" width="64" height="64"></p>` : ''}
<p><strong>${name}</strong> asks to use your tessera account <strong>${page.username}</strong> to:</p>
<ul>${page.scopes.map((s) => html`<li>${s.description} <span class="muted">(${s.scope})</span></li>`)}</ul>
<form method="post" action="${page.action}">
${hiddenFields(page)}
<div class="row"><button type="submit" name="decision" value="allow" autofocus>Allow</button><button type="submit" name="decision" value="deny" class="secondary">Deny</button></div>
</form>`,
  );
}

import { html, type SafeHtml } from './html';

/** What every page shares. */
export interface PageFrame {
  /** The web client's stylesheet, so these pages look like it; absent when the web client is not built. */
  readonly stylesheet: string | undefined;
}

/** One HTML document: the page's title as `<title>` and `<h1>`, its content in a card. */
export function layout(frame: PageFrame, title: string, content: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · tessera</title>
${frame.stylesheet ? html`<link rel="stylesheet" href="${frame.stylesheet}">` : ''}
</head>
<body>
<main>
<h1>${title}</h1>
<div class="card">
${content}
</div>
</main>
</body>
</html>
`.text;
}

/** The hidden fields every interaction form carries: which sign-in it continues, and its CSRF token. */
export interface InteractionForm {
  readonly action: string;
  readonly interaction: string;
  readonly csrfToken: string;
}

export const hiddenFields = (form: InteractionForm): SafeHtml =>
  html`<input type="hidden" name="interaction" value="${form.interaction}"><input type="hidden" name="csrf_token" value="${form.csrfToken}">`;

/** An error announced to screen readers as soon as the page shows it. */
export const alert = (message: string | undefined): SafeHtml | '' =>
  message ? html`<p class="error" role="alert" aria-live="assertive">${message}</p>` : '';

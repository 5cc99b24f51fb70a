import { html } from './html';
import { layout, type PageFrame } from './layout';

/**
 * A page that only tells something: an error that must not be redirected (`alert`), or news such as
 * signed out or e-mail verification pending (`status`).
 */
export function messagePage(frame: PageFrame, title: string, message: string, role: 'alert' | 'status' = 'alert'): string {
  return layout(frame, title, html`<p role="${role}">${message}</p>`);
}

import type { Session } from 'tessera/client';
import type { Screen } from './context';
import { describe, h, latest, when } from './dom';
import { passkeysSection } from './passkeys';
import { twoFactorSection } from './two-factor';

/** "Chrome on Linux"-ish from a user agent; the raw string is in the title. */
function device(agent: string | null): string {
  if (!agent) return 'Unknown device';
  const browser = /Firefox|Edg|Chrome|Safari|node|curl/.exec(agent)?.[0] ?? 'Browser';
  const system = /Android|iPhone|iPad|Windows|Mac OS|Linux/.exec(agent)?.[0] ?? '';
  return system ? `${browser === 'Edg' ? 'Edge' : browser} on ${system}` : browser;
}

/** Your sessions, with revoke, log out and log out everywhere; two-step sign-in; and passkeys. */
export const devices: Screen = async ({ client, notify }, main) => {
  const list = h('ul', { class: 'list', 'aria-label': 'Sessions' });
  const run = (work: () => Promise<unknown>) => work().catch((error: unknown) => notify(describe(error)));

  const row = (session: Session) =>
    h(
      'li',
      { class: 'item' },
      h('span', { title: session.user_agent ?? '' }, h('strong', {}, device(session.user_agent)), session.current ? h('span', { class: 'badge' }, 'This device') : null,
        h('br'), h('small', { class: 'muted' }, `${session.ip ?? ''} · signed in ${when(session.created_at)} · active ${when(session.last_used_at)}`)),
      h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Revoke ${device(session.user_agent)}${session.current ? ' (this device)' : ''}`,
        onclick: () => void run(async () => {
          await client.sessions.revoke(session.id);
          if (!session.current) await render();
        }),
      }, 'Revoke'),
    );
  const render = latest(() => client.sessions.list(), (sessions) => list.replaceChildren(...sessions.map(row)));

  main.replaceChildren(
    h('h1', {}, 'Your devices'),
    list,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: () => void run(() => client.logout()) }, 'Log out'),
      h('button', { type: 'button', class: 'danger', onclick: () => void run(() => client.logout({ all: true })) }, 'Log out everywhere')),
    twoFactorSection(client, notify),
    passkeysSection(client, notify),
  );
  await render();
};

import { TesseraClient, type SocketState } from 'tessera/client';
import { calendar } from './calendar';
import { chat } from './chat';
import { chats } from './chats';
import type { Context, Screen } from './context';
import { devices } from './devices';
import { showLogin } from './login';
import { tasks } from './tasks';

const screens: Record<string, Screen> = { chats, chat, tasks, calendar, devices };
const NETWORK: Record<SocketState, string> = { connecting: 'Connecting…', open: 'Online', reconnecting: 'Offline, reconnecting…', closed: 'Offline' };

// Cookie mode (SPEC §3.5): the refresh token stays in an HttpOnly cookie, the access token in memory.
const client = new TesseraClient({ refreshInCookie: true, dpop: true });
const main = document.getElementById('main')!;
const bar = document.querySelector<HTMLElement>('header.bar')!;
const net = bar.querySelector<HTMLElement>('.net')!;

let context: Context | undefined;
let leave: (() => void) | void;

async function route(): Promise<void> {
  if (!context) return;
  leave?.();
  leave = undefined;
  const [, section = 'chats', parameter] = location.hash.split('/');
  const name = section === 'chats' && parameter ? 'chat' : section;
  for (const link of bar.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    leave = await (screens[name] ?? chats)(context, main, parameter && decodeURIComponent(parameter));
  } catch (error) {
    context.notify(error instanceof Error ? error.message : 'Something went wrong.');
  }
}

async function signedIn(): Promise<void> {
  const username = (await client.claims())?.username ?? '';
  const socket = client.socket();
  socket.on('state', (state) => {
    net.textContent = NETWORK[state];
    net.dataset.state = state;
  });
  context = {
    client, socket, username, conversations: new Map(),
    notify: (text) => {
      net.textContent = text;
    },
  };
  bar.hidden = false;
  await route();
  main.focus();
}

function signedOut(notice = ''): void {
  leave?.();
  leave = undefined;
  context?.socket.close();
  context = undefined;
  bar.hidden = true;
  showLogin(main, client, notice, () => void signedIn());
}

client.on('logout', ({ reason }) => signedOut(reason === 'user' ? '' : 'You were signed out. Sign in again to continue.'));
addEventListener('hashchange', () => {
  void route().then(() => main.focus());
});
void client.restore().then((ok) => (ok ? signedIn() : signedOut()));

import type { Message } from 'tessera/client';
import { conversationName, loadConversations, type Screen } from './context';
import { h, when } from './dom';

const HISTORY = 100;

/** A tick: pending (…), delivered (✓, the server acknowledged it) or failed (!). */
function tick(state: 'sending' | 'delivered' | 'failed'): HTMLElement {
  const text = { sending: ['…', 'Sending'], delivered: ['✓', 'Delivered'], failed: ['!', 'Not sent'] }[state];
  return h('span', { class: `tick ${state}`, role: 'img', 'aria-label': text[1], title: text[1] }, text[0]);
}

/** One conversation, live: history, then the socket's messages; sending shows a tick when acknowledged. */
export const chat: Screen = async (context, main, id = '') => {
  const { client, socket, username } = context;
  const conversation = context.conversations.get(id) ?? (await loadConversations(context), context.conversations.get(id));
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite' });

  const item = (message: Pick<Message, 'sender' | 'content' | 'timestamp'>, mine: boolean) =>
    h('li', { class: mine ? 'mine' : '' }, h('small', { class: 'muted' }, `${message.sender} · ${when(message.timestamp)} `), h('p', {}, message.content));
  /** Places an item by seq; items still sending stay last. */
  const place = (li: HTMLElement, seq: number) => {
    li.dataset.seq = String(seq);
    const after = [...list.children].find((other) => !(other as HTMLElement).dataset.seq || Number((other as HTMLElement).dataset.seq) > seq);
    list.insertBefore(li, after ?? null);
    li.scrollIntoView({ block: 'nearest' });
  };
  const show = (message: Message) => {
    if (list.querySelector(`[data-seq="${message.seq}"]`)) return;
    const mine = message.sender.toLowerCase() === username.toLowerCase();
    const li = item(message, mine);
    if (mine) li.append(tick('delivered'));
    place(li, message.seq);
  };

  const lastSeq = conversation?.last_seq ?? 0;
  const history = await client.messages.list(id, { after_seq: Math.max(0, lastSeq - HISTORY), limit: HISTORY });
  const off = socket.on('message', (message) => message.session_id === id && show(message));
  for (const message of history) show(message);
  socket.track(id, history.at(-1)?.seq ?? 0);

  const input = h('input', { name: 'content', required: true, autocomplete: 'off', maxlength: 16_000, 'aria-label': 'Message' });
  const form = h('form', { class: 'compose' }, input, h('button', { type: 'submit' }, 'Send'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    input.value = '';
    const li = item({ sender: username, content, timestamp: new Date().toISOString() }, true);
    const pending = tick('sending');
    li.append(pending);
    list.append(li);
    li.scrollIntoView({ block: 'nearest' });
    socket.send(id, content).then(
      (message) => {
        pending.replaceWith(tick('delivered'));
        place(li, message.seq);
      },
      () => pending.replaceWith(tick('failed')),
    );
  });

  main.replaceChildren(
    h('p', {}, h('a', { href: '#/chats' }, '← Chats')),
    h('h1', {}, conversation ? conversationName(conversation, username) : id),
    list,
    form,
  );
  input.focus();
  return off;
};

import { conversationName, loadConversations, type Screen } from './context';
import { describe, field, h, latest, value, when } from './dom';

/** The conversation list, newest first, and a form to start one. */
export const chats: Screen = async (context, main) => {
  const list = h('ul', { class: 'list', 'aria-label': 'Conversations' });
  const render = latest(() => loadConversations(context), (conversations) => {
    list.replaceChildren(
      ...conversations.map((conversation) =>
        h(
          'li',
          {},
          h('a', { href: `#/chats/${encodeURIComponent(conversation.id)}`, class: 'item' },
            h('span', {}, conversationName(conversation, context.username)),
            h('small', { class: 'muted' }, `${conversation.last_seq} messages · ${when(conversation.created_at)}`)),
        ),
      ),
    );
    if (!conversations.length) list.append(h('li', { class: 'muted' }, 'No conversations yet.'));
  });
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'New conversation' },
    h('h2', {}, 'New conversation'),
    field('With (usernames, comma-separated)', { name: 'members', required: true, autocapitalize: 'none' }),
    field('Title (optional)', { name: 'title' }),
    h('button', { type: 'submit' }, 'Start'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const members = value(form, 'members').split(',').map((name) => name.trim()).filter(Boolean);
    try {
      const created = await context.client.conversations.create({ members, ...(value(form, 'title') ? { title: value(form, 'title') } : {}) });
      context.conversations.set(created.id, created);
      location.hash = `#/chats/${encodeURIComponent(created.id)}`;
    } catch (error) {
      context.notify(describe(error));
    }
  });
  main.replaceChildren(h('h1', {}, 'Chats'), list, form);
  await render();
  // A message in a conversation refreshes the counts (and shows conversations others started).
  return context.socket.on('message', () => void render().catch(() => undefined));
};

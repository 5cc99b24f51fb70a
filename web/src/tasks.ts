import type { Task } from 'tessera/client';
import type { Screen } from './context';
import { describe, field, h, latest, value } from './dom';

/** Tasks: add, complete (checkbox) and delete. */
export const tasks: Screen = async ({ client, notify }, main) => {
  const list = h('ul', { class: 'list', 'aria-label': 'Tasks' });
  const act = (work: () => Promise<unknown>) => work().then(render, (error: unknown) => notify(describe(error)));

  const row = (task: Task) => {
    const box = h('input', { type: 'checkbox', id: `task-${task.id}`, checked: task.completed });
    box.addEventListener('change', () => void act(() => client.tasks.update(task.id, { completed: box.checked })));
    return h(
      'li',
      { class: `item${task.completed ? ' done' : ''}` },
      h('label', { for: `task-${task.id}`, class: 'check' }, box, h('span', {}, task.title)),
      h('button', { type: 'button', class: 'icon', 'aria-label': `Delete ${task.title}`, onclick: () => void act(() => client.tasks.delete(task.id)) }, '✕'),
    );
  };
  const render = latest(
    () => client.tasks.list({ limit: 200 }),
    (all) => {
      list.replaceChildren(...all.map(row));
      if (!all.length) list.append(h('li', { class: 'muted' }, 'Nothing to do.'));
    },
  );

  const form = h('form', { class: 'compose', 'aria-label': 'Add a task' }, field('New task', { name: 'title', required: true, maxlength: 200 }), h('button', { type: 'submit' }, 'Add'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const title = value(form, 'title');
    form.reset();
    void act(() => client.tasks.create({ title }));
  });
  main.replaceChildren(h('h1', {}, 'Tasks'), form, list);
  await render();
};

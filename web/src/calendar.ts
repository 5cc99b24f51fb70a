import type { CalendarEvent } from 'tessera/client';
import type { Screen } from './context';
import { describe, field, h, latest, value } from './dom';

const DAY = 24 * 3_600_000;

const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { weekday: 'long', month: 'short', day: 'numeric' });
const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** The coming week's events by day, and a form to add one. */
export const calendar: Screen = async ({ client, notify }, main) => {
  const list = h('div', { class: 'days' });
  const render = latest(() => {
    const now = Date.now();
    return client.calendar.list({ time_min: new Date(now).toISOString(), time_max: new Date(now + 7 * DAY).toISOString(), limit: 200 });
  }, (events) => {
    const byDay = new Map<string, CalendarEvent[]>();
    for (const event of events) byDay.set(day(event.start_time), [...(byDay.get(day(event.start_time)) ?? []), event]);
    list.replaceChildren(
      ...[...byDay].map(([name, items]) =>
        h('section', { 'aria-label': name }, h('h2', {}, name), h('ul', { class: 'list' }, ...items.map((event) =>
          h('li', { class: `item ${event.status}` }, h('span', {}, `${time(event.start_time)}–${time(event.end_time)} `), h('strong', {}, event.title), event.location ? h('small', { class: 'muted' }, ` · ${event.location}`) : null),
        ))),
      ),
    );
    if (!events.length) list.append(h('p', { class: 'muted' }, 'Nothing in the coming week.'));
  });

  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Add an event' },
    h('h2', {}, 'Add an event'),
    field('Title', { name: 'title', required: true, maxlength: 200 }),
    field('Starts', { name: 'start', type: 'datetime-local', required: true }),
    field('Ends', { name: 'end', type: 'datetime-local', required: true }),
    h('button', { type: 'submit' }, 'Add'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await client.calendar.create({ title: value(form, 'title'), start_time: new Date(value(form, 'start')).toISOString(), end_time: new Date(value(form, 'end')).toISOString() });
      form.reset();
      await render();
    } catch (error) {
      notify(describe(error));
    }
  });
  main.replaceChildren(h('h1', {}, 'This week'), list, form);
  await render();
};

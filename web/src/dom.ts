/** What `h` accepts as children: nodes and text; false, null and undefined are skipped. */
export type Child = Node | string | false | null | undefined;

type Props = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Creates an element: `on…` props become listeners, `true` an empty
 * attribute, false/undefined nothing, anything else an attribute.
 * Text is always set as text, never parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== false && child !== null && child !== undefined) element.append(child);
  return element;
}

/** A labelled input: the label wraps it, so clicking the text focuses the field. */
export function field(label: string, props: Props): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), h('input', props));
}

/** The value of a named field of a form. */
export function value(form: HTMLFormElement, name: string): string {
  return String(new FormData(form).get(name) ?? '').trim();
}

/** Local time, short: "Mon 14:05" within a week, the date otherwise. */
export function when(iso: string): string {
  const date = new Date(iso);
  const week = 6 * 24 * 3_600_000;
  const options: Intl.DateTimeFormatOptions =
    Math.abs(Date.now() - date.getTime()) < week ? { weekday: 'short', hour: '2-digit', minute: '2-digit' } : { dateStyle: 'medium' };
  return date.toLocaleString(undefined, options);
}

/** An error as one sentence for the person (TesseraError carries the server's). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/**
 * A screen's "load, then show": loads can finish out of order (the first load
 * racing a reload after an edit), and an older one must never overwrite a newer.
 */
export function latest<T>(load: () => Promise<T>, show: (loaded: T) => void): () => Promise<void> {
  let generation = 0;
  return async () => {
    const mine = ++generation;
    const loaded = await load();
    if (mine === generation) show(loaded);
  };
}

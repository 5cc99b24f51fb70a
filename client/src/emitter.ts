/** A listener of one event. */
export type Listener<T> = (value: T) => void;

/** A tiny typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Calls `listener` on every `event` until the returned function is called. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    // A copy: a listener may remove itself (or others) while we iterate.
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as Listener<Events[K]>)(value);
  }
}

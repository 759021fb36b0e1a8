/** A tiny typed event emitter for browsers and Node. A throwing listener never stops the others. */
export class Emitter<E extends { [K in keyof E]: (arg: never) => void }> {
  private readonly map = new Map<keyof E, Set<E[keyof E]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.map.get(event);
    if (!set) this.map.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: E[K]): () => void {
    const off = this.on(event, ((arg: never) => {
      off();
      (listener as (a: never) => void)(arg);
    }) as E[K]);
    return off;
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: E[K]): void {
    this.map.get(event)?.delete(listener);
  }

  protected emit<K extends keyof E>(event: K, arg: Parameters<E[K]>[0]): void {
    const set = this.map.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as unknown as (a: unknown) => void)(arg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

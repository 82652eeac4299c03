// A tiny publish/subscribe bus: the model (store, player), the views and the comms talk
// through named events instead of holding references to each other.

export class Bus {
  constructor() {
    this.handlers = new Map();
  }

  /** Subscribe; returns a function that unsubscribes. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type)?.delete(fn);
  }

  emit(type, detail) {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`bus handler for "${type}" failed`, err);
      }
    }
  }
}

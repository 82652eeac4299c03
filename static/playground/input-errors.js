// Values typed into a field and refused there (not a number, out of range, required):
// they never reached the design, so while one stands the design that would run is not the
// one on screen. One list for the whole page, read by the validity pill and by Play.

class InputErrors {
  constructor() {
    this.fields = new Map(); // field element -> {label, message, focus}
    this.listeners = new Set();
  }

  /** `entry` null clears the field's error. */
  set(field, entry) {
    if (!entry && !this.fields.has(field)) return;
    if (entry) this.fields.set(field, entry);
    else this.fields.delete(field);
    for (const fn of this.listeners) fn();
  }

  /** The errors of fields still on the page (a panel drawn again drops its old fields, and
   * with them what was typed), each as "users · Rate: must be a number". */
  list() {
    const out = [];
    for (const [field, entry] of this.fields) {
      if (!field.isConnected) {
        this.fields.delete(field);
        continue;
      }
      let panel = field.parentElement;
      while (panel && !panel.querySelector(".panel-title")) panel = panel.parentElement;
      const where = panel?.querySelector(".panel-title").textContent;
      out.push({ ...entry, text: `${where ? `${where} · ` : ""}${entry.label}: ${entry.message}` });
    }
    return out;
  }

  onChange(fn) {
    this.listeners.add(fn);
  }
}

export const inputErrors = new InputErrors();

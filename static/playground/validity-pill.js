// The validity pill ("Ready to run", "2 problems"): the server validator's last answer and
// the values typed into a field and refused there (the design does not have them yet); both
// keep the design from being ready to run, and Play refuses while such a value stands.

import { $ } from "./dom.js";
import { plural } from "./format.js";
import { inputErrors } from "./input-errors.js";

export class ValidityPill {
  constructor({ bus, store, canvas, overlay, toaster }) {
    Object.assign(this, { store, toaster });
    this.el = $("#validity");
    this.text = this.el.querySelector(".validity-text");
    this.checked = null; // the validator's last answer, or "offline"
    bus.on("validation:pending", (pending) => {
      if (pending) this.el.dataset.state = "pending";
    });
    bus.on("validation:changed", (problems) => {
      canvas.setProblems(problems);
      overlay.setProblems(problems);
      this.checked = problems;
      this.render();
    });
    bus.on("validation:offline", () => {
      this.checked = "offline";
      this.render();
    });
    inputErrors.onChange(() => this.render());
    // a panel drawn again (another selection) drops its fields and what was typed in them
    bus.on("selection:changed", () => requestAnimationFrame(() => this.render()));
    this.el.addEventListener("click", () => {
      const unsent = inputErrors.list();
      if (unsent.length) unsent[0].focus();
      else store.clearSelection();
    });
  }

  render() {
    const { el, checked } = this;
    const unsent = inputErrors.list();
    if (checked === null) return;
    if (checked === "offline" && !unsent.length) {
      el.dataset.state = "unknown";
      this.text.textContent = "Not checked";
      el.title = "The validator could not be reached.";
      return;
    }
    const lines = [...(checked === "offline" ? [] : checked.lines), ...unsent.map((e) => `${e.text} (not applied)`)];
    const n = (checked === "offline" ? 0 : checked.count) + unsent.length;
    const empty = !this.store.doc.components.length && !unsent.length;
    el.dataset.state = empty ? "empty" : n ? "invalid" : "valid";
    this.text.textContent = empty ? "Empty design" : n ? plural(n, "problem") : "Ready to run";
    el.title = n ? lines.join("\n") : "The server's validator accepts this design.";
  }

  /** True (and the person told why) when a field holds a value that was not applied. */
  refuseRun() {
    const unsent = inputErrors.list();
    if (!unsent.length) return false;
    this.toaster.show({ title: "A field holds a value that was not applied", tone: "error", key: "run-error",
                        message: "Correct it, or press Escape in it to keep the design's value, then press Play:",
                        items: unsent.map((e) => e.text) });
    unsent[0].focus();
    return true;
  }
}

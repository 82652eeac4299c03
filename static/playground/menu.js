// The design menu in the top bar: New (empty), Load example (from /api/examples), Import
// JSON, Export JSON. A small accessible disclosure menu.

import { h } from "./dom.js";
import { icon } from "./icons.js";

export class FileMenu {
  constructor(button, panel, { onNew, onExample, onImport, onExport, examples }) {
    this.button = button;
    this.panel = panel;
    this.handlers = { onNew, onExample, onImport, onExport };
    this.render(examples || []);
    button.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    document.addEventListener("pointerdown", (e) => {
      if (!this.panel.hidden && !this.panel.contains(e.target) && !this.button.contains(e.target)) this.close();
    }, true);
    panel.addEventListener("keydown", (e) => this.key(e));
  }

  render(examples) {
    const item = (label, ic, run, testid, sub) => {
      const b = h("button", { type: "button", role: "menuitem", class: "menu-item", "data-testid": testid },
        h("span", { class: "menu-icon" }, icon(ic, { size: 15 })),
        h("span", { class: "menu-label" }, label, sub ? h("small", { class: "menu-sub", text: sub }) : null));
      b.addEventListener("click", () => {
        this.close();
        run();
      });
      return b;
    };
    this.panel.replaceChildren(...[
      item("New (empty)", "file", this.handlers.onNew, "menu-new"),
      h("div", { class: "menu-separator", role: "separator" }),
      h("div", { class: "menu-header", text: "Load example" }),
      ...examples.map((ex) => item(ex.name, "logo", () => this.handlers.onExample(ex.slug), `example-${ex.slug}`,
                                   ex.description ? ex.description.slice(0, 90) + (ex.description.length > 90 ? "…" : "") : "")),
      examples.length ? null : h("p", { class: "menu-note muted", text: "No examples found." }),
      h("div", { class: "menu-separator", role: "separator" }),
      item("Import JSON…", "upload", this.handlers.onImport, "menu-import"),
      item("Export JSON", "download", this.handlers.onExport, "menu-export")].filter(Boolean));
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.panel.querySelector(".menu-item")?.focus();
  }

  close(restore = false) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (restore) this.button.focus();
  }

  key(e) {
    const list = [...this.panel.querySelectorAll(".menu-item")];
    const i = list.indexOf(document.activeElement);
    if (e.key === "ArrowDown") list[(i + 1) % list.length]?.focus();
    else if (e.key === "ArrowUp") list[(i - 1 + list.length) % list.length]?.focus();
    else if (e.key === "Escape") this.close(true);
    else return;
    e.preventDefault();
    e.stopPropagation();
  }
}

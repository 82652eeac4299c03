// The design menu in the top bar: New (empty), My designs, Version history, Lessons, Load
// example (from /api/examples), Import JSON, Export JSON / SVG / PNG. A small accessible
// disclosure menu. Without canEdit (a read-only design) the items that would replace the
// design are disabled.

import { h } from "./dom.js";
import { icon } from "./icons.js";

export class FileMenu {
  constructor(button, panel, { examples, canEdit = true, ...handlers }) {
    this.button = button;
    this.panel = panel;
    this.handlers = handlers;
    this.canEdit = canEdit;
    this.render(examples || []);
    button.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    document.addEventListener("pointerdown", (e) => {
      if (!this.panel.hidden && !this.panel.contains(e.target) && !this.button.contains(e.target)) this.close();
    }, true);
    panel.addEventListener("keydown", (e) => this.key(e));
  }

  render(examples) {
    const item = (label, ic, run, testid, sub, edits = false) => {
      const b = h("button", { type: "button", role: "menuitem", class: "menu-item", "data-testid": testid,
                              disabled: edits && !this.canEdit },
        h("span", { class: "menu-icon" }, icon(ic, { size: 15 })),
        h("span", { class: "menu-label" }, label, sub ? h("small", { class: "menu-sub", text: sub }) : null));
      b.addEventListener("click", () => {
        this.close();
        run();
      });
      return b;
    };
    const { onNew, onLibrary, onVersions, onLessons, onExample, onImport, onExport, onExportSvg,
            onExportPng } = this.handlers;
    const separator = () => h("div", { class: "menu-separator", role: "separator" });
    this.panel.replaceChildren(...[
      item("New (empty)", "file", onNew, "menu-new", "", true),
      item("My designs…", "menu", onLibrary, "menu-library", "Open, rename, duplicate, delete"),
      item("Version history…", "reset", onVersions, "menu-versions", "Every save keeps the one before"),
      item("Lessons…", "logo", onLessons, "menu-lessons", "Guided designs, one idea each"),
      separator(),
      h("div", { class: "menu-header", text: "Load example" }),
      ...examples.map((ex) => item(ex.name, "logo", () => onExample(ex.slug), `example-${ex.slug}`,
                                   ex.description ? ex.description.slice(0, 90) + (ex.description.length > 90 ? "…" : "") : "",
                                   true)),
      examples.length ? null : h("p", { class: "menu-note muted", text: "No examples found." }),
      separator(),
      item("Import JSON…", "upload", onImport, "menu-import", "", true),
      item("Export JSON", "download", onExport, "menu-export"),
      item("Export as SVG", "download", onExportSvg, "menu-export-svg", "The diagram, sharp at any size"),
      item("Export as PNG", "download", onExportPng, "menu-export-png")].filter(Boolean));
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.panel.querySelector(".menu-item:not(:disabled)")?.focus();
  }

  close(restore = false) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (restore) this.button.focus();
  }

  key(e) {
    const list = [...this.panel.querySelectorAll(".menu-item:not(:disabled)")];
    const i = list.indexOf(document.activeElement);
    if (e.key === "ArrowDown") list[(i + 1) % list.length]?.focus();
    else if (e.key === "ArrowUp") list[(i - 1 + list.length) % list.length]?.focus();
    else if (e.key === "Escape") this.close(true);
    else return;
    e.preventDefault();
    e.stopPropagation();
  }
}

// The help overlay (?): every keyboard shortcut from keyboard.js, grouped, plus the few
// mouse gestures that have no key.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { SHORTCUTS } from "./keyboard.js";

const MOUSE = [
  ["Drag from the palette", "Add a component where you drop it"],
  ["Drag a component", "Move it (snaps to the grid); drags all selected ones together"],
  ["Drag the canvas", "Pan"],
  ["Shift+drag the canvas", "Box-select"],
  ["Shift+click", "Add to / remove from the selection"],
  ["Wheel / pinch", "Zoom"],
  ["Drag the ⊕ handle", "Link the selected component to the one you drop on"],
  ["Right click", "Menu: edit, and while running fail / slow / recover, cut / heal"],
  ["Double click", "Edit the component's label"],
];

const isMac = /Mac|iPhone|iPad/.test(navigator.platform || "");

function keyCaps(text) {
  const label = isMac ? text.replace(/Ctrl\+/g, "⌘") : text;
  return label.split(/(?<=.)\+(?=.)/).map((k) => h("kbd", { text: k }));
}

export class Help {
  constructor() {
    const groups = new Map();
    for (const sc of SHORTCUTS) {
      if (!groups.has(sc.group)) groups.set(sc.group, []);
      groups.get(sc.group).push(sc);
    }
    const close = h("button", { type: "button", class: "icon-button", "aria-label": "Close help" }, icon("close", { size: 16 }));
    this.el = h("dialog", { class: "help-dialog", "aria-labelledby": "help-title", "data-testid": "help" },
      h("header", { class: "help-head" },
        h("h2", { id: "help-title" }, icon("keyboard", { size: 20 }), " Keyboard and mouse"), close),
      h("div", { class: "help-grid" },
        [...groups].map(([group, list]) => h("section", { class: "help-section" },
          h("h3", { text: group }),
          h("dl", {}, list.map((sc) => [
            h("dt", {}, sc.keys.map((k, i) => [i ? h("span", { class: "muted", text: " or " }) : null, keyCaps(k)])),
            h("dd", { text: sc.desc }),
          ])))),
        h("section", { class: "help-section" },
          h("h3", { text: "Mouse" }),
          h("dl", {}, MOUSE.map(([k, d]) => [h("dt", { text: k }), h("dd", { text: d })])))),
      h("p", { class: "help-foot muted", text: "Every action has a key. Press ? at any time to see this again." }));
    close.addEventListener("click", () => this.close());
    this.el.addEventListener("click", (e) => { if (e.target === this.el) this.close(); });
    document.body.append(this.el);
  }

  get isOpen() {
    return this.el.open;
  }

  toggle() {
    if (this.el.open) this.close();
    else this.el.showModal();
  }

  close() {
    this.el.close();
  }
}

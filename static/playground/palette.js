// The palette: every kind from the registry, grouped, with its icon and one-line help.
// Drag an item onto the canvas to add it there; click it (or Enter) to add it at the
// centre of the view; the arrow keys move between the items. A kind that runs on a named
// size (service, database, worker) has a "Sizes" disclosure listing them with their
// workers, speed and price (/api/kinds `sizes`); each is an item of its own, added with that
// size. Emits "palette:add" {kind, size?, clientX?, clientY?}.

import { h, clear } from "./dom.js";
import { money, num } from "./format.js";
import { icon, kindTile } from "./icons.js";

const DRAG_THRESHOLD = 4;

export class Palette {
  constructor(root, { bus, registry, dropZone }) {
    this.root = root;
    this.bus = bus;
    this.registry = registry;
    this.dropZone = dropZone;
    this.drag = null;
    this.render();
    root.querySelector(".palette-groups").addEventListener("keydown", (e) => this.keydown(e));
  }

  /** Arrow keys move between the items (they would scroll the list), Home and End go to
   * the first and the last; Tab still leaves the palette item by item. */
  keydown(e) {
    const items = [...this.root.querySelectorAll(".palette-item, .palette-sizes:not([hidden]) .palette-size")];
    const i = items.indexOf(document.activeElement);
    if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const to = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1,
                 Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    items[Math.max(0, Math.min(items.length - 1, to))].focus();
  }

  render() {
    const list = this.root.querySelector(".palette-groups");
    clear(list);
    for (const { group, title, kinds } of this.registry.groups()) {
      const items = kinds.map((name) => this.item(name));
      list.append(h("section", { class: "palette-group", "aria-label": title },
        h("h3", { class: "palette-group-title", text: title }), items));
    }
  }

  item(name) {
    const el = this.kindItem(name);
    const sizes = this.registry.sizesOf(name);
    if (!sizes.length) return el;
    const k = this.registry.kind(name);
    const list = h("div", { class: "palette-sizes", id: `palette-sizes-${name}`, hidden: true,
                            role: "group", "aria-label": `${k.title} sizes` },
      h("div", { class: "palette-size-head", "aria-hidden": "true" },
        h("span", { text: "size" }), h("span", { text: "workers" }), h("span", { text: "speed" }),
        h("span", { text: "per h" })),
      sizes.map(([size, s]) => this.sizeItem(name, size, s)));
    const toggle = h("button", {
      type: "button", class: "palette-sizes-toggle", "aria-expanded": "false",
      "aria-controls": list.id, "data-testid": `palette-sizes-${name}`,
      title: `Sizes: add a ${k.title.toLowerCase()} of a named size`,
    }, h("span", { text: "Sizes" }), icon("chevronDown", { size: 14 }));
    toggle.addEventListener("click", () => {
      const open = list.hidden;
      list.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
    });
    return h("div", { class: "palette-entry" }, el, toggle, list);
  }

  /** One named size of a kind: drag or click adds the kind with that size. */
  sizeItem(name, size, { workers, speed, cost_per_hour: price }) {
    const k = this.registry.kind(name);
    const figures = `${num(workers)} workers at speed ${num(speed)}, ${money(price)} an hour`;
    const el = h("button", {
      type: "button", class: "palette-size", "data-kind": name, "data-size": size,
      "data-testid": `palette-${name}-${size}`,
      title: `${k.title}, ${size}: ${figures}.\nDrag onto the canvas, or press Enter to add ` +
             "it at the centre.",
      "aria-label": `Add ${k.title}, size ${size}: ${figures}`,
    },
    h("span", { class: "palette-size-name", text: size }),
    h("span", { class: "palette-size-figure", text: num(workers) }),
    h("span", { class: "palette-size-figure", text: `×${speed.toFixed(2)}` }),
    h("span", { class: "palette-size-figure", text: money(price) }));
    this.wire(el, name, size);
    return el;
  }

  kindItem(name) {
    const k = this.registry.kind(name);
    const el = h("button", {
      type: "button", class: "palette-item", "data-kind": name,
      "data-testid": `palette-${name}`,
      title: `${k.title}: ${k.help}\nDrag onto the canvas, or press Enter to add it at the centre.`,
      "aria-label": `Add ${k.title}. ${k.help}`,
    },
    kindTile(name, 32),
    h("span", { class: "palette-text" },
      h("span", { class: "palette-title", text: k.title }),
      h("span", { class: "palette-help", text: k.help })));
    this.wire(el, name);
    return el;
  }

  wire(el, name, size) {
    el.addEventListener("pointerdown", (e) => this.down(e, name, el, size));
    el.addEventListener("click", (e) => {
      if (this.suppressClick) {
        this.suppressClick = false;
        e.preventDefault();
        return;
      }
      this.bus.emit("palette:add", { kind: name, ...(size ? { size } : {}) });
    });
  }

  down(e, kind, el, size) {
    if (e.button !== 0) return;
    this.drag = { kind, size, el, x: e.clientX, y: e.clientY, pointerId: e.pointerId, ghost: null };
    const move = (ev) => this.move(ev);
    const up = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      this.up(ev);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  move(e) {
    const d = this.drag;
    if (!d) return;
    if (!d.ghost) {
      if (Math.hypot(e.clientX - d.x, e.clientY - d.y) < DRAG_THRESHOLD) return;
      const k = this.registry.kind(d.kind);
      d.ghost = h("div", { class: "drag-ghost", "aria-hidden": "true" },
        kindTile(d.kind, 30), h("span", { text: d.size ? `${k.title} · ${d.size}` : k.title }));
      document.body.append(d.ghost);
      document.body.classList.add("dragging-kind");
    }
    d.ghost.style.transform = `translate(${e.clientX - 20}px, ${e.clientY - 22}px)`;
    const over = this.overDropZone(e);
    this.dropZone.classList.toggle("drop-target", over);
    d.ghost.classList.toggle("drag-ghost-ok", over);
  }

  overDropZone(e) {
    const r = this.dropZone.getBoundingClientRect();
    return e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
  }

  up(e) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    this.dropZone.classList.remove("drop-target");
    document.body.classList.remove("dragging-kind");
    if (!d.ghost) return; // a plain click: the click handler adds it
    d.ghost.remove();
    this.suppressClick = true;
    setTimeout(() => { this.suppressClick = false; }, 0);
    if (e.type === "pointerup" && this.overDropZone(e)) {
      this.bus.emit("palette:add", { kind: d.kind, ...(d.size ? { size: d.size } : {}),
                                     clientX: e.clientX, clientY: e.clientY });
    }
  }
}

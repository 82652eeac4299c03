// Editing actions shared by the palette, keyboard, menus and context menu. Each one turns
// an intent into a store command (so it can be undone) and says why when it cannot.

import { addElements, moveComponents, removeElements, replaceDocument } from "./commands.js";
import { linkKey, nextId, snap } from "./topology.js";

const PASTE_OFFSET = 40;

export class Actions {
  constructor({ store, registry, canvas, toaster, announce }) {
    this.store = store;
    this.registry = registry;
    this.canvas = canvas;
    this.toaster = toaster;
    this.announce = announce;
    this.clipboard = null;
    this.pasteCount = 0;
  }

  lockedNotice(what) {
    if (this.store.readOnly) {
      this.store.bus.emit("design:read-only");
      return;
    }
    this.toaster.show({
      title: `Stop the run to ${what}`, tone: "warn", key: "locked",
      message: "The topology is locked while a simulation runs. Parameters can still change live in the inspector; moving components is fine.",
    });
  }

  /** Add a component of `kind` at a model point (or at the centre of the view). */
  /** `params`: set over the starter ones (a size picked in the palette). */
  addComponent(kind, at = null, params = {}) {
    if (this.store.locked) return this.lockedNotice("add components");
    const p = at ? { x: snap(at.x, this.canvas.snapToGrid), y: snap(at.y, this.canvas.snapToGrid) }
      : this.canvas.freeSpotNearCentre();
    const id = nextId(kind, this.store.ids());
    const component = { id, kind, position: p, params: { ...this.registry.starterParams(kind), ...params } };
    if (this.store.exec(addElements([component], [], `Add ${this.registry.kind(kind).title}`))) {
      this.canvas.setFocus(id, { reveal: true, visible: false });
      this.announce(`Added ${this.registry.kind(kind).title} ${id}.`);
    }
    return id;
  }

  deleteSelection() {
    const { components, links } = this.store.selection;
    if (!components.size && !links.size) return;
    if (this.store.locked) return this.lockedNotice("delete");
    const cmd = removeElements(this.store.doc, [...components], [...links]);
    if (this.store.exec(cmd)) this.announce(`${cmd.label}.`);
  }

  copy() {
    const ids = this.store.selection.components;
    if (!ids.size) return false;
    const comps = this.store.doc.components.filter((c) => ids.has(c.id));
    const links = this.store.doc.links.filter((l) => ids.has(l.from) && ids.has(l.to));
    this.clipboard = structuredClone({ components: comps, links });
    this.pasteCount = 0;
    this.announce(`Copied ${comps.length} component${comps.length > 1 ? "s" : ""}.`);
    return true;
  }

  /** Paste the clipboard with fresh ids, offset from the originals (or at a model point). */
  paste(at = null) {
    if (!this.clipboard) return;
    if (this.store.locked) return this.lockedNotice("paste");
    this.pasteCount += 1;
    const taken = this.store.ids();
    const rename = new Map();
    const { components, links } = this.clipboard;
    let dx = PASTE_OFFSET * this.pasteCount, dy = PASTE_OFFSET * this.pasteCount;
    if (at && components.length) {
      const cx = components.reduce((s, c) => s + (c.position?.x || 0), 0) / components.length;
      const cy = components.reduce((s, c) => s + (c.position?.y || 0), 0) / components.length;
      dx = at.x - cx;
      dy = at.y - cy;
    }
    const comps = components.map((c) => {
      const id = nextId(c.kind, taken);
      taken.add(id);
      rename.set(c.id, id);
      const p = c.position || { x: 0, y: 0 };
      return { ...structuredClone(c), id,
               position: { x: snap(p.x + dx, this.canvas.snapToGrid), y: snap(p.y + dy, this.canvas.snapToGrid) } };
    });
    const lnks = links.map((l) => ({ ...structuredClone(l), from: rename.get(l.from), to: rename.get(l.to) }));
    this.store.exec(addElements(comps, lnks, `Paste ${comps.length} component${comps.length > 1 ? "s" : ""}`));
    this.announce(`Pasted ${comps.length} component${comps.length > 1 ? "s" : ""}.`);
  }

  duplicate() {
    const saved = this.clipboard, count = this.pasteCount;
    if (!this.copy()) return;
    this.paste();
    this.clipboard = saved || this.clipboard;
    this.pasteCount = saved ? count : this.pasteCount;
  }

  selectAll() {
    this.store.select({ components: this.store.doc.components.map((c) => c.id),
                        links: this.store.doc.links.map(linkKey) });
  }

  /** Move the selected components by whole grid steps (arrow keys with Shift). */
  nudge(dx, dy) {
    const ids = this.store.selection.components;
    if (!ids.size) return;
    const moves = {};
    for (const c of this.store.doc.components) {
      if (!ids.has(c.id)) continue;
      const from = c.position || { x: 0, y: 0 };
      moves[c.id] = { from, to: { x: from.x + dx, y: from.y + dy } };
    }
    this.store.exec(moveComponents(moves, { nudge: true }));
  }

  loadDocument(doc, label) {
    if (this.store.locked) return this.lockedNotice("load another design");
    if (this.store.exec(replaceDocument(this.store.doc, doc, label))) {
      this.store.clearSelection();
      requestAnimationFrame(() => this.canvas.fit());
      return true;
    }
    return false;
  }
}


// THE client-side scenario store: the v1 document, the selection and the undo history.
// Every change to the document goes through exec(command); undo/redo replay the inverse.
// Co-editing replaces the history with its own (useHistory): each person's own edits.
// Views listen on the bus: "doc:changed", "selection:changed", "history:changed",
// "edit:refused" (a command that is not allowed now, e.g. a structural edit during a run).
// Read-only (someone else's design, a lesson, a run link, an embed) refuses every command
// and keeps `locked` set, so every view that greys out edits during a run does so too.

import { linkKey, emptyDocument } from "./topology.js";

const COALESCE_MS = 900;
export const HISTORY_LIMIT = 300;

/** Whether `cmd` continues the step `top` ({coalesceKey, at, merge}): the same kind of
 * edit soon after (typing in one field, nudging), undone as one step. */
export const continues = (top, cmd, now) => !!(top && cmd.coalesceKey && top.coalesceKey === cmd.coalesceKey
  && now - top.at < COALESCE_MS && top.merge);

export class Store {
  constructor(bus) {
    this.bus = bus;
    this.doc = emptyDocument();
    this.version = 0;
    this.selection = { components: new Set(), links: new Set() };
    this.undoStack = [];
    this.redoStack = [];
    this.locked = false; // true while a run is live: only layoutOnly commands pass
    this.lockReason = "";
    this.readOnly = false;
    this.history = null; // co-editing's history (coedit-undo.js), in place of the stacks
  }

  // -- queries -----------------------------------------------------------------------
  component(id) {
    return this.doc.components.find((c) => c.id === id);
  }

  componentIndex(id) {
    return this.doc.components.findIndex((c) => c.id === id);
  }

  link(key) {
    return this.doc.links.find((l) => linkKey(l) === key);
  }

  linkIndex(key) {
    return this.doc.links.findIndex((l) => linkKey(l) === key);
  }

  ids() {
    return new Set(this.doc.components.map((c) => c.id));
  }

  /** The steps undo and redo would take next ({label, layoutOnly}), or undefined. */
  nextSteps() {
    return this.history ? [this.history.top("undo"), this.history.top("redo")]
      : [this.undoStack.at(-1), this.redoStack.at(-1)];
  }

  get canUndo() {
    return !!this.nextSteps()[0];
  }

  get canRedo() {
    return !!this.nextSteps()[1];
  }

  // -- editing -----------------------------------------------------------------------
  setLocked(locked, reason = "") {
    this.locked = locked || this.readOnly;
    this.lockReason = this.readOnly ? "read-only" : reason;
    this.bus.emit("lock:changed", { locked: this.locked, reason: this.lockReason });
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this.setLocked(readOnly);
  }

  allowed(cmd) {
    return !this.locked || (cmd.layoutOnly && !this.readOnly);
  }

  /** Run a command and record it for undo. Returns false if it was refused. */
  exec(cmd) {
    if (!cmd || cmd.empty) return false;
    if (!this.allowed(cmd)) {
      this.bus.emit("edit:refused", { cmd, reason: this.lockReason });
      return false;
    }
    cmd.do(this.doc);
    if (this.history) this.history.record(cmd);
    else this.record(cmd);
    this.changed(cmd, "do");
    if (cmd.selectAfter) this.select(cmd.selectAfter);
    return true;
  }

  record(cmd) {
    const top = this.undoStack[this.undoStack.length - 1];
    const now = performance.now();
    if (continues(top, cmd, now)) {
      top.merge(cmd);
      top.at = now;
    } else {
      cmd.at = now;
      this.undoStack.push(cmd);
      if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    }
    this.redoStack = [];
  }

  /** Co-editing: undo and redo go through `history` (this person's own edits to the shared
   * document, coedit-undo.js); the store's own stacks stay empty from then on. */
  useHistory(history) {
    this.history = history;
    this.undoStack = [];
    this.redoStack = [];
    this.emitHistory();
  }

  /** Undo or redo through the co-editing history, under the same lock as the store's own
   * steps; the shared document's new state comes back through applyRemote. */
  sharedStep(way) {
    const step = this.history.top(way);
    if (!step) return false;
    if (!this.allowed(step)) {
      this.bus.emit("edit:refused", { cmd: step, reason: this.lockReason, [way]: true });
      return false;
    }
    const done = this.history[way]();
    this.emitHistory();
    return done;
  }

  undo() {
    if (this.history) return this.sharedStep("undo");
    const cmd = this.undoStack[this.undoStack.length - 1];
    if (!cmd) return false;
    if (!this.allowed(cmd)) {
      this.bus.emit("edit:refused", { cmd, reason: this.lockReason, undo: true });
      return false;
    }
    this.undoStack.pop();
    cmd.undo(this.doc);
    this.redoStack.push(cmd);
    this.changed(cmd, "undo");
    return true;
  }

  redo() {
    if (this.history) return this.sharedStep("redo");
    const cmd = this.redoStack[this.redoStack.length - 1];
    if (!cmd) return false;
    if (!this.allowed(cmd)) {
      this.bus.emit("edit:refused", { cmd, reason: this.lockReason, redo: true });
      return false;
    }
    this.redoStack.pop();
    cmd.do(this.doc);
    cmd.at = 0; // never coalesce into a redone command
    this.undoStack.push(cmd);
    this.changed(cmd, "redo");
    return true;
  }

  /** Start afresh with `doc` and no history (first load). */
  reset(doc) {
    this.doc = structuredClone(doc);
    this.undoStack = [];
    this.redoStack = [];
    this.history?.clear();
    this.selection = { components: new Set(), links: new Set() };
    this.changed(null, "reset");
    this.bus.emit("selection:changed", { origin: "store" });
  }

  /** The document as co-editing merged it (coedit.js): others' edits and this person's
   * undo and redo, applied whatever the lock (a viewer sees them too). No command: the
   * history is co-editing's own (useHistory), which others' edits leave in place. */
  applyRemote(doc) {
    this.doc = doc;
    this.changed({ remote: true, layoutOnly: true }, "remote");
  }

  changed(cmd, how) {
    this.version += 1;
    if (cmd?.renamed && how !== "reset") {
      const [a, b] = how === "undo" ? [...cmd.renamed].reverse() : cmd.renamed;
      this.renameInSelection(a, b);
    }
    if (cmd?.rekey) {
      const [a, b] = how === "undo" ? [...cmd.rekey].reverse() : cmd.rekey;
      if (this.selection.links.delete(a)) this.selection.links.add(b);
    }
    this.bus.emit("doc:changed", { cmd, how, version: this.version });
    this.emitHistory();
    this.pruneSelection();
  }

  emitHistory() {
    const [undo, redo] = this.nextSteps();
    this.bus.emit("history:changed", { canUndo: !!undo, canRedo: !!redo, undoLabel: undo?.label,
                                       redoLabel: redo?.label });
  }

  renameInSelection(a, b) {
    const sel = this.selection;
    if (sel.components.delete(a)) sel.components.add(b);
    const links = [...sel.links].map((k) => {
      const [f, t] = k.split(">");
      return `${f === a ? b : f}>${t === a ? b : t}`;
    });
    sel.links = new Set(links);
  }

  // -- selection ---------------------------------------------------------------------
  /** Replace (or with additive, extend) the selection. */
  select({ components = [], links = [] } = {}, { additive = false, origin = "store" } = {}) {
    const next = additive
      ? { components: new Set([...this.selection.components, ...components]),
          links: new Set([...this.selection.links, ...links]) }
      : { components: new Set(components), links: new Set(links) };
    const same = next.components.size === this.selection.components.size
      && next.links.size === this.selection.links.size
      && [...next.components].every((id) => this.selection.components.has(id))
      && [...next.links].every((k) => this.selection.links.has(k));
    if (same) return;
    this.selection = next;
    this.bus.emit("selection:changed", { origin });
  }

  clearSelection(origin = "store") {
    this.select({}, { origin });
  }

  pruneSelection() {
    const ids = this.ids();
    const keys = new Set(this.doc.links.map(linkKey));
    const comps = [...this.selection.components].filter((id) => ids.has(id));
    const links = [...this.selection.links].filter((k) => keys.has(k));
    if (comps.length !== this.selection.components.size || links.length !== this.selection.links.size) {
      this.selection = { components: new Set(comps), links: new Set(links) };
      this.bus.emit("selection:changed", { origin: "store" });
    }
  }

  /** The single selected thing: {type: "component"|"link", id|key} or null. */
  single() {
    const { components, links } = this.selection;
    if (components.size === 1 && links.size === 0) return { type: "component", id: [...components][0] };
    if (links.size === 1 && components.size === 0) return { type: "link", key: [...links][0] };
    return null;
  }
}

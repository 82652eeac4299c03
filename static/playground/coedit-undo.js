// Undo and redo per person while co-editing (issue 19): a Y.UndoManager over the shared
// document that tracks only this tab's own changes (origin LOCAL), so undo takes back this
// person's last edit and leaves everyone else's in place, and others' edits never empty
// the history. The store hands it every command it runs (store.useHistory): the steps
// follow the store's own grouping (a command continuing the one before, as typing in one
// field, joins its step; any other starts one), each labelled with its command and marked
// layout-only or not (only those undo while a run is live). Where others changed the same
// field since, Yjs keeps theirs, and a step left with nothing to take back is skipped.

import { Y, roots } from "./coedit-map.js";
import { HISTORY_LIMIT, continues } from "./store.js";

export const LOCAL = "local"; // the origin of this tab's own transactions on the shared doc

export class SharedHistory {
  /** `changed()`: an undo or redo changed the shared document (for the store to read it). */
  constructor(ydoc, changed) {
    this.changed = changed;
    this.last = null; // the command recorded last {coalesceKey, at, merge}
    this.step = { label: "Edit", layoutOnly: false }; // what the next new step is
    // Steps are cut where the store's commands are (record), never by time.
    this.manager = new Y.UndoManager(roots(ydoc), { trackedOrigins: new Set([LOCAL]), captureTimeout: Infinity });
    const describe = ({ stackItem, origin }) => {
      // a step undone (or redone) lands on the other stack with its description
      const from = origin === this.manager ? this.manager.currStackItem?.meta : null;
      stackItem.meta.set("label", from ? from.get("label") : this.step.label);
      stackItem.meta.set("layoutOnly", from ? from.get("layoutOnly") : this.step.layoutOnly);
    };
    this.manager.on("stack-item-added", (event) => {
      describe(event);
      if (this.manager.undoStack.length > HISTORY_LIMIT) this.manager.undoStack.shift();
    });
    this.manager.on("stack-item-updated", describe);
  }

  /** The store ran `cmd`: its change to the shared document follows (coedit.js). */
  record(cmd) {
    const now = performance.now();
    if (!continues(this.last, cmd, now)) this.manager.stopCapturing();
    this.last = { coalesceKey: cmd.coalesceKey, at: now, merge: cmd.merge };
    this.step = { label: cmd.label, layoutOnly: !!cmd.layoutOnly };
  }

  /** The step undo or redo (`way`) would take: {label, layoutOnly}, or undefined. */
  top(way) {
    const item = (way === "undo" ? this.manager.undoStack : this.manager.redoStack).at(-1);
    return item && { label: item.meta.get("label"), layoutOnly: item.meta.get("layoutOnly") };
  }

  undo() {
    return this.take("undo");
  }

  redo() {
    return this.take("redo");
  }

  take(way) {
    this.last = null; // the next command starts a step of its own
    const done = this.manager[way]() !== null;
    if (done) this.changed();
    return done;
  }

  clear() {
    this.manager.clear();
    this.last = null;
  }

  /** Whether a transaction with `origin` is this tab's own (to be sent to the others). */
  mine(origin) {
    return origin === LOCAL || origin === this.manager;
  }
}

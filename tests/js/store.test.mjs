// The store: every edit is a command, undone and redone exactly; a lock refuses all but
// layout edits, read-only refuses everything; the selection follows renames and deletions.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Bus } from "../../static/playground/bus.js";
import { Store } from "../../static/playground/store.js";
import { addElements, addLink, moveComponents, removeElements, renameComponent,
         setParams } from "../../static/playground/commands.js";

function storeWithEvents() {
  const bus = new Bus();
  const events = [];
  for (const type of ["doc:changed", "selection:changed", "history:changed", "edit:refused"]) {
    bus.on(type, (detail) => events.push([type, detail]));
  }
  return { store: new Store(bus), events };
}

const client = { id: "c", kind: "client", params: { rate_rps: 10 }, position: { x: 0, y: 0 } };
const service = { id: "s", kind: "service", params: {}, position: { x: 200, y: 0 } };

test("exec, undo and redo restore the document exactly", () => {
  const { store } = storeWithEvents();
  const empty = structuredClone(store.doc);
  assert.ok(store.exec(addElements([client, service], [], "Add two")));
  assert.ok(store.exec(addLink({ from: "c", to: "s" })));
  const full = structuredClone(store.doc);
  assert.ok(store.undo());
  assert.ok(store.undo());
  assert.deepEqual(store.doc, empty);
  assert.equal(store.undo(), false);
  assert.ok(store.redo());
  assert.ok(store.redo());
  assert.deepEqual(store.doc, full);
  assert.equal(store.redo(), false);
});

test("a new command clears the redo history", () => {
  const { store } = storeWithEvents();
  store.exec(addElements([client]));
  store.undo();
  assert.ok(store.canRedo);
  store.exec(addElements([service]));
  assert.equal(store.canRedo, false);
});

test("history:changed names the steps to undo and redo", () => {
  const { store, events } = storeWithEvents();
  store.exec(addElements([client], [], "Add client"));
  const last = events.filter(([t]) => t === "history:changed").at(-1)[1];
  assert.deepEqual(last, { canUndo: true, canRedo: false, undoLabel: "Add client", redoLabel: undefined });
});

test("consecutive nudges of the same components are one undo step", () => {
  const { store } = storeWithEvents();
  store.exec(addElements([client]));
  const at = (x) => ({ x, y: 0 });
  store.exec(moveComponents({ c: { from: at(0), to: at(20) } }, { nudge: true }));
  store.exec(moveComponents({ c: { from: at(20), to: at(40) } }, { nudge: true }));
  assert.equal(store.undoStack.length, 2);
  assert.deepEqual(store.component("c").position, at(40));
  store.undo();
  assert.deepEqual(store.component("c").position, at(0));
});

test("a locked store takes layout edits only, and says why it refused the others", () => {
  const { store, events } = storeWithEvents();
  store.exec(addElements([client]));
  store.setLocked(true, "run");
  assert.equal(store.exec(setParams(store.doc, "c", { rate_rps: 20 })), false);
  assert.equal(store.component("c").params.rate_rps, 10);
  const refused = events.filter(([t]) => t === "edit:refused");
  assert.equal(refused.length, 1);
  assert.equal(refused[0][1].reason, "run");
  assert.ok(store.exec(moveComponents({ c: { from: { x: 0, y: 0 }, to: { x: 40, y: 0 } } })));
  assert.equal(store.undo(), true); // the move: layout only
  assert.equal(store.undo(), false); // adding the client changed the design
  assert.equal(events.filter(([t]) => t === "edit:refused").at(-1)[1].undo, true);
});

test("a read-only store refuses even layout edits and stays locked", () => {
  const { store } = storeWithEvents();
  store.exec(addElements([client]));
  store.setReadOnly(true);
  store.setLocked(false);
  assert.equal(store.locked, true);
  assert.equal(store.lockReason, "read-only");
  assert.equal(store.exec(moveComponents({ c: { from: { x: 0, y: 0 }, to: { x: 40, y: 0 } } })), false);
});

test("the selection follows a rename, its undo, and drops what was deleted", () => {
  const { store } = storeWithEvents();
  store.exec(addElements([client, service], [{ from: "c", to: "s" }]));
  store.select({ components: ["s"], links: ["c>s"] });
  store.exec(renameComponent("s", "api"));
  assert.deepEqual([...store.selection.components], ["api"]);
  assert.deepEqual([...store.selection.links], ["c>api"]);
  store.undo();
  assert.deepEqual([...store.selection.components], ["s"]);
  store.exec(removeElements(store.doc, ["s"]));
  assert.equal(store.selection.components.size, 0);
  assert.equal(store.selection.links.size, 0); // the link went with its end
});

test("select is quiet when nothing changes; single() names one thing", () => {
  const { store, events } = storeWithEvents();
  store.exec(addElements([client, service], [], "Add")); // selects what it added
  store.clearSelection();
  const before = events.filter(([t]) => t === "selection:changed").length;
  store.select({ components: ["c", "s"] });
  store.select({ components: ["s", "c"] });
  assert.equal(events.filter(([t]) => t === "selection:changed").length, before + 1);
  assert.equal(store.single(), null);
  store.select({ links: ["c>s"] });
  assert.deepEqual(store.single(), { type: "link", key: "c>s" });
  store.select({ components: ["c"] }, { additive: true });
  assert.equal(store.single(), null);
});

test("reset starts afresh: no history, no selection, a copy of the document", () => {
  const { store } = storeWithEvents();
  store.exec(addElements([client]));
  store.select({ components: ["c"] });
  const doc = { ...store.doc, components: [service] };
  store.reset(doc);
  assert.equal(store.canUndo, false);
  assert.equal(store.selection.components.size, 0);
  store.doc.components[0].id = "changed";
  assert.equal(doc.components[0].id, "s");
});

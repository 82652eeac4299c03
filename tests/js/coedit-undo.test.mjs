// Undo per person while co-editing (coedit-undo.js): two tabs, each a store with its shared
// history over a Y document, wired as coedit.js wires them (the store's changes into the Y
// document, this tab's Y updates to the other tab, the Y document back into the store).
// Undo takes back only the undoing person's edits; others' edits never empty a history.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Bus } from "../../static/playground/bus.js";
import { Store } from "../../static/playground/store.js";
import { Y, applyDocument, canonical, toDocument } from "../../static/playground/coedit-map.js";
import { LOCAL, SharedHistory } from "../../static/playground/coedit-undo.js";
import { addElements, moveComponents, removeElements, setParams } from "../../static/playground/commands.js";
import { normalize } from "../../static/playground/topology.js";

const design = () => ({
  version: 1, name: "Two", duration_s: 60,
  components: [
    { id: "users", kind: "client", params: { rate_rps: 10 }, position: { x: 0, y: 0 } },
    { id: "app1", kind: "service", params: { workers: 4 }, position: { x: 200, y: 0 } },
    { id: "app2", kind: "service", params: { workers: 4 }, position: { x: 200, y: 200 } },
  ],
  links: [{ from: "users", to: "app1" }, { from: "users", to: "app2" }],
});

function tab() {
  const bus = new Bus();
  const store = new Store(bus);
  const ydoc = new Y.Doc();
  const t = { bus, store, ydoc, others: [], events: [] };
  t.pull = () => {
    const doc = normalize(toDocument(ydoc)).doc;
    if (canonical(doc) !== canonical(store.doc)) store.applyRemote(doc);
  };
  t.history = new SharedHistory(ydoc, t.pull);
  store.useHistory(t.history);
  ydoc.on("update", (update, origin) => {
    if (!t.history.mine(origin)) return;
    for (const other of t.others) {
      Y.applyUpdate(other.ydoc, update, "server");
      other.pull();
    }
  });
  bus.on("doc:changed", ({ how }) => { if (how !== "remote") applyDocument(ydoc, store.doc, LOCAL); });
  for (const type of ["history:changed", "edit:refused"]) bus.on(type, (d) => t.events.push([type, d]));
  return t;
}

/** Two people in one room, both starting from the same saved design. */
function room() {
  const a = tab(), b = tab();
  a.others.push(b);
  b.others.push(a);
  const start = new Y.Doc();
  applyDocument(start, design(), "server");
  for (const t of [a, b]) {
    Y.applyUpdate(t.ydoc, Y.encodeStateAsUpdate(start), "server");
    t.pull();
  }
  return { a, b };
}

const comp = (t, id) => t.store.doc.components.find((c) => c.id === id);
const lastHistory = (t) => t.events.filter(([type]) => type === "history:changed").at(-1)[1];

test("undo takes back only my edit, in both tabs; redo puts it back", () => {
  const { a, b } = room();
  assert.equal(a.store.canUndo, false); // the room's starting state is nobody's edit
  a.store.exec(setParams(a.store.doc, "app1", { workers: 9 }));
  b.store.exec(setParams(b.store.doc, "app2", { workers: 7 }));
  assert.equal(comp(a, "app2").params.workers, 7);
  assert.ok(a.store.canUndo, "a remote edit leaves my history in place");
  assert.deepEqual(lastHistory(a), { canUndo: true, canRedo: false, undoLabel: "Change workers of app1",
                                     redoLabel: undefined });
  assert.ok(a.store.undo());
  for (const t of [a, b]) {
    assert.equal(comp(t, "app1").params.workers, 4);
    assert.equal(comp(t, "app2").params.workers, 7);
  }
  assert.equal(a.store.canUndo, false);
  assert.equal(lastHistory(a).redoLabel, "Change workers of app1");
  assert.ok(b.store.canUndo, "B's own step is still B's to undo");
  assert.ok(a.store.redo());
  for (const t of [a, b]) assert.equal(comp(t, "app1").params.workers, 9);
  assert.ok(b.store.undo());
  for (const t of [a, b]) {
    assert.equal(comp(t, "app2").params.workers, 4);
    assert.equal(comp(t, "app1").params.workers, 9);
  }
});

test("a field someone else changed since keeps their value; my undo skips that step", () => {
  const { a, b } = room();
  a.store.exec(moveComponents({ users: { from: { x: 0, y: 0 }, to: { x: 40, y: 0 } } }));
  a.store.exec(setParams(a.store.doc, "app1", { workers: 9 }));
  b.store.exec(setParams(b.store.doc, "app1", { workers: 12 }));
  assert.ok(a.store.undo()); // its parameter step has nothing of A's left: the move goes
  for (const t of [a, b]) {
    assert.equal(comp(t, "app1").params.workers, 12);
    assert.deepEqual(comp(t, "users").position, { x: 0, y: 0 });
  }
});

test("undoing a delete brings the component back with its parameters and links", () => {
  const { a, b } = room();
  a.store.exec(removeElements(a.store.doc, ["app2"]));
  b.store.exec(setParams(b.store.doc, "app1", { workers: 6 }));
  assert.equal(comp(b, "app2"), undefined);
  assert.ok(a.store.undo());
  for (const t of [a, b]) {
    assert.deepEqual(comp(t, "app2"), design().components[2]);
    assert.ok(t.store.doc.links.some((l) => l.to === "app2"));
    assert.equal(comp(t, "app1").params.workers, 6);
  }
});

test("my undo never brings back a component someone else deleted since", () => {
  const { a, b } = room();
  a.store.exec(setParams(a.store.doc, "app2", { workers: 6 }));
  b.store.exec(removeElements(b.store.doc, ["app2"]));
  a.store.undo();
  for (const t of [a, b]) assert.equal(comp(t, "app2"), undefined);
});

test("steps follow the store's commands: nudges coalesce, other commands do not", () => {
  const { a } = room();
  const at = (x) => ({ x, y: 0 });
  a.store.exec(addElements([{ id: "db", kind: "database", params: {}, position: at(400) }], [], "Add db"));
  a.store.exec(moveComponents({ db: { from: at(400), to: at(420) } }, { nudge: true }));
  a.store.exec(moveComponents({ db: { from: at(420), to: at(440) } }, { nudge: true }));
  a.store.exec(setParams(a.store.doc, "db", { workers: 2 }));
  a.store.undo();
  assert.deepEqual(comp(a, "db").position, at(440));
  a.store.undo();
  assert.deepEqual(comp(a, "db").position, at(400)); // both nudges at once
  assert.equal(lastHistory(a).undoLabel, "Add db");
  a.store.undo();
  assert.equal(comp(a, "db"), undefined);
  assert.equal(a.store.canUndo, false);
});

test("a new edit after an undo empties redo, and starts a step of its own", () => {
  const { a } = room();
  a.store.exec(setParams(a.store.doc, "app1", { workers: 5 }));
  a.store.undo();
  a.store.redo();
  a.store.exec(setParams(a.store.doc, "app2", { workers: 8 }));
  assert.equal(a.store.canRedo, false);
  a.store.undo();
  assert.equal(comp(a, "app2").params.workers, 4);
  assert.equal(comp(a, "app1").params.workers, 5);
});

test("during a run only layout steps undo, as without co-editing", () => {
  const { a } = room();
  a.store.exec(setParams(a.store.doc, "app1", { workers: 5 }));
  a.store.exec(moveComponents({ app1: { from: { x: 200, y: 0 }, to: { x: 260, y: 0 } } }));
  a.store.setLocked(true, "run");
  assert.ok(a.store.undo()); // the move
  assert.equal(a.store.undo(), false);
  assert.equal(a.events.filter(([type]) => type === "edit:refused").at(-1)[1].undo, true);
  assert.equal(comp(a, "app1").params.workers, 5);
  a.store.setLocked(false);
  assert.ok(a.store.undo());
  assert.equal(comp(a, "app1").params.workers, 4);
});

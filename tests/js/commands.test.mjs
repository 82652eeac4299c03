// Every command's undo is the exact inverse of its do, whatever it touches.
import { test } from "node:test";
import assert from "node:assert/strict";

import { addElements, addEvent, addLink, batch, moveComponents, removeElements, removeEvent,
         renameComponent, replaceDocument, setLabel, setLink, setParams,
         setScenario } from "../../static/playground/commands.js";
import { emptyDocument } from "../../static/playground/topology.js";

function design() {
  return {
    ...emptyDocument(),
    components: [
      { id: "c", kind: "client", params: { rate_rps: 10 }, position: { x: 0, y: 0 } },
      { id: "lb", kind: "load_balancer", params: {}, label: "Front", position: { x: 200, y: 0 } },
      { id: "s", kind: "service", params: { workers: 2 }, position: { x: 400, y: 0 } },
    ],
    links: [{ from: "c", to: "lb" }, { from: "lb", to: "s", latency_ms: 2 }],
    events: [{ at_s: 10, action: "fail", target: "s" }, { at_s: 20, action: "partition", target: ["c", "lb"] }],
  };
}

/** Run `make(doc)` on a fresh design: do changes it as `check` expects, undo restores it. */
function roundTrip(make, check) {
  const doc = design();
  const before = structuredClone(doc);
  const cmd = make(doc);
  cmd.do(doc);
  check(doc);
  cmd.undo(doc);
  assert.deepEqual(doc, before);
  cmd.do(doc);
  check(doc); // and again: redo
  return cmd;
}

test("add elements, then undo removes exactly them", () => {
  const cmd = roundTrip(() => addElements([{ id: "db", kind: "database", params: {} }], [{ from: "s", to: "db" }]),
                        (d) => {
                          assert.equal(d.components.at(-1).id, "db");
                          assert.deepEqual(d.links.at(-1), { from: "s", to: "db" });
                        });
  assert.deepEqual(cmd.selectAfter, { components: ["db"], links: ["s>db"] });
});

test("removing a component takes its links and events, and undo puts them back in place", () => {
  const cmd = roundTrip((doc) => removeElements(doc, ["lb"]), (d) => {
    assert.deepEqual(d.components.map((c) => c.id), ["c", "s"]);
    assert.deepEqual(d.links, []);
    assert.deepEqual(d.events.map((e) => e.action), ["fail"]);
  });
  assert.equal(cmd.label, "Delete 1 component");
  assert.equal(removeElements(design(), ["nothing"]).empty, true);
});

test("removing a link alone names it", () => {
  const cmd = roundTrip((doc) => removeElements(doc, [], ["lb>s"]), (d) => assert.equal(d.links.length, 1));
  assert.equal(cmd.label, "Delete 1 link");
});

test("params: set, and undefined goes back to the default", () => {
  roundTrip((doc) => setParams(doc, "s", { workers: undefined, service_ms: 5 }), (d) => {
    assert.deepEqual(d.components[2].params, { service_ms: 5 });
  });
});

test("label and name edits are layout only; params, links and timing are not", () => {
  const doc = design();
  assert.equal(setLabel(doc, "lb", "").layoutOnly, true);
  assert.equal(setScenario(doc, { name: "x" }).layoutOnly, true);
  assert.equal(setScenario(doc, { name: "x", duration_s: 5 }).layoutOnly, false);
  assert.ok(!setParams(doc, "s", { workers: 3 }).layoutOnly);
  assert.ok(moveComponents({}).layoutOnly);
  assert.equal(batch("both", [setLabel(doc, "lb", "A"), moveComponents({})]).layoutOnly, true);
  assert.equal(batch("both", [setLabel(doc, "lb", "A"), setParams(doc, "s", {})]).layoutOnly, false);
  roundTrip((d) => setLabel(d, "lb", ""), (d) => assert.equal("label" in d.components[1], false));
});

test("a rename follows into links and events, and reports the rename", () => {
  const cmd = roundTrip(() => renameComponent("lb", "edge"), (d) => {
    assert.equal(d.components[1].id, "edge");
    assert.deepEqual(d.links.map((l) => `${l.from}>${l.to}`), ["c>edge", "edge>s"]);
    assert.deepEqual(d.events[1].target, ["c", "edge"]);
  });
  assert.deepEqual(cmd.renamed, ["lb", "edge"]);
});

test("reversing a link re-keys it", () => {
  const cmd = roundTrip((doc) => setLink(doc, "lb>s", { from: "s", to: "lb" }), (d) => {
    assert.deepEqual(d.links[1], { from: "s", to: "lb", latency_ms: 2 });
  });
  assert.deepEqual(cmd.rekey, ["lb>s", "s>lb"]);
  assert.equal(setLink(design(), "lb>s", { latency_ms: 3 }).rekey, null);
});

test("links and events: add and remove", () => {
  roundTrip(() => addLink({ from: "c", to: "s" }), (d) => assert.equal(d.links.length, 3));
  roundTrip(() => addEvent({ at_s: 15, action: "recover", target: "s" }),
            (d) => assert.deepEqual(d.events.map((e) => e.at_s), [10, 15, 20])); // kept in time order
  roundTrip((doc) => removeEvent(doc, 0), (d) => assert.deepEqual(d.events.map((e) => e.at_s), [20]));
});

test("replacing the document, and a batch, undo as one step", () => {
  const next = { ...emptyDocument(), name: "Other" };
  const cmd = roundTrip((doc) => replaceDocument(doc, next), (d) => assert.deepEqual(d, next));
  assert.equal(cmd.replaces, true);
  roundTrip((doc) => batch("two", [setParams(doc, "s", { workers: 9 }), renameComponent("s", "api")]), (d) => {
    assert.equal(d.components[2].id, "api");
    assert.equal(d.components[2].params.workers, 9);
  });
});

test("commands keep their own copies: changing the input later changes nothing", () => {
  const component = { id: "db", kind: "database", params: {} };
  const cmd = addElements([component]);
  component.id = "mutated";
  const doc = design();
  cmd.do(doc);
  assert.equal(doc.components.at(-1).id, "db");
  doc.components.at(-1).params.workers = 5;
  cmd.undo(doc);
  cmd.do(doc);
  assert.deepEqual(doc.components.at(-1).params, {});
});

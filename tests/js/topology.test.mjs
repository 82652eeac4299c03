// Pure document logic: ids, which links can ever be valid, placement, tidying imports.
import { test } from "node:test";
import assert from "node:assert/strict";

import { autoPlace, emptyDocument, eventTouches, linkKey, nextId, normalize, proposeLink, reaches,
         snap } from "../../static/playground/topology.js";

const doc = (components, links = []) => ({ ...emptyDocument(), components, links });
const c = (id, kind, position) => ({ id, kind, params: {}, ...(position ? { position } : {}) });

test("nextId skips taken ids; snap rounds to the grid", () => {
  assert.equal(nextId("load_balancer", new Set(["load-balancer-1"])), "load-balancer-2");
  assert.equal(snap(29), 20);
  assert.equal(snap(31), 40);
  assert.equal(snap(31, false), 31);
  assert.equal(linkKey({ from: "a", to: "b" }), "a>b");
});

test("proposeLink allows what could be valid and says why not otherwise", () => {
  const d = doc([c("cl", "client"), c("s", "service"), c("t", "service"), c("q", "queue"),
                 c("tp", "topic"), c("w", "worker"), c("db1", "database"), c("db2", "database"), c("db3", "database")],
                [{ from: "cl", to: "s" }, { from: "s", to: "t" }, { from: "db1", to: "db2", kind: "replication" }]);
  assert.deepEqual(proposeLink(d, "t", "db1"), { link: { from: "t", to: "db1" } });
  assert.deepEqual(proposeLink(d, "db1", "db3"), { link: { from: "db1", to: "db3", kind: "replication" } });
  assert.match(proposeLink(d, "s", "s").problem, /itself/);
  assert.match(proposeLink(d, "cl", "s").problem, /already a link/);
  assert.match(proposeLink(d, "s", "cl").problem, /cannot be called/);
  assert.match(proposeLink(d, "db3", "db2").problem, /already has a primary/);
  assert.match(proposeLink(d, "db1", "s").problem, /calls nothing/);
  assert.match(proposeLink(d, "s", "w").problem, /queues and topics feed workers/);
  assert.match(proposeLink(d, "q", "s").problem, /queues and topics feed workers/);
  assert.deepEqual(proposeLink(d, "q", "w"), { link: { from: "q", to: "w" } });
  assert.deepEqual(proposeLink(d, "tp", "w"), { link: { from: "tp", to: "w" } });
  assert.match(proposeLink(d, "tp", "s").problem, /topics feed workers/);
  assert.match(proposeLink(d, "t", "s").problem, /cycle/);
  assert.match(proposeLink(d, "x", "s").problem, /pick two/);
});

test("proposeLink makes a queue's link to another queue its dead-letter link, one per queue", () => {
  const d = doc([c("q", "queue"), c("dlq", "queue"), c("dlq2", "queue")], []);
  assert.deepEqual(proposeLink(d, "q", "dlq"), { link: { from: "q", to: "dlq", dead_letter: true } });
  d.links.push({ from: "q", to: "dlq", dead_letter: true });
  assert.match(proposeLink(d, "q", "dlq2").problem, /already has a dead-letter queue/);
  assert.match(proposeLink(d, "dlq", "q").problem, /cycle/);
});

test("proposeLink lets an exchange bind queues and topics, nothing else", () => {
  const d = doc([c("cl", "client"), c("x", "exchange"), c("q", "queue"), c("tp", "topic"),
                 c("s", "service"), c("w", "worker")], [{ from: "cl", to: "x" }, { from: "q", to: "w" }]);
  assert.deepEqual(proposeLink(d, "x", "q"), { link: { from: "x", to: "q" } });
  assert.deepEqual(proposeLink(d, "x", "tp"), { link: { from: "x", to: "tp" } });
  assert.match(proposeLink(d, "x", "s").problem, /an exchange routes messages to queues and topics \(exchange → service\)/);
  assert.match(proposeLink(d, "x", "w").problem, /exchange → worker/);
  assert.deepEqual(proposeLink(d, "s", "x"), { link: { from: "s", to: "x" } });  // a producer
  assert.deepEqual(proposeLink(d, "w", "x"), { link: { from: "w", to: "x" } });
});

test("reaches follows call links only", () => {
  const d = doc([c("a", "service"), c("b", "service"), c("c", "service")],
                [{ from: "a", to: "b" }, { from: "b", to: "c", kind: "replication" }]);
  assert.ok(reaches(d, "a", "b"));
  assert.ok(!reaches(d, "a", "c"));
  assert.ok(!reaches(d, "b", "a"));
});

test("autoPlace puts unplaced components in layers from the clients, keeps placed ones", () => {
  const d = doc([c("cl", "client"), c("s", "service"), c("db", "database", { x: 7, y: 9 })],
                [{ from: "cl", to: "s" }, { from: "s", to: "db" }]);
  autoPlace(d);
  const at = Object.fromEntries(d.components.map((x) => [x.id, x.position]));
  assert.ok(at.cl.x < at.s.x);
  assert.deepEqual(at.db, { x: 7, y: 9 });
  for (const p of [at.cl, at.s]) assert.equal(p.x % 20, 0);
});

test("normalize repairs what would break the editor and says so", () => {
  const { doc: d, notes } = normalize({
    components: [{ id: "a", kind: "client" }, { id: "a", kind: "service" }, { kind: 3, id: "bad id!" }, null,
                 { id: "p", kind: "service", position: { x: NaN, y: 0 } }],
    links: [{ from: "a", to: "service-1" }, { from: "a", to: "service-1" }, { to: "a" }],
  });
  assert.equal(d.format, "playground.scenario/v1");
  assert.equal(d.name, "Untitled design");
  assert.deepEqual(d.components.map((x) => x.id), ["a", "service-1", "service-2", "p"]);
  assert.ok(d.components.every((x) => x.position && Number.isFinite(x.position.x)));
  assert.equal(d.links.length, 1);
  assert.deepEqual(d.events, []);
  assert.equal(notes.length, 4);
});

test("normalize refuses what is not a scenario", () => {
  assert.throws(() => normalize([]), /expected a JSON object/);
  assert.throws(() => normalize({ format: "other/v2" }), /unknown format/);
  assert.throws(() => normalize({ hello: 1 }), /its keys: 'hello'/);
  assert.throws(() => normalize({}), /empty object/);
  assert.throws(() => normalize({ components: [], links: {} }), /"links" is not a list/);
});

test("eventTouches: an event on a component, or on a link touching one", () => {
  const ids = new Set(["a"]);
  assert.ok(eventTouches({ target: "a" }, ids, new Set()));
  assert.ok(eventTouches({ target: ["x", "a"] }, ids, new Set()));
  assert.ok(eventTouches({ target: ["x", "y"] }, ids, new Set(["x>y"])));
  assert.ok(!eventTouches({ target: "b" }, ids, new Set()));
});

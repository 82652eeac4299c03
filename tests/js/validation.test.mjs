// The validator's "path: message" lines, located on the components, links, events and
// fields they are about.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Problems, locate } from "../../static/playground/validation.js";

const doc = {
  components: [{ id: "c", kind: "client" }, { id: "db", kind: "database", label: "Orders" }],
  links: [{ from: "c", to: "db" }],
  events: [],
};

test("lines are located on what they name", () => {
  assert.deepEqual(locate("components[1].params.workers: must be >= 1", doc), {
    kind: "component", id: "db", field: "workers", message: "must be >= 1",
    line: "components[1].params.workers: must be >= 1", where: "Orders" });
  // within a structured parameter (a schedule): the field, and the rest of the path first
  const inner = locate("components[1].params.schedule.points[3][0]: must be > 5", doc);
  assert.equal(inner.field, "schedule");
  assert.equal(inner.message, "points[3][0]: must be > 5");
  assert.equal(locate("components[0].label: must have at most 100 characters", doc).field, "label");
  const link = locate("links[0].weight: must be > 0", doc);
  assert.deepEqual([link.kind, link.key, link.field, link.where], ["link", "c>db", "weight", "c → db"]);
  const event = locate("events[2].target: no component with id 'x'", doc);
  assert.deepEqual([event.kind, event.index, event.where], ["event", 2, "scheduled event 3"]);
  assert.deepEqual([locate("duration_s: must be <= 86400", doc).kind, locate("seed: x", doc).field],
                   ["scenario", "seed"]);
  assert.deepEqual(locate("components: no client sends requests", doc),
                   { kind: "document", message: "no client sends requests",
                     line: "components: no client sends requests", where: "components" });
  assert.equal(locate("(document): not valid JSON", doc).where, "");
  assert.equal(locate("components[9].id: duplicate", doc).where, "components[9].id"); // gone since
});

test("Problems sorts the lines by what they are about", () => {
  const problems = new Problems(["components[1].params.workers: must be >= 1", "links[0].weight: must be > 0",
                                 "warmup_s: must be < duration_s (10)"], doc);
  assert.equal(problems.count, 3);
  assert.equal(problems.forComponent("db").length, 1);
  assert.equal(problems.fieldMessage(problems.forLink("c>db"), "weight"), "must be > 0");
  assert.equal(problems.forScenario("warmup_s")[0].message, "must be < duration_s (10)");
  assert.equal(new Problems(["x: y"]).count, 0); // without the document they were computed for
});

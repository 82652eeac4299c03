// The editor's registry: palette groups, starter values, and the on-the-spot checks in
// the validator's wording.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Registry, checkValue, parseNumber } from "../../static/playground/registry.js";

const registry = new Registry({
  kinds: {
    client: { group: "traffic", title: "Client", help: "", params: [
      { name: "rate_rps", type: "float", required: true, default: null, minimum: 0 },
      { name: "read_ratio", type: "float", default: 0.9, minimum: 0, maximum: 1 },
    ] },
    service: { group: "compute", title: "Service", help: "", params: [
      { name: "workers", type: "int", default: 4, required: true, minimum: 1 },
      { name: "service_ms", type: "float", required: true, minimum: 0, exclusive_minimum: true },
      { name: "dist", type: "choice", required: true, choices: ["exponential", "constant"] },
    ] },
    gadget: { group: "toys", title: "Gadget", help: "", params: [
      { name: "on", type: "bool", required: true },
      { name: "size", type: "int", required: true, minimum: 3 },
    ] },
  },
  limits: {},
});

test("groups: known groups in order, new ones after", () => {
  assert.deepEqual(registry.groups().map((g) => [g.group, g.title, g.kinds]),
                   [["traffic", "Traffic", ["client"]], ["compute", "Compute", ["service"]],
                    ["toys", "toys", ["gadget"]]]);
});

test("a new component starts with every required parameter set", () => {
  assert.deepEqual(registry.starterParams("client"), { rate_rps: 100 });
  assert.deepEqual(registry.starterParams("service"), { workers: 4, service_ms: 10, dist: "exponential" });
  assert.deepEqual(registry.starterParams("gadget"), { on: false, size: 3 });
});

test("values and summaries fall back to the registry's defaults", () => {
  const c = { id: "c1", kind: "client", params: { rate_rps: 1200 } };
  assert.equal(registry.value(c, "read_ratio"), 0.9);
  assert.equal(registry.summary(c), "1,200 rps · 90% reads");
  const crowd = { ...c, params: { ...c.params, schedule: { shape: "spike", at_s: 5, peak_rps: 9 } } };
  assert.equal(registry.summary(crowd), "1,200 rps · spike · 90% reads");
  assert.equal(registry.kind("nope").title, "nope");
  assert.equal(registry.summary({ id: "x", kind: "gadget", params: {} }), "Gadget");
  const exchanges = new Registry({ kinds: { exchange: { group: "messaging", title: "Exchange", help: "", params: [
    { name: "type", type: "choice", default: "fanout", choices: ["fanout", "direct", "topic"] },
    { name: "publish_ms", type: "float", default: 0, minimum: 0 }] } }, limits: {} });
  assert.equal(exchanges.summary({ id: "x", kind: "exchange", params: {} }), "fanout exchange");
  assert.equal(exchanges.summary({ id: "x", kind: "exchange", params: { type: "topic", publish_ms: 2 } }),
               "topic exchange · 2 ms");
});

test("checkValue speaks the validator's words", () => {
  const spec = { type: "int", minimum: 1, maximum: 10 };
  assert.equal(checkValue(spec, 5), "");
  assert.equal(checkValue(spec, 0), "must be >= 1");
  assert.equal(checkValue(spec, 11), "must be <= 10");
  assert.equal(checkValue(spec, 2.5), "must be a whole number");
  assert.equal(checkValue({ type: "float", minimum: 0, exclusive_minimum: true }, 0), "must be > 0");
  assert.equal(checkValue({ type: "float" }, Infinity), "must be a finite number (not NaN or Infinity)");
  assert.equal(checkValue({ type: "choice", choices: ["a", "b"] }, "c"), "must be one of 'a', 'b'");
  assert.equal(checkValue({ type: "bool" }, 1), "must be true or false");
  assert.equal(checkValue({ type: "int", required: true }, undefined), "is required");
  assert.equal(checkValue({ type: "int", nullable: true }, null), "");
});

test("parseNumber reads what people type", () => {
  const spec = { type: "float", minimum: 0 };
  assert.deepEqual(parseNumber(spec, " 1,000.5 "), { value: 1000.5 });
  assert.deepEqual(parseNumber(spec, "1_000"), { value: 1000 });
  assert.deepEqual(parseNumber(spec, "2e3"), { value: 2000 });
  assert.deepEqual(parseNumber(spec, ""), { value: null });
  assert.deepEqual(parseNumber(spec, "-1"), { error: "must be >= 0", value: -1 });
  assert.deepEqual(parseNumber(spec, "ten"), { error: "must be a number" });
  assert.deepEqual(parseNumber({ type: "int" }, "1.5.2"), { error: "must be a whole number" });
});

test("the document's own fields come from the server, texts checked by length", () => {
  const label = { name: "label", type: "text", max_length: 5 };
  const name = { name: "name", type: "text", min_length: 1, max_length: 8, required: true };
  const withFields = new Registry({ kinds: {}, fields: { component: [label], scenario: [name] } });
  assert.equal(withFields.field("component", "label"), label);
  assert.deepEqual(withFields.fields.link, []);
  assert.equal(checkValue(label, "12345"), "");
  assert.equal(checkValue(label, "123456"), "must have at most 5 characters");
  assert.equal(checkValue(name, "  "), "must have at least 1 characters");
  assert.equal(checkValue(name, "x"), "");
});

test("named sizes: listed for kinds with a size choice, shown on the node card", () => {
  const sized = new Registry({
    kinds: {
      worker: { group: "messaging", title: "Worker", help: "", params: [
        { name: "workers", type: "int", default: 4 },
        { name: "service_ms", type: "float", required: true },
        { name: "size", type: "choice", default: "custom", choices: ["custom", "small"] },
        { name: "instances", type: "int", default: 1 },
        { name: "autoscale", type: "choice", default: "none", choices: ["none", "queue"] },
      ] },
      database: { group: "storage", title: "Database", help: "", params: [
        { name: "workers", type: "int", default: 4 },
        { name: "read_ms", type: "float", required: true },
        { name: "write_ms", type: "float", required: true },
        { name: "size", type: "choice", default: "custom", choices: ["custom", "small"] },
      ] },
    },
    sizes: { small: { workers: 2, speed: 1, cost_per_hour: 0.2 } },
  });
  assert.deepEqual(sized.sizesOf("worker"), [["small", { workers: 2, speed: 1, cost_per_hour: 0.2 }]]);
  assert.deepEqual(registry.sizesOf("gadget"), []); // an int called size is not a named size
  const w = { id: "w", kind: "worker", params: { service_ms: 20 } };
  assert.equal(sized.summary(w), "4 × 20 ms");
  assert.equal(sized.summary({ ...w, params: { service_ms: 20, size: "small", instances: 3 } }),
               "3 × small · 20 ms");
  assert.equal(sized.summary({ ...w, params: { service_ms: 20, size: "small", autoscale: "queue" } }),
               "auto × small · 20 ms");
  const db = { id: "db", kind: "database", params: { read_ms: 2, write_ms: 5, size: "small" } };
  assert.equal(sized.summary(db), "small · r 2 / w 5 ms");
  assert.equal(sized.summary({ ...db, params: { read_ms: 2, write_ms: 5 } }), "4 × r 2 / w 5 ms");
});

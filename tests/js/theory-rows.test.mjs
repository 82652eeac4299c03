// The details panel's rows: request classes, live at their clients beside theory.
import { test } from "node:test";
import assert from "node:assert/strict";

import { componentRows } from "../../static/playground/theory-rows.js";

const run = (components, predictions) => ({
  t: 30, scenario: { warmup_s: 10, links: [] }, components, links: {}, smooth: {},
  predictions: { components: predictions },
});

test("a client's classes: answered, latency and errors per class beside theory", () => {
  const r = run({ c: { classes: { "GET /feed": { ok_rps: 139, error_ratio: 0, latency_ms: 8.4 } } } },
                { c: { offered_rps: 200, classes: { "GET /feed": { offered_rps: 140, response_ms: 8.1 },
                                                    "POST /photo": { offered_rps: 10 } } } });
  const rows = Object.fromEntries(componentRows(r, "c", "client").map((row) => [row.key, row]));
  assert.equal(rows["class:GET /feed:rps"].now, 139);
  assert.equal(rows["class:GET /feed:rps"].theory, 140);
  assert.equal(rows["class:GET /feed:latency"].theory, 8.1);
  assert.equal(rows["class:GET /feed:errors"].now, 0);
  assert.equal(rows["class:GET /feed:rps"].figure, "classes");
  // a class theory predicts that has sent nothing yet still has its rows
  assert.equal(rows["class:POST /photo:rps"].theory, 10);
  assert.equal(rows["class:POST /photo:latency"].theory, undefined);
  assert.match(rows["class:POST /photo:latency"].nowWhy, /No POST \/photo was answered OK/);
});

test("a pool's classes: theory only, the live side says where they are counted", () => {
  const r = run({ svc: { util: 0.5 } },
                { svc: { utilisation: 0.5, classes: { "GET /feed": { offered_rps: 140, response_ms: 6 } } } });
  const rows = componentRows(r, "svc", "service").filter((row) => row.figure === "classes");
  assert.deepEqual(rows.map((row) => row.key), ["class:GET /feed:rps", "class:GET /feed:latency"]);
  assert.equal(rows[0].now, undefined);
  assert.match(rows[0].nowWhy, /at the clients only/);
  assert.equal(rows[1].theory, 6);
});

test("no classes, no class rows", () => {
  const rows = componentRows(run({ c: {} }, { c: { offered_rps: 5 } }), "c", "client");
  assert.equal(rows.filter((row) => row.figure === "classes").length, 0);
});

test("an exchange: copies per bound queue against the predicted split, its counts so far", () => {
  const r = { ...run({ x: { published: 100, routed: 130, unroutable: 0 } },
                     { x: { offered_rps: 100, routed_rps: 130, unroutable_rps: 0,
                            per_target_rps: { billing: 30, shipping: 80, welcome: 20 } } }),
              links: { "x>billing": [29], "x>shipping": [81], "x>welcome": [0] } };
  r.scenario.links = [{ from: "x", to: "billing", binding: "orders.paid" },
                      { from: "x", to: "shipping", binding: "orders.*" }, { from: "x", to: "welcome" }];
  const rows = Object.fromEntries(componentRows(r, "x", "exchange").map((row) => [row.key, row]));
  assert.deepEqual([rows["to:billing"].now, rows["to:billing"].theory, rows["to:billing"].figure], [29, 30, "split"]);
  assert.equal(rows["to:shipping"].theory, 80);
  assert.deepEqual([rows.routed.now, rows.routed.theory, rows.routed.figure], [130, undefined, "routed"]);
  assert.equal(rows.unroutable.now, 0);
  assert.equal(rows["p:routed_rps"].theory, 130);
});

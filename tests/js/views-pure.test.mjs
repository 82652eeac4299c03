// The pure parts of views: card badges and live lines, dot colours, save states in words,
// scheduled events in words, file names.
import { test } from "node:test";
import assert from "node:assert/strict";

import { instanceMarks, liveLine, placeBadges, utilColor } from "../../static/playground/decorations.js";
import { OUTCOME_COLORS, dotColor } from "../../static/playground/dots.js";
import { describeSave, later, waitS } from "../../static/playground/saving.js";
import { describeEvent } from "../../static/playground/scenario-panel.js";
import { slug } from "../../static/playground/persistence.js";

test("badges go in rows from the right and never overlap", () => {
  const placed = placeBadges([{ w: 40 }, { w: 40 }, { w: 40 }], { left: 0, right: 100, top: 50 });
  assert.deepEqual(placed.map((b) => [b.x, b.y]).slice(0, 2), [[60, 50], [16, 50]]);
  assert.ok(placed[2].y < 50 && placed[2].x === 60); // no room left: a row above
  for (const a of placed) {
    for (const b of placed) {
      if (a !== b) assert.ok(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y);
    }
  }
});

test("a group of instances is a row of squares: booting, serving by load, draining", () => {
  const instances = [{ state: "serving", util: 0.95 }, { state: "serving", util: 0.2 },
    { state: "booting" }, { state: "draining" }];
  const { marks, more, size } = instanceMarks(instances, 100);
  assert.equal(more, 0);
  assert.deepEqual(marks.map((m) => m.fill), ["#dc2626", "#10b981", null, "#fde68a"]);
  assert.deepEqual(marks.map((m) => m.filled), [1, 1, 0, 0.5]);
  const span = marks.at(-1).x + size - marks[0].x;
  assert.ok(Math.abs(marks[0].x - (100 - span - marks[0].x)) < 1e-9); // centred
  const many = instanceMarks(Array(30).fill({ state: "serving" }), 100);
  assert.equal(many.marks.length + many.more, 30);
  assert.ok(many.marks.at(-1).x + size <= 100);
});

test("live lines and colours", () => {
  assert.equal(liveLine("service", { util: 0.5, rps: 1500 }), "50% busy · 1.5k rps");
  assert.equal(liveLine("queue", { queue: 12, rps: 3 }, { util: 0.25 }), "25% busy · 12 waiting · 3 rps");
  assert.equal(liveLine("client", {}, { sent: 20_000 }), "20k rps sent");
  assert.equal(liveLine("cache", { up: false }), "down · rejecting");
  assert.equal(liveLine("cache", null), "");
  assert.deepEqual([utilColor(0.95), utilColor(0.75), utilColor(0.1)], ["#dc2626", "#f59e0b", "#10b981"]);
  assert.equal(dotColor(0, true), OUTCOME_COLORS.hit);
  assert.equal(dotColor(0, false), OUTCOME_COLORS.ok);
  assert.equal(dotColor(4), OUTCOME_COLORS.timeout);
  assert.equal(dotColor(3), OUTCOME_COLORS.failed);
});

test("save states in words; which failures mean try again later", () => {
  const say = (status, online = true) => describeSave(status, online);
  assert.equal(say({ state: "unsaved" }).short, "Unsaved");
  assert.equal(say({ state: "error", why: "too large" }).text, "Could not save – too large");
  assert.equal(say({ state: "offline", why: "too many saves" }).text, "Not saved yet – too many saves");
  assert.equal(say({ state: "offline" }).text, "Server unreachable – kept in this browser");
  assert.equal(say({ state: "offline" }, false).text, "Offline – kept in this browser");
  assert.match(say({ state: "saved", at: Date.now() }).text, /^Saved at \d\d:\d\d/);
  assert.equal(later({ status: 0 }), null);
  assert.equal(later({ status: 503 }), null);
  assert.equal(later({ status: 400 }), false);
  const limited = { status: 429, message: "(rate limit): too many changes; try again in 12 s" };
  assert.equal(waitS(limited), 12);
  assert.equal(later(limited), "too many saves at once: sent again in 12 s");
});

test("scheduled events and file names in words", () => {
  assert.equal(describeEvent({ action: "slow", target: "db", params: { factor: 2.5 } }), "slow down db ×2.5");
  assert.equal(describeEvent({ action: "partition", target: ["a", "b"] }), "cut link a → b");
  assert.equal(describeEvent({ action: "set", target: "s", params: { workers: 4, queue_limit: null } }),
               "set s workers=4, queue_limit=none");
  assert.equal(slug("Checkout, renamed!"), "checkout-renamed");
  assert.equal(slug(""), "design");
});

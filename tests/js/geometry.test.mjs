// Coordinates and arrow-key neighbours, with no drawing.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientToModel, contains, neighbourInDirection, toModel,
         toScreen } from "../../static/playground/geometry.js";

test("screen and model coordinates are inverses", () => {
  const pan = { x: 30, y: -10 }, zoom = 2;
  const p = { x: 12, y: 7 };
  assert.deepEqual(toModel(toScreen(p, pan, zoom), pan, zoom), p);
  assert.deepEqual(clientToModel(140, 90, { left: 100, top: 50 }, pan, zoom), { x: 5, y: 25 });
  assert.ok(contains({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x: 12, y: 5 }, 2));
  assert.ok(!contains({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x: 12, y: 5 }));
});

test("the neighbour is ahead in the key's direction, sideways offset counting double", () => {
  const items = [{ id: "o", x: 0, y: 0 }, { id: "right-far", x: 300, y: 0 },
                 { id: "right-off", x: 100, y: 120 }, { id: "up", x: 0, y: -100 }];
  const from = items[0];
  assert.equal(neighbourInDirection(items, from, "ArrowRight").id, "right-far"); // 300 < 100 + 240
  assert.equal(neighbourInDirection(items, from, "ArrowUp").id, "up");
  assert.equal(neighbourInDirection(items, from, "ArrowLeft"), null);
  assert.equal(neighbourInDirection(items, from, "Enter"), null);
});

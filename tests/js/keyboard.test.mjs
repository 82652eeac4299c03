// The shortcut table: one entry per action, and each key reaches the action it says.
import { test } from "node:test";
import assert from "node:assert/strict";

import { SHORTCUTS } from "../../static/playground/keyboard.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
const matching = (e) => SHORTCUTS.filter((sc) => sc.match(e)).map((sc) => sc.id);

test("every shortcut has an id of its own, a group, keys and words", () => {
  const ids = SHORTCUTS.map((sc) => sc.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const sc of SHORTCUTS) assert.ok(sc.group && sc.keys.length && sc.desc, sc.id);
});

test("keys reach their actions, and only theirs", () => {
  assert.deepEqual(matching(key(" ")), ["toggle"]);
  assert.deepEqual(matching(key("z", { ctrlKey: true })), ["undo"]);
  assert.deepEqual(matching(key("Z", { ctrlKey: true, shiftKey: true })), ["redo"]);
  assert.deepEqual(matching(key("y", { metaKey: true })), ["redo"]);
  assert.deepEqual(matching(key("s", { ctrlKey: true })), ["save"]);
  assert.deepEqual(matching(key("a")), ["palette"]);
  assert.deepEqual(matching(key("a", { ctrlKey: true })), ["selectAll"]);
  assert.deepEqual(matching(key("ArrowLeft")), ["arrow"]);
  assert.deepEqual(matching(key("ArrowLeft", { shiftKey: true })), ["nudge"]);
  assert.deepEqual(matching(key("F10", { shiftKey: true })), ["menu"]);
  assert.deepEqual(matching(key("=")), ["zoom"]);
  assert.deepEqual(matching(key("?", { shiftKey: true })), ["help"]);
  assert.deepEqual(matching(key("l", { altKey: true })), []);
});

test("only Save works while typing in a field", () => {
  assert.deepEqual(SHORTCUTS.filter((sc) => sc.inFields).map((sc) => sc.id), ["save"]);
});

// Where the others are while co-editing: this tab's pointer goes out at most once per
// window, always ending on where the mouse last was; the fields the others edit are found
// per component and named truthfully.
import { mock, test } from "node:test";
import assert from "node:assert/strict";

import { SEND_MS, pointerMessage, throttle } from "../../static/playground/coedit-pointers.js";
import { editingText, editorsOf } from "../../static/playground/coedit-fields.js";

test("pointer moves go out at most once per window, the last one always", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const sent = [];
    const out = throttle((v) => sent.push(v), SEND_MS);
    out(1); // at once
    out(2);
    out(3);
    assert.deepEqual(sent, [1]);
    mock.timers.tick(SEND_MS); // the window's end: the latest
    assert.deepEqual(sent, [1, 3]);
    mock.timers.tick(SEND_MS); // nothing new: quiet, and the next goes at once
    out(4);
    assert.deepEqual(sent, [1, 3, 4]);
    for (let i = 0; i < 100; i++) { // a second of moves every 10 ms: 10 or 11 messages
      out(5 + i);
      mock.timers.tick(10);
    }
    mock.timers.tick(SEND_MS);
    assert.ok(sent.length - 3 <= 11, sent.length);
    assert.equal(sent.at(-1), 104);
  } finally {
    mock.timers.reset();
  }
});

test("a pointer message is rounded to a tenth; none is the mouse gone", () => {
  assert.deepEqual(pointerMessage({ x: 12.345, y: -0.04 }), { type: "pointer", x: 12.3, y: -0 });
  assert.deepEqual(pointerMessage(null), { type: "pointer" });
});

test("the fields others edit, per component, and what the ring says", () => {
  const ada = { id: "a", name: "Ada", editing: { component: "app1", field: "workers" } };
  const bob = { id: "b", name: "Bob", editing: { component: "app1", field: "workers" } };
  const cy = { id: "c", name: "Cy", editing: { component: "db", field: "label" } };
  const idle = { id: "d", name: "Di", editing: null };
  const peers = [ada, bob, cy, idle];
  assert.deepEqual([...editorsOf(peers, "app1")], [["workers", [ada, bob]]]);
  assert.deepEqual([...editorsOf(peers, "db")], [["label", [cy]]]);
  assert.equal(editorsOf(peers, "app2").size, 0);
  assert.equal(editingText([ada]), "Ada is editing");
  assert.equal(editingText([ada, bob]), "Ada and Bob are editing");
  assert.equal(editingText([ada, bob, cy]), "Ada, Bob and Cy are editing");
});

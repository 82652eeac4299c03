// Request classes as the inspector edits them: text lines to the document's values and back.
import { test } from "node:test";
import assert from "node:assert/strict";

import { classNames, classTimesText, classesText, lineMessage, parseClassTimes, parseClasses }
  from "../../static/playground/classes.js";

test("a client's classes: lines to classes and back", () => {
  const text = "GET /feed, 0.7\nGET /profile, 0.25, read, 500, 1.1\nPOST /photo, 0.05, write";
  const { value } = parseClasses(text);
  assert.deepEqual(value, [
    { name: "GET /feed", share: 0.7 },
    { name: "GET /profile", share: 0.25, keys: 500, key_skew: 1.1 },
    { name: "POST /photo", share: 0.05, op: "write" }]);
  assert.equal(classesText(value), text);
  assert.deepEqual(parseClasses("  \n"), { value: null }); // no lines: no classes
  assert.equal(classesText([{ name: "a", share: 1, op: "write", key_skew: 2 }]), "a, 1, write, , 2");
  assert.deepEqual(parseClasses("a, 1, write, , 2").value, [{ name: "a", share: 1, op: "write", key_skew: 2 }]);
  // payload sizes: the last two parts, each the client's when empty
  const sized = { name: "POST /photo", share: 0.05, op: "write", request_kb: 2000 };
  assert.equal(classesText([sized]), "POST /photo, 0.05, write, , , 2000");
  assert.deepEqual(parseClasses("POST /photo, 0.05, write, , , 2000").value, [sized]);
  assert.deepEqual(parseClasses("a, 1, read, , , , 40").value, [{ name: "a", share: 1, response_kb: 40 }]);
});

test("a bad class line is named as the validator would", () => {
  const err = (t) => parseClasses(t).error;
  assert.equal(err("a, 0"), "line 1: share must be > 0");
  assert.equal(err("a, 1\nb"), "line 2: share is required");
  assert.equal(err("a, 1\na, 2"), "line 2: duplicate class 'a' (also line 1)");
  assert.equal(err("a, 1, delete"), "line 1: op must be read or write");
  assert.equal(err("a, 1, read, 0.5"), "line 1: keys must be a whole number");
  assert.equal(err("a, 1, read, 10, 9"), "line 1: key_skew must be <= 5");
  assert.equal(err("a, 1, read, , , -1"), "line 1: request_kb must be >= 0");
  assert.match(err("a, 1, read, , , 1, 2, 3"), /at most seven parts/);
  assert.equal(err(`${"x".repeat(61)}, 1`), "line 1: a name has at most 60 characters");
  assert.equal(err(Array.from({ length: 51 }, (_, i) => `c${i}, 1`).join("\n")), "at most 50 classes (51 lines)");
});

test("a service's work per class: the last comma splits name and ms", () => {
  assert.deepEqual(parseClassTimes("POST /photo, 40\nGET /a,b, 3").value, { "POST /photo": 40, "GET /a,b": 3 });
  assert.equal(classTimesText({ "POST /photo": 40 }), "POST /photo, 40");
  assert.equal(parseClassTimes("POST /photo").error, "line 1: must be a class name, a comma and its work time in ms");
  assert.equal(parseClassTimes("a, -1").error, "line 1: ms must be >= 0");
  assert.deepEqual(parseClassTimes(""), { value: null });
});

test("the classes a link may carry, and the validator's messages by line", () => {
  const doc = { components: [
    { kind: "client", params: { classes: [{ name: "GET /a" }, { name: "GET /b" }] } },
    { kind: "client", params: { classes: [{ name: "GET /b" }, { name: "PUT /c" }] } },
    { kind: "client", params: {} }, { kind: "service", params: {} }] };
  assert.deepEqual(classNames(doc), ["GET /a", "GET /b", "PUT /c"]);
  assert.equal(lineMessage("[1].share: must be > 0"), "line 2: share: must be > 0");
  assert.equal(lineMessage("must have at most 50 items"), "must have at most 50 items");
});

test("the charts' line per class, and its figure in a frame", async () => {
  const { classSources, classValue } = await import("../../static/playground/classes.js");
  const doc = { components: [
    { id: "mono", kind: "client", params: { classes: [{ name: "GET /a|b" }, { name: "POST /c" }] } },
    { id: "l7", kind: "client", params: { classes: [{ name: "GET /a|b" }] } },
    { id: "plain", kind: "client", params: {} }] };
  assert.deepEqual(classSources(doc), ["mono/GET /a|b", "mono/POST /c", "l7/GET /a|b"]);
  const components = { mono: { classes: { "GET /a|b": { ok_rps: 7, latency_ms: 3.5, p99: 9 } } } };
  assert.equal(classValue(components, "mono/GET /a|b", "ok_rps"), 7);
  assert.equal(classValue(components, "mono/GET /a|b", "mean"), 3.5);
  assert.equal(classValue(components, "mono/GET /a|b", "p99"), 9);
  assert.equal(classValue(components, "l7/GET /a|b", "p99"), undefined);
});

// Request classes as the inspector edits them (docs/scenario-format.md, "Request classes"):
// a client's `classes` as lines "name, share, op, keys, key_skew, request_kb, response_kb"
// (all but the first two optional),
// a service's `class_ms` as lines "name, ms", and the class names a link may carry. Pure:
// classes-field.js draws the fields; tests/js/classes.test.mjs checks these.

export const MAX_CLASSES = 50; // per client, as the validator's (scenario.py)
export const MAX_NAME = 60;
const MAX_KB = 1_000_000; // a payload's size, as the validator's (registry.MAX_SIZE_KB)
const OPTIONAL = ["keys", "key_skew", "request_kb", "response_kb"]; // after name, share, op
const OPS = ["read", "write"];

function nameError(name) {
  if (!name) return "a class needs a name";
  if (name.length > MAX_NAME) return `a name has at most ${MAX_NAME} characters`;
  return "";
}

function number(text, { integer = false, min, above, max }) {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return { error: integer ? "must be a whole number" : "must be a number" };
  const v = Number(text);
  if (integer && !Number.isInteger(v)) return { error: "must be a whole number" };
  if (above !== undefined && v <= above) return { error: `must be > ${above}` };
  if (min !== undefined && v < min) return { error: `must be >= ${min}` };
  if (max !== undefined && v > max) return { error: `must be <= ${max}` };
  return { value: v };
}

/** A client's classes as text, one a line. */
export function classesText(classes) {
  return (classes || []).map((c) => {
    const parts = [c.name, c.share];
    const tail = [c.op ?? "read", ...OPTIONAL.map((f) => c[f] ?? "")];
    while (tail.length && (tail[tail.length - 1] === "" || (tail.length === 1 && tail[0] === "read"))) tail.pop();
    return [...parts, ...tail].join(", ");
  }).join("\n");
}

/** Lines "name, share[, op[, keys[, key_skew[, request_kb[, response_kb]]]]]" ->
 * {value: classes | null} or {error}. An empty part takes the client's value.
 * No lines: no classes (null). Messages name the line, as the validator names the item. */
export function parseClasses(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return { value: null };
  if (lines.length > MAX_CLASSES) return { error: `at most ${MAX_CLASSES} classes (${lines.length} lines)` };
  const out = [];
  const seen = new Map();
  for (const [i, line] of lines.entries()) {
    const at = `line ${i + 1}`;
    const [name, share, op, keys, skew, requestKb, responseKb, ...rest] = line.split(",").map((p) => p.trim());
    if (rest.length) return { error: `${at}: at most seven parts: name, share, op, ${OPTIONAL.join(", ")}` };
    const bad = nameError(name);
    if (bad) return { error: `${at}: ${bad}` };
    if (seen.has(name)) return { error: `${at}: duplicate class '${name}' (also line ${seen.get(name) + 1})` };
    seen.set(name, i);
    if (share === undefined || share === "") return { error: `${at}: share is required` };
    const s = number(share, { above: 0, max: 1e6 });
    if (s.error) return { error: `${at}: share ${s.error}` };
    const c = { name, share: s.value };
    if (op) {
      if (!OPS.includes(op)) return { error: `${at}: op must be read or write` };
      if (op === "write") c.op = op;
    }
    if (keys) {
      const k = number(keys, { integer: true, min: 1, max: 1e6 });
      if (k.error) return { error: `${at}: keys ${k.error}` };
      c.keys = k.value;
    }
    if (skew) {
      const k = number(skew, { min: 0, max: 5 });
      if (k.error) return { error: `${at}: key_skew ${k.error}` };
      c.key_skew = k.value;
    }
    for (const [field, text] of [["request_kb", requestKb], ["response_kb", responseKb]]) {
      if (!text) continue;
      const k = number(text, { min: 0, max: MAX_KB });
      if (k.error) return { error: `${at}: ${field} ${k.error}` };
      c[field] = k.value;
    }
    out.push(c);
  }
  return { value: out };
}

/** A service's class_ms as text, one "name, ms" a line. */
export function classTimesText(times) {
  return Object.entries(times || {}).map(([name, v]) => `${name}, ${v}`).join("\n");
}

/** Lines "name, ms" (the last comma splits) -> {value: object | null} or {error}. */
export function parseClassTimes(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return { value: null };
  if (lines.length > MAX_CLASSES) return { error: `at most ${MAX_CLASSES} classes (${lines.length} lines)` };
  const out = {};
  for (const [i, line] of lines.entries()) {
    const at = `line ${i + 1}`;
    const cut = line.lastIndexOf(",");
    if (cut < 0) return { error: `${at}: must be a class name, a comma and its work time in ms` };
    const name = line.slice(0, cut).trim();
    const bad = nameError(name);
    if (bad) return { error: `${at}: ${bad}` };
    if (Object.hasOwn(out, name)) return { error: `${at}: '${name}' is given twice` };
    const v = number(line.slice(cut + 1).trim(), { min: 0, max: 3_600_000 });
    if (v.error) return { error: `${at}: ms ${v.error}` };
    out[name] = v.value;
  }
  return { value: out };
}

/** The names of every class some client of `doc` sends, in order, once each. */
export function classNames(doc) {
  const names = new Set();
  for (const c of doc?.components || []) {
    if (c.kind === "client") for (const x of c.params?.classes || []) names.add(x.name);
  }
  return [...names];
}

/** A validator message about one class ("[2].share: must be > 0", "GET /x: ...") in the
 * field's own words: the line it is on. */
export function lineMessage(msg) {
  return (msg || "").replace(/^\[(\d+)\]\.?/, (_, i) => `line ${Number(i) + 1}: `).replace(/^(line \d+: ):\s*/, "$1");
}

/** The charts' sources of the classes (one line each when split by class): "client/name"
 * for every class of every client, in order (ids never hold a "/"). */
export function classSources(doc) {
  return (doc?.components || []).filter((c) => c.kind === "client")
    .flatMap((c) => (c.params?.classes || []).map((x) => `${c.id}/${x.name}`));
}

/** A class's figure in a frame's components: its client's `classes[name][key]` ("mean" is
 * the class's latency_ms). */
export function classValue(components, source, key) {
  const cut = source.indexOf("/");
  const figures = components?.[source.slice(0, cut)]?.classes?.[source.slice(cut + 1)];
  return figures?.[key === "mean" ? "latency_ms" : key];
}

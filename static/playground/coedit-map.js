// The scenario document as a shared Y document, and back: the mirror of
// playground/coedit/ydoc.py (read its docstring; the two must write and read the same
// shape). Root maps `scenario` (top-level fields as JSON text), `components` (id -> map of
// JSON-text fields, `params` a map of JSON text, `order`) and `links` ("from>to" -> map of
// JSON-text fields, `order`). Reading is total (an ill-shaped entry is skipped, a link to a
// missing component left out); writing sets only what differs.

import * as Y from "../vendor/yjs-13.6.33/yjs.mjs";

export { Y };

const ORDER = "order";
const PARAMS = "params";

export const linkKey = (link) => `${link.from}>${link.to}`;

// Python's json.dumps(sort_keys=True) and this agree on what equal values are; the text
// itself may differ (1.0 vs 1), which is why values are compared, never texts.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function parse(text) {
  if (typeof text !== "string") return [false, null];
  try {
    return [true, JSON.parse(text)];
  } catch {
    return [false, null];
  }
}

function fields(entry, skip) {
  const out = {};
  for (const name of [...entry.keys()].sort()) {
    if (skip.includes(name)) continue;
    const [ok, value] = parse(entry.get(name));
    if (!ok) return null;
    out[name] = value;
  }
  return out;
}

function orderOf(entry) {
  const [ok, value] = parse(entry.get(ORDER));
  return ok && typeof value === "number" ? value : 0;
}

const byOrder = (a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

export function roots(ydoc) {
  return [ydoc.getMap("scenario"), ydoc.getMap("components"), ydoc.getMap("links")];
}

export function toDocument(ydoc) {
  const [scenario, components, links] = roots(ydoc);
  const doc = fields(scenario, []) || {};
  const found = [];
  for (const [id, entry] of components.entries()) {
    if (!(entry instanceof Y.Map)) continue;
    const f = fields(entry, [ORDER, PARAMS]);
    const p = entry.get(PARAMS);
    const params = p instanceof Y.Map ? fields(p, []) : {};
    if (f === null || params === null) continue;
    found.push([orderOf(entry), id, { id, ...f, params }]);
  }
  found.sort(byOrder);
  doc.components = found.map((item) => item[2]);
  const ids = new Set(doc.components.map((c) => c.id));
  const kept = [];
  for (const [key, entry] of links.entries()) {
    if (!(entry instanceof Y.Map)) continue;
    const f = fields(entry, [ORDER]);
    if (f === null || !ids.has(f.from) || !ids.has(f.to) || linkKey(f) !== key) continue;
    kept.push([orderOf(entry), key, f]);
  }
  kept.sort(byOrder);
  doc.links = kept.map((item) => item[2]);
  return doc;
}

function setFields(entry, values, skip) {
  for (const name of [...entry.keys()]) {
    if (!skip.includes(name) && !(name in values)) entry.delete(name);
  }
  for (const [name, value] of Object.entries(values)) {
    const [ok, old] = parse(entry.get(name));
    if (!ok || canonical(old) !== canonical(value)) entry.set(name, JSON.stringify(value));
  }
}

function nextOrder(entries) {
  let most = -1;
  for (const entry of entries.values()) if (entry instanceof Y.Map) most = Math.max(most, orderOf(entry));
  return most + 1;
}

function newEntry(values, order) {
  const entry = new Y.Map();
  entry.set(ORDER, JSON.stringify(order));
  for (const [name, value] of Object.entries(values)) entry.set(name, JSON.stringify(value));
  return entry;
}

/** Change the Y document into `doc` (ids unique, one link per pair), in one transaction. */
export function applyDocument(ydoc, doc, origin = null) {
  const [scenario, components, links] = roots(ydoc);
  ydoc.transact(() => {
    const top = {};
    for (const [k, v] of Object.entries(doc)) if (k !== "components" && k !== "links") top[k] = v;
    setFields(scenario, top, []);
    const wanted = new Map((doc.components || []).map((c) => [c.id, c]));
    for (const id of [...components.keys()]) if (!wanted.has(id)) components.delete(id);
    for (const [id, c] of wanted) {
      const { id: _id, params = {}, ...rest } = c;
      const entry = components.get(id);
      if (!(entry instanceof Y.Map) || !(entry.get(PARAMS) instanceof Y.Map)) {
        const fresh = newEntry(rest, nextOrder(components));
        const p = new Y.Map();
        for (const [name, value] of Object.entries(params || {})) p.set(name, JSON.stringify(value));
        fresh.set(PARAMS, p);
        components.set(id, fresh);
        continue;
      }
      setFields(entry, rest, [ORDER, PARAMS]);
      setFields(entry.get(PARAMS), params || {}, []);
    }
    const wantedLinks = new Map((doc.links || []).map((l) => [linkKey(l), l]));
    for (const key of [...links.keys()]) if (!wantedLinks.has(key)) links.delete(key);
    for (const [key, l] of wantedLinks) {
      const entry = links.get(key);
      if (!(entry instanceof Y.Map)) links.set(key, newEntry(l, nextOrder(links)));
      else setFields(entry, l, [ORDER]);
    }
  }, origin);
}

// Pure functions over a scenario document: ids, link keys, which links make sense,
// cycle checks, automatic placement, and tidying a document that comes from outside.

import { ID_PATTERN } from "./registry.js";

export const FORMAT = "playground.scenario/v1";
export const GRID = 20;
export const NODE_W = 136;
export const NODE_H = 84;

export const linkKey = (link) => `${link.from}>${link.to}`;
export const edgeId = (from, to) => `link:${from}>${to}`;

export function emptyDocument() {
  return { format: FORMAT, name: "Untitled design", description: "", seed: 7,
           duration_s: 300, warmup_s: 30, components: [], links: [], events: [] };
}

/** A readable unique id for a new component: service-1, service-2, ... */
export function nextId(kind, taken) {
  const base = String(kind).replace(/_/g, "-");
  for (let n = 1; ; n++) {
    const id = `${base}-${n}`;
    if (!taken.has(id)) return id;
  }
}

export function snap(v, on = true) {
  return on ? Math.round(v / GRID) * GRID : v;
}

/** Does a call path lead from `from` to `to` already? (then to -> from would close a cycle) */
export function reaches(doc, from, to) {
  const out = new Map();
  for (const l of doc.links) {
    if ((l.kind || "call") !== "call") continue;
    if (!out.has(l.from)) out.set(l.from, []);
    out.get(l.from).push(l.to);
  }
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length) {
    const n = stack.pop();
    if (n === to) return true;
    for (const m of out.get(n) || []) {
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }
  return false;
}

/**
 * What a new link from -> to would be: {link} or {problem: "why not"}. The rules are the
 * validator's topology rules that no later edit could fix.
 */
export function proposeLink(doc, fromId, toId) {
  const a = doc.components.find((c) => c.id === fromId);
  const b = doc.components.find((c) => c.id === toId);
  if (!a || !b) return { problem: "pick two components" };
  if (fromId === toId) return { problem: "a component cannot link to itself" };
  if (doc.links.some((l) => l.from === fromId && l.to === toId)) {
    return { problem: `there is already a link ${fromId} → ${toId}` };
  }
  if (a.kind === "database" && b.kind === "database") {
    if (doc.links.some((l) => l.kind === "replication" && l.to === toId)) {
      return { problem: `replica '${toId}' already has a primary` };
    }
    return { link: { from: fromId, to: toId, kind: "replication" } };
  }
  if (b.kind === "client") return { problem: `clients only send requests; '${toId}' cannot be called` };
  if (a.kind === "database") return { problem: "a database calls nothing (link two databases to replicate)" };
  if ((a.kind === "queue" || a.kind === "topic") && b.kind === "queue") {
    // a queue or topic delivering at least once sends what keeps failing to its dead-letter queue
    if (doc.links.some((l) => l.from === fromId && l.dead_letter)) {
      return { problem: `'${fromId}' already has a dead-letter queue` };
    }
    if (reaches(doc, toId, fromId)) {
      return { problem: `${fromId} → ${toId} would close a cycle of dead-letter queues` };
    }
    return { link: { from: fromId, to: toId, dead_letter: true } };
  }
  if (a.kind === "exchange" && b.kind !== "queue" && b.kind !== "topic") {
    return { problem: `an exchange routes messages to queues and topics (exchange → ${b.kind})` };
  }
  if ((a.kind === "queue" || a.kind === "topic") !== (b.kind === "worker")) {
    return { problem: `queues and topics feed workers, and workers are fed only by them (${a.kind} → ${b.kind})` };
  }
  if (reaches(doc, toId, fromId)) {
    return { problem: `${fromId} → ${toId} would close a call cycle (a request would loop forever)` };
  }
  return { link: { from: fromId, to: toId } };
}

/** Place components without a position in layers from the clients, left to right. */
export function autoPlace(doc) {
  const missing = doc.components.filter((c) => !c.position);
  if (!missing.length) return doc;
  const depth = new Map();
  const ids = doc.components.map((c) => c.id);
  for (const c of doc.components) if (c.kind === "client") depth.set(c.id, 0);
  for (let round = 0; round < ids.length; round++) {
    let changed = false;
    for (const l of doc.links) {
      if (!depth.has(l.from)) continue;
      const d = depth.get(l.from) + 1;
      if (!depth.has(l.to) || depth.get(l.to) < d) {
        if (d <= ids.length) {
          depth.set(l.to, d);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const rows = new Map();
  for (const c of doc.components) {
    const d = depth.get(c.id) ?? 0;
    if (!rows.has(d)) rows.set(d, []);
    rows.get(d).push(c);
  }
  for (const [d, list] of rows) {
    list.forEach((c, i) => {
      if (c.position) return;
      c.position = { x: snap(80 + d * 240), y: snap(240 + (i - (list.length - 1) / 2) * 110) };
    });
  }
  return doc;
}

/**
 * Make an outside document safe for the editor: the right shape, unique ids, positions.
 * Returns {doc, notes} where notes say what was changed. Invalid values are kept (the
 * validator reports them); only what would break the editor is repaired.
 */
export function normalize(input) {
  const notes = [];
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    throw new Error("the file is not a scenario (expected a JSON object)");
  }
  if (input.format !== undefined && input.format !== FORMAT) {
    throw new Error(`unknown format '${String(input.format)}' (expected ${FORMAT})`);
  }
  // anything else JSON would otherwise pass as an empty design
  if (input.format === undefined && !Array.isArray(input.components)) {
    const keys = Object.keys(input).slice(0, 5).map((k) => `'${k}'`).join(", ");
    throw new Error(`the file is not a scenario: it has no "format": "${FORMAT}" and no list of `
      + `components (${keys ? `its keys: ${keys}` : "it is an empty object"})`);
  }
  for (const key of ["components", "links", "events"]) {
    if (input[key] !== undefined && !Array.isArray(input[key])) {
      throw new Error(`the file is not a scenario: its "${key}" is not a list`);
    }
  }
  const doc = structuredClone(input);
  doc.format = FORMAT;
  if (typeof doc.name !== "string" || !doc.name) doc.name = "Untitled design";
  for (const key of ["components", "links", "events"]) {
    if (!Array.isArray(doc[key])) doc[key] = [];
  }
  doc.components = doc.components.filter((c) => c && typeof c === "object" && !Array.isArray(c));
  const seen = new Set();
  for (const c of doc.components) {
    if (typeof c.kind !== "string") c.kind = "service";
    if (typeof c.id !== "string" || !ID_PATTERN.test(c.id) || seen.has(c.id)) {
      const old = c.id;
      c.id = nextId(c.kind, seen);
      notes.push(old === undefined ? `gave a component the id '${c.id}'`
        : `renamed a duplicate or invalid id to '${c.id}'`);
    }
    seen.add(c.id);
    if (!c.params || typeof c.params !== "object" || Array.isArray(c.params)) c.params = {};
    const p = c.position;
    if (p && !(Number.isFinite(p.x) && Number.isFinite(p.y))) delete c.position;
  }
  const keys = new Set();
  doc.links = doc.links.filter((l) => {
    if (!l || typeof l !== "object" || typeof l.from !== "string" || typeof l.to !== "string") {
      notes.push("dropped a link without from/to");
      return false;
    }
    const k = linkKey(l);
    if (keys.has(k)) {
      notes.push(`dropped a duplicate link ${l.from} → ${l.to}`);
      return false;
    }
    keys.add(k);
    return true;
  });
  autoPlace(doc);
  return { doc, notes };
}

/** Which events refer to component `id` or to a link touching it. */
export function eventTouches(ev, ids, linkKeys) {
  if (Array.isArray(ev.target)) {
    return ids.has(ev.target[0]) || ids.has(ev.target[1])
      || linkKeys.has(`${ev.target[0]}>${ev.target[1]}`);
  }
  return ids.has(ev.target);
}

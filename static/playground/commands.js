// Every edit to the scenario is one of these command objects: {label, do(doc), undo(doc)}.
// The store runs them and keeps them for undo/redo. `layoutOnly` commands (moves, labels,
// name) are allowed while a run is live; all others change what the simulation runs.
// Commands capture what they need when they are made, so do/undo are exact inverses.

import { eventTouches, linkKey } from "./topology.js";

const clone = (x) => structuredClone(x);

function setOrDelete(obj, key, value) {
  if (value === undefined) delete obj[key];
  else obj[key] = clone(value);
}

/** Add components (and links among them or to existing ones): palette drop, paste. */
export function addElements(components, links = [], label = "Add") {
  const comps = clone(components);
  const lnks = clone(links);
  return {
    label,
    do(doc) {
      doc.components.push(...clone(comps));
      doc.links.push(...clone(lnks));
    },
    undo(doc) {
      const ids = new Set(comps.map((c) => c.id));
      const keys = new Set(lnks.map(linkKey));
      doc.components = doc.components.filter((c) => !ids.has(c.id));
      doc.links = doc.links.filter((l) => !keys.has(linkKey(l)));
    },
    selectAfter: { components: comps.map((c) => c.id), links: lnks.map(linkKey) },
  };
}

/** Delete components (with their links and events) and links. */
export function removeElements(doc, componentIds, linkKeys = []) {
  const ids = new Set(componentIds);
  const keys = new Set(linkKeys);
  const comps = [];
  doc.components.forEach((c, i) => { if (ids.has(c.id)) comps.push([i, clone(c)]); });
  const links = [];
  doc.links.forEach((l, i) => {
    if (keys.has(linkKey(l)) || ids.has(l.from) || ids.has(l.to)) links.push([i, clone(l)]);
  });
  const goneKeys = new Set(links.map(([, l]) => linkKey(l)));
  const events = [];
  (doc.events || []).forEach((ev, i) => {
    if (eventTouches(ev, ids, goneKeys)) events.push([i, clone(ev)]);
  });
  const n = comps.length;
  const m = links.filter(([, l]) => keys.has(linkKey(l))).length;
  const what = n ? `${n} component${n > 1 ? "s" : ""}` : `${m} link${m > 1 ? "s" : ""}`;
  const reinsert = (list, items) => {
    for (const [i, item] of items) list.splice(i, 0, clone(item));
  };
  return {
    label: `Delete ${what}`,
    do(d) {
      const ci = new Set(comps.map(([i]) => i));
      const li = new Set(links.map(([i]) => i));
      const ei = new Set(events.map(([i]) => i));
      d.components = d.components.filter((_, i) => !ci.has(i));
      d.links = d.links.filter((_, i) => !li.has(i));
      if (d.events) d.events = d.events.filter((_, i) => !ei.has(i));
    },
    undo(d) {
      reinsert(d.components, comps);
      reinsert(d.links, links);
      if (events.length) {
        d.events = d.events || [];
        reinsert(d.events, events);
      }
    },
    empty: !comps.length && !links.length,
  };
}

/** Move components: {id: {from: {x, y}, to: {x, y}}}; consecutive nudges coalesce. */
export function moveComponents(moves, { nudge = false } = {}) {
  const m = clone(moves);
  const ids = Object.keys(m).sort().join(",");
  const apply = (doc, end) => {
    for (const c of doc.components) if (m[c.id]) c.position = { ...m[c.id][end] };
  };
  return {
    label: Object.keys(m).length > 1 ? `Move ${Object.keys(m).length} components` : "Move",
    layoutOnly: true,
    do: (doc) => apply(doc, "to"),
    undo: (doc) => apply(doc, "from"),
    coalesceKey: nudge ? `nudge:${ids}` : null,
    merge(next) {
      for (const id of Object.keys(next.moves)) m[id].to = { ...next.moves[id].to };
      return this;
    },
    moves: m,
  };
}

/** Change component parameters: {name: value}; undefined removes (back to default). */
export function setParams(doc, id, changes) {
  const c = doc.components.find((x) => x.id === id);
  const before = {};
  for (const k of Object.keys(changes)) before[k] = c && Object.hasOwn(c.params || {}, k) ? clone(c.params[k]) : undefined;
  const after = clone(changes);
  const apply = (d, values) => {
    const comp = d.components.find((x) => x.id === id);
    if (!comp) return;
    comp.params = comp.params || {};
    for (const [k, v] of Object.entries(values)) setOrDelete(comp.params, k, v);
  };
  return {
    label: `Change ${Object.keys(changes).join(", ")} of ${id}`,
    do: (d) => apply(d, after),
    undo: (d) => apply(d, before),
  };
}

/** Change a component's label (allowed during a run: it changes no behaviour). */
export function setLabel(doc, id, label) {
  const c = doc.components.find((x) => x.id === id);
  const before = c?.label;
  const after = label ? label : undefined;
  const apply = (d, v) => {
    const comp = d.components.find((x) => x.id === id);
    if (comp) setOrDelete(comp, "label", v);
  };
  return { label: `Rename label of ${id}`, layoutOnly: true,
           do: (d) => apply(d, after), undo: (d) => apply(d, before) };
}

/** Change a component's id, and every link and event that names it. */
export function renameComponent(oldId, newId) {
  const swap = (d, a, b) => {
    for (const c of d.components) if (c.id === a) c.id = b;
    for (const l of d.links) {
      if (l.from === a) l.from = b;
      if (l.to === a) l.to = b;
    }
    for (const ev of d.events || []) {
      if (ev.target === a) ev.target = b;
      if (Array.isArray(ev.target)) ev.target = ev.target.map((t) => (t === a ? b : t));
    }
  };
  return { label: `Rename ${oldId} to ${newId}`, do: (d) => swap(d, oldId, newId),
           undo: (d) => swap(d, newId, oldId), renamed: [oldId, newId] };
}

export function addLink(link) {
  const l = clone(link);
  return {
    label: `Link ${l.from} → ${l.to}`,
    do: (d) => { d.links.push(clone(l)); },
    undo: (d) => { d.links = d.links.filter((x) => linkKey(x) !== linkKey(l)); },
    selectAfter: { components: [], links: [linkKey(l)] },
  };
}

/** Change link fields by key; undefined removes a field. Keys may change (swap ends). */
export function setLink(doc, key, changes) {
  const link = doc.links.find((l) => linkKey(l) === key);
  const before = {};
  for (const k of Object.keys(changes)) before[k] = link && Object.hasOwn(link, k) ? clone(link[k]) : undefined;
  const after = clone(changes);
  const keyAfter = linkKey({ ...link, ...after });
  const apply = (d, from, values) => {
    const l = d.links.find((x) => linkKey(x) === from);
    if (!l) return;
    for (const [k, v] of Object.entries(values)) setOrDelete(l, k, v);
  };
  return {
    label: `Change link ${key.replace(">", " → ")}`,
    do: (d) => apply(d, key, after),
    undo: (d) => apply(d, keyAfter, before),
    rekey: key !== keyAfter ? [key, keyAfter] : null,
  };
}

/** Scenario-level fields (name, description, duration_s, warmup_s, seed). */
export function setScenario(doc, changes) {
  const before = {};
  for (const k of Object.keys(changes)) before[k] = Object.hasOwn(doc, k) ? clone(doc[k]) : undefined;
  const after = clone(changes);
  const layoutOnly = Object.keys(changes).every((k) => k === "name" || k === "description");
  const apply = (d, values) => {
    for (const [k, v] of Object.entries(values)) setOrDelete(d, k, v);
  };
  return { label: `Change ${Object.keys(changes).join(", ")}`, layoutOnly,
           do: (d) => apply(d, after), undo: (d) => apply(d, before) };
}

export function addEvent(event) {
  const ev = clone(event);
  return {
    label: `Schedule ${ev.action}`,
    do(d) {
      d.events = d.events || [];
      d.events.push(clone(ev));
      d.events.sort((a, b) => a.at_s - b.at_s);
    },
    undo(d) {
      const i = d.events.findIndex((x) => JSON.stringify(x) === JSON.stringify(ev));
      if (i >= 0) d.events.splice(i, 1);
    },
  };
}

export function removeEvent(doc, index) {
  const ev = clone(doc.events[index]);
  return {
    label: `Remove scheduled ${ev.action}`,
    do: (d) => { d.events.splice(index, 1); },
    undo: (d) => { d.events.splice(index, 0, clone(ev)); },
  };
}

/** Replace the whole document (new, example, import, the scenario of a joined run). */
export function replaceDocument(doc, next, label = "Load design") {
  const before = clone(doc);
  const after = clone(next);
  const put = (d, src) => {
    for (const k of Object.keys(d)) delete d[k];
    Object.assign(d, clone(src));
  };
  return { label, do: (d) => put(d, after), undo: (d) => put(d, before), replaces: true };
}

/** Several commands as one undo step. */
export function batch(label, commands) {
  const list = commands.filter(Boolean);
  return {
    label,
    layoutOnly: list.every((c) => c.layoutOnly),
    do(d) { for (const c of list) c.do(d); },
    undo(d) { for (const c of [...list].reverse()) c.undo(d); },
  };
}

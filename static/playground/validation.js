// Whole-document checks by the server's validator (POST /api/validate, debounced), and the
// mapping of its "path: message" lines to components, links, fields and the scenario.
// Emits "validation:changed" with a Problems object.

import { api } from "./api.js";
import { linkKey } from "./topology.js";

const DEBOUNCE_MS = 500;

/** Where an error line points, resolved against the document it was computed for. */
export function locate(line, doc) {
  const cut = line.indexOf(": ");
  const path = cut >= 0 ? line.slice(0, cut) : "(document)";
  const message = cut >= 0 ? line.slice(cut + 2) : line;
  let m = path.match(/^components\[(\d+)\](?:\.params\.([\w]+)(.*)|\.([\w]+))?/);
  if (m) {
    const c = doc.components[Number(m[1])];
    // within a structured parameter (a schedule, classes): the rest of the path leads the message
    const inner = m[3] ? `${m[3].replace(/^\./, "")}: ${message}` : message;
    return { kind: "component", id: c?.id, field: m[2] || m[4] || null, message: inner, line,
             where: c ? c.label || c.id : path };
  }
  m = path.match(/^links\[(\d+)\](?:\.([\w]+))?/);
  if (m) {
    const l = doc.links[Number(m[1])];
    return { kind: "link", key: l ? linkKey(l) : null, field: m[2] || null, message, line,
             where: l ? `${l.from} → ${l.to}` : path };
  }
  m = path.match(/^events\[(\d+)\](?:\.([\w]+))?/);
  if (m) return { kind: "event", index: Number(m[1]), field: m[2] || null, message, line,
                  where: `scheduled event ${Number(m[1]) + 1}` };
  if (/^(name|description|seed|duration_s|warmup_s|format)$/.test(path)) {
    return { kind: "scenario", field: path, message, line, where: path };
  }
  // "components: no client ...", "links: call cycle ...", "(document): ..."
  return { kind: "document", message, line, where: path === "(document)" ? "" : path };
}

export class Problems {
  constructor(lines = [], doc = null, source = "server") {
    this.lines = lines;
    this.source = source;
    this.items = doc ? lines.map((l) => locate(l, doc)) : [];
  }

  get count() {
    return this.items.length;
  }

  forComponent(id) {
    return this.items.filter((p) => p.kind === "component" && p.id === id);
  }

  forLink(key) {
    return this.items.filter((p) => p.kind === "link" && p.key === key);
  }

  forScenario(field) {
    return this.items.filter((p) => p.kind === "scenario" && p.field === field);
  }

  fieldMessage(list, field) {
    return list.find((p) => p.field === field)?.message || "";
  }
}

export class Validator {
  constructor(bus, store) {
    this.bus = bus;
    this.store = store;
    this.problems = new Problems();
    this.timer = 0;
    this.abort = null;
    this.pending = false;
    bus.on("doc:changed", () => this.schedule());
    // the validator's verdict from elsewhere (a submission refused): on the canvas too
    bus.on("problems:found", ({ lines, doc }) => this.external(lines, doc));
  }

  schedule(delay = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    this.pending = true;
    this.bus.emit("validation:pending", true);
    this.timer = setTimeout(() => this.run(), delay);
  }

  async run() {
    const doc = structuredClone(this.store.doc);
    const version = this.store.version;
    if (!doc.components.length) {
      this.set(new Problems([], doc), version);
      return;
    }
    this.abort?.abort();
    this.abort = new AbortController();
    try {
      const { status, data } = await api.validate(doc, { signal: this.abort.signal });
      if (version !== this.store.version) return; // a newer edit is on its way
      if (status === 403) {
        this.set(new Problems(["(document): the server refused the check (reload the page: CSRF token)"], doc), version);
        return;
      }
      this.set(new Problems(data?.errors || [], doc), version);
    } catch (err) {
      if (err.name === "AbortError") return;
      this.pending = false;
      this.bus.emit("validation:pending", false);
      this.bus.emit("validation:offline", err);
    }
  }

  /** Errors that arrived another way (a run refused with invalid_scenario). */
  external(lines, doc) {
    this.set(new Problems(lines, doc || this.store.doc, "run"), this.store.version);
  }

  set(problems, version) {
    this.problems = problems;
    this.problems.version = version;
    this.pending = false;
    this.bus.emit("validation:pending", false);
    this.bus.emit("validation:changed", problems);
  }
}

// The component registry from GET /api/kinds (the kinds' parameters, and the document's
// own fields: run settings, labels, links), with the local checks the inspector runs on
// every keystroke. Every bound comes from the server; messages use the validator's wording
// ("must be >= 1").

import { bound, num, words } from "./format.js";

export const GROUP_ORDER = ["traffic", "edge", "compute", "storage", "messaging"];
export const GROUP_TITLES = {
  traffic: "Traffic", edge: "Edge", compute: "Compute", storage: "Storage",
  messaging: "Messaging",
};

// Values for required parameters the registry gives no default for.
const STARTERS = { rate_rps: 100, service_ms: 10, read_ms: 5, write_ms: 10,
                   capacity_keys: 1000 };

// The engine's ID_PATTERN (scenario.py), which tidying a document (topology.js) needs
// before any registry is there; tests/web/test_editor_fields.py keeps the two equal.
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const ID_MESSAGE = "must be 1 to 64 letters, digits, '_', '-' or '.'";

export class Registry {
  /** `fields`: the document's own fields ({scenario, component, link, replication, network},
   * each a list of specs shaped like parameters), read by the server from the validator's
   * models. `network`: a call link's payload and protocol fields. `sizes`: the named
   * sizes, {workers, speed, cost_per_hour} each. */
  constructor({ kinds, fields, sizes }) {
    this.kinds = kinds || {};
    this.sizes = sizes || {};
    this.fields = { scenario: [], component: [], link: [], replication: [], network: [], ...fields };
  }

  /** The spec of one of the document's own fields: field("scenario", "duration_s"). */
  field(where, name) {
    return this.fields[where].find((f) => f.name === name);
  }

  has(kind) {
    return Object.hasOwn(this.kinds, kind);
  }

  kind(kind) {
    return this.kinds[kind] || { group: "other", title: words(kind), help: "", params: [] };
  }

  param(kind, name) {
    return this.kind(kind).params.find((p) => p.name === name);
  }

  /** Kinds grouped for the palette: known groups first, new groups after, in order. */
  groups() {
    const by = new Map();
    for (const [name, k] of Object.entries(this.kinds)) {
      if (!by.has(k.group)) by.set(k.group, []);
      by.get(k.group).push(name);
    }
    const order = [...GROUP_ORDER.filter((g) => by.has(g)),
                   ...[...by.keys()].filter((g) => !GROUP_ORDER.includes(g))];
    return order.map((g) => ({ group: g, title: GROUP_TITLES[g] || words(g), kinds: by.get(g) }));
  }

  /** The named sizes a kind runs on ([name, {workers, speed, cost_per_hour}], smallest
   * first), or none when it has no `size`. */
  sizesOf(kind) {
    return this.param(kind, "size")?.type === "choice" ? Object.entries(this.sizes) : [];
  }

  /** Parameters a new component starts with: every required one, with a sensible value. */
  starterParams(kind) {
    const out = {};
    for (const p of this.kind(kind).params) {
      if (!p.required) continue;
      if (p.default !== null && p.default !== undefined) out[p.name] = p.default;
      else if (Object.hasOwn(STARTERS, p.name)) out[p.name] = STARTERS[p.name];
      else if (p.type === "choice") out[p.name] = p.choices[0];
      else if (p.type === "bool") out[p.name] = false;
      else out[p.name] = Math.max(1, p.minimum ?? 1);
    }
    return out;
  }

  /** Effective value: the component's own or the registry default. */
  value(component, name) {
    const params = component.params || {};
    if (Object.hasOwn(params, name)) return params[name];
    return this.param(component.kind, name)?.default ?? null;
  }

  /** A one-line summary for the node card. */
  summary(component) {
    const v = (name) => this.value(component, name);
    switch (component.kind) {
      case "client": {
        const reads = v("read_ratio");
        const shape = v("schedule")?.shape;
        const classes = v("classes");
        const mix = classes?.length ? `${classes.length} class${classes.length > 1 ? "es" : ""}`
          : `${Math.round((reads ?? 1) * 100)}% reads`;
        return `${num(v("rate_rps"))} rps${shape ? ` · ${words(shape)}` : ""} · ${mix}`;
      }
      case "load_balancer": return words(v("algorithm") || "");
      case "service":
      case "worker": {
        const size = v("size");
        if (!size || size === "custom") return `${num(v("workers"))} × ${num(v("service_ms"))} ms`;
        const n = v("autoscale") && v("autoscale") !== "none" ? "auto" : num(v("instances") ?? 1);
        return `${n} × ${size} · ${num(v("service_ms"))} ms`;
      }
      case "cache": return `${num(v("capacity_keys"))} keys · ${String(v("eviction") || "").toUpperCase()}`;
      case "database": {
        const size = v("size");
        const on = size && size !== "custom" ? `${size} ·` : `${num(v("workers"))} ×`;
        return `${on} r ${num(v("read_ms"))} / w ${num(v("write_ms"))} ms`;
      }
      case "exchange": {
        const ms = v("publish_ms");
        return `${v("type") || "fanout"} exchange${ms ? ` · ${num(ms)} ms` : ""}`;
      }
      case "queue": {
        const cap = v("capacity");
        return cap === null ? "unbounded" : `holds ${num(cap)}`;
      }
      default: return this.kind(component.kind).title;
    }
  }
}

/**
 * Check one value against a field spec ({type, minimum, maximum, exclusive_minimum,
 * choices, min_length, max_length, required, nullable}). Returns the validator's message or "" when fine.
 * `value` null/undefined means "not set".
 */
export function checkValue(spec, value) {
  if (value === undefined || value === null) {
    if (value === null && spec.nullable) return "";
    return spec.required ? "is required" : "";
  }
  switch (spec.type) {
    case "int":
    case "float": {
      if (typeof value !== "number" || Number.isNaN(value)) return "must be a number";
      if (!Number.isFinite(value)) return "must be a finite number (not NaN or Infinity)";
      if (spec.type === "int" && !Number.isInteger(value)) return "must be a whole number";
      if (spec.minimum !== null && spec.minimum !== undefined) {
        if (spec.exclusive_minimum ? value <= spec.minimum : value < spec.minimum) {
          return `must be ${spec.exclusive_minimum ? ">" : ">="} ${bound(spec.minimum)}`;
        }
      }
      if (spec.maximum !== null && spec.maximum !== undefined && value > spec.maximum) {
        return `must be <= ${bound(spec.maximum)}`;
      }
      return "";
    }
    case "bool":
      return typeof value === "boolean" ? "" : "must be true or false";
    case "text": // a blank text counts as empty: the editor keeps no name of spaces alone
      if (spec.min_length && value.trim().length < spec.min_length) {
        return `must have at least ${spec.min_length} characters`;
      }
      if (spec.max_length !== null && spec.max_length !== undefined && value.length > spec.max_length) {
        return `must have at most ${spec.max_length} characters`;
      }
      return "";
    case "choice":
      return spec.choices.includes(value) ? ""
        : `must be one of ${spec.choices.map((c) => `'${c}'`).join(", ")}`;
    default:
      return "";
  }
}

/** Parse what a person typed into a number field: {value} or {error}. Empty -> null. */
export function parseNumber(spec, text) {
  const t = String(text).trim().replace(/[\s_,](?=\d{3}\b)/g, "");
  if (t === "") return { value: null };
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) {
    return { error: spec.type === "int" ? "must be a whole number" : "must be a number" };
  }
  const value = Number(t);
  const error = checkValue(spec, value);
  return error ? { error, value } : { value };
}

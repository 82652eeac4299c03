// Keeps the working document (and a few preferences) in localStorage so a reload does not
// lose work, and moves documents in and out as JSON files (import/export). Drafts are kept
// per design: the editor's own (/) and one per saved scenario (/s/<id>), so editing one
// design never overwrites the draft of another.

import { normalize } from "./topology.js";

const DOC_KEY = "sdp.document.v1"; // the editor's draft (/): a bare document
const DRAFT_PREFIX = "sdp.draft.v1:"; // + scenario id: {doc, base_version, at}
const MAX_SCENARIO_DRAFTS = 20; // the oldest go first: localStorage holds ~5 MB
const PREFS_KEY = "sdp.prefs.v1";
const RUN_KEY = "sdp.run.v1:"; // + a page's path, in sessionStorage: the run that page watches

function safe(fn, fallback = null) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** Drafts by scope: null is the editor's (/), a scenario id that scenario's unsaved edits. */
export const drafts = {
  /** {doc, base_version, at} or null. */
  load(scope) {
    const text = safe(() => localStorage.getItem(scope ? DRAFT_PREFIX + scope : DOC_KEY));
    if (!text) return null;
    const data = safe(() => JSON.parse(text));
    const entry = scope ? data : { doc: data, base_version: null, at: 0 };
    const doc = entry?.doc && safe(() => normalize(entry.doc).doc);
    return doc ? { ...entry, doc } : null;
  },
  save(scope, doc, baseVersion = null) {
    if (!scope) {
      safe(() => localStorage.setItem(DOC_KEY, JSON.stringify(doc)));
      return;
    }
    const entry = { doc, base_version: baseVersion, at: Date.now() };
    safe(() => localStorage.setItem(DRAFT_PREFIX + scope, JSON.stringify(entry)));
    this.prune();
  },
  remove(scope) {
    safe(() => localStorage.removeItem(scope ? DRAFT_PREFIX + scope : DOC_KEY));
  },
  /** Call `changed()` when another tab of this browser writes the draft of `scope`. */
  watch(scope, changed) {
    const key = scope ? DRAFT_PREFIX + scope : DOC_KEY;
    window.addEventListener("storage", (e) => { if (e.key === key && e.newValue) changed(); });
  },
  prune() {
    const keys = safe(() => Object.keys(localStorage), []).filter((k) => k.startsWith(DRAFT_PREFIX));
    if (keys.length <= MAX_SCENARIO_DRAFTS) return;
    const at = (k) => safe(() => JSON.parse(localStorage.getItem(k)).at, 0) || 0;
    keys.sort((a, b) => at(a) - at(b));
    for (const k of keys.slice(0, keys.length - MAX_SCENARIO_DRAFTS)) safe(() => localStorage.removeItem(k));
  },
};

export function loadDocument() {
  return drafts.load(null)?.doc || null;
}

/** Call keep(doc) a moment after each change (and when the page goes): keep decides where
 * the draft goes (saving.js), or drops it. */
export function watchDocument(bus, store, keep) {
  let timer = 0;
  const save = () => {
    timer = 0;
    keep(store.doc);
  };
  bus.on("doc:changed", ({ how }) => {
    if (how !== "reset" && !timer) timer = setTimeout(save, 250);
  });
  window.addEventListener("pagehide", () => { if (timer) { clearTimeout(timer); save(); } });
}

export const prefs = {
  all() {
    return safe(() => JSON.parse(localStorage.getItem(PREFS_KEY) || "{}"), {}) || {};
  },
  get(name, fallback) {
    const v = this.all()[name];
    return v === undefined ? fallback : v;
  },
  set(name, value) {
    const all = this.all();
    all[name] = value;
    safe(() => localStorage.setItem(PREFS_KEY, JSON.stringify(all)));
  },
};

/** The run a page of this tab watches ({id, token}), kept under the page's address: a reload,
 * or coming back to the page, re-joins and steers it; any other page (another design, lesson,
 * assignment or run link) starts with none, so a run never shows up in another page's editor. */
export function runMemory(path = location.pathname) {
  let key = RUN_KEY + path;
  return {
    get: () => safe(() => JSON.parse(sessionStorage.getItem(key) || "null")),
    set: (run) => safe(() => (run?.id ? sessionStorage.setItem(key, JSON.stringify(run))
      : sessionStorage.removeItem(key))),
    /** The page's address changed (a first save moves / to /s/<id>): its run goes along. */
    move(to) {
      const run = this.get();
      this.set(null);
      key = RUN_KEY + to;
      this.set(run);
    },
  };
}

export function slug(name) {
  return String(name || "design").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
    .slice(0, 60) || "design";
}

/** Hand a file to the browser's downloads. */
export function download(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Download the document as pretty JSON. */
export function exportDocument(doc) {
  download(new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: "application/json" }), `${slug(doc.name)}.json`);
}

/** Ask for a JSON file; resolves to {doc, notes} or rejects with a readable Error. */
export function pickDocument() {
  return new Promise((resolve, reject) => {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = ".json,application/json";
    input.addEventListener("change", async () => {
      const file = input.files?.[0];
      if (!file) return;
      if (file.size > 1_000_000) {
        reject(new Error("the file is larger than 1,000,000 bytes (the scenario limit)"));
        return;
      }
      try {
        const text = await file.text();
        let data;
        try {
          data = JSON.parse(text);
        } catch (err) {
          throw new Error(`not valid JSON (${err.message})`);
        }
        resolve({ ...normalize(data), fileName: file.name });
      } catch (err) {
        reject(err);
      }
    });
    input.click();
  });
}

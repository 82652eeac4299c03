// Keeps the working document (and a few preferences) in localStorage so a reload does not
// lose work, and moves documents in and out as JSON files (import/export).

import { normalize } from "./topology.js";

const DOC_KEY = "sdp.document.v1";
const PREFS_KEY = "sdp.prefs.v1";
const RUN_KEY = "sdp.run.v1"; // sessionStorage: the run this tab watches, to re-join after a reload

function safe(fn, fallback = null) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

export function loadDocument() {
  const text = safe(() => localStorage.getItem(DOC_KEY));
  if (!text) return null;
  return safe(() => normalize(JSON.parse(text)).doc);
}

export function watchDocument(bus, store) {
  let timer = 0;
  const save = () => {
    timer = 0;
    safe(() => localStorage.setItem(DOC_KEY, JSON.stringify(store.doc)));
  };
  bus.on("doc:changed", () => {
    if (!timer) timer = setTimeout(save, 250);
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

/** The run this tab watches ({id, token}): kept per tab so a reload re-joins and steers it. */
export const runMemory = {
  get: () => safe(() => JSON.parse(sessionStorage.getItem(RUN_KEY) || "null")),
  set: (run) => safe(() => (run?.id ? sessionStorage.setItem(RUN_KEY, JSON.stringify(run))
    : sessionStorage.removeItem(RUN_KEY))),
};

export function slug(name) {
  return String(name || "design").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
    .slice(0, 60) || "design";
}

/** Download the document as pretty JSON. */
export function exportDocument(doc) {
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `${slug(doc.name)}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
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

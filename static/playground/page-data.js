// What the server put in the page (the `page-data` json_script block): which page this is
// and what it opened. The editor at / has none and gets the editor defaults.

const DEFAULTS = { mode: "editor", scenario: null, can_edit: true, run: null, user: null, coedit: null };

export function readPageData() {
  const el = document.getElementById("page-data");
  let data = null;
  try {
    data = el ? JSON.parse(el.textContent) : null;
  } catch {
    data = null;
  }
  return { ...DEFAULTS, ...(data || {}) };
}

/** Nothing on this page may change the design: someone else's scenario or a lesson, a run
 * link's replay, an embed, someone else's live run. */
export function isReadOnly(page) {
  return ["run", "embed", "watch"].includes(page.mode) || (page.mode === "scenario" && !page.can_edit);
}

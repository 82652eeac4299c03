// "My designs": the person's saved scenarios (GET /api/scenarios), searchable and paged,
// each with open, rename, duplicate and delete. Changes to the open design are followed
// by the editor (saving.js), so its next save does not conflict with them.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { Dialog } from "./dialog.js";
import { scenarios } from "./api.js";
import { ago } from "./format.js";

const SEARCH_DELAY_MS = 250;

export class LibraryDialog {
  /** onRenamed(scenario) / onDeleted(id): the editor follows changes to the open design. */
  constructor({ saver, toaster, onRenamed, onDeleted }) {
    Object.assign(this, { saver, toaster, onRenamed, onDeleted });
    this.dialog = new Dialog({ title: "My designs", testid: "library", wide: true, iconName: "file" });
    this.query = "";
    this.page = 1;
    this.search = h("input", { type: "search", class: "input", placeholder: "Search by name", maxlength: 200,
                               "aria-label": "Search your designs", "data-testid": "library-search" });
    this.searchTimer = 0;
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.load(), SEARCH_DELAY_MS);
    });
    this.list = h("ul", { class: "library-list", "data-testid": "library-list" });
    this.status = h("p", { class: "library-status muted", role: "status" });
    this.pager = h("nav", { class: "library-pager", "aria-label": "Pages" });
    this.dialog.body.append(h("div", { class: "library-search" }, icon("zoomIn", { size: 16 }), this.search),
                            this.status, this.list, this.pager);
  }

  open() {
    this.dialog.open();
    this.search.focus();
    this.load();
  }

  async load() {
    // Any reload applies what the search box says now: a search still pending would
    // otherwise reload the list later, over a rename or delete the user has begun.
    clearTimeout(this.searchTimer);
    const query = this.search.value.trim();
    if (query !== this.query) {
      this.query = query;
      this.page = 1;
    }
    const ticket = (this.ticket = (this.ticket || 0) + 1);
    if (!this.list.children.length) this.status.textContent = "Loading…";
    try {
      const data = await scenarios.list({ q: this.query, page: this.page });
      if (ticket !== this.ticket) return; // a newer search answered first
      this.render(data);
    } catch (err) {
      if (ticket !== this.ticket) return;
      this.list.replaceChildren();
      this.pager.replaceChildren();
      this.status.textContent = `Could not load your designs: ${err.message}`;
    }
  }

  render({ results = [], page = 1, pages = 1, count = 0 }) {
    this.status.classList.remove("danger-text");
    this.status.textContent = count
      ? `${count} design${count === 1 ? "" : "s"}${this.query ? ` matching “${this.query}”` : ""}`
      : this.query ? `No design matches “${this.query}”.` : "Nothing saved yet. Save a design (Ctrl+S) and it appears here.";
    this.list.replaceChildren(...results.map((s) => this.row(s)));
    const nav = (label, to, disabled, testid) => h("button", {
      type: "button", class: "button button-small", disabled, "data-testid": testid, text: label,
      onclick: () => { this.page = to; this.load(); } });
    this.pager.hidden = pages <= 1;
    this.pager.replaceChildren(nav("Previous", page - 1, page <= 1, "library-prev"),
                               h("span", { class: "muted small", text: `Page ${page} of ${pages}` }),
                               nav("Next", page + 1, page >= pages, "library-next"));
  }

  row(s) {
    const current = s.id === this.saver.id;
    const title = h("a", { class: "library-title", href: s.url, text: s.title || "Untitled design",
                           "data-testid": "library-open" });
    const meta = h("span", { class: "library-meta",
                             text: `Changed ${ago(s.updated_at)} · version ${s.version}${s.forked_from ? " · a copy" : ""}` });
    const li = h("li", { class: `library-row${current ? " current" : ""}`, "data-id": s.id },
      h("div", { class: "library-text" }, h("span", { class: "library-name" }, title,
        current ? h("span", { class: "tag", text: "open now" }) : null), meta),
      h("div", { class: "library-actions" },
        this.action("Rename", "pencil", "library-rename", () => this.rename(li, s)),
        this.action("Duplicate", "copy", "library-duplicate", () => this.duplicate(s)),
        this.action("Delete", "trash", "library-delete", () => this.confirmDelete(li, s), true)));
    return li;
  }

  action(label, iconName, testid, run, danger = false) {
    return h("button", { type: "button", class: `icon-button${danger ? " danger" : ""}`, title: label,
                         "aria-label": label, "data-testid": testid, onclick: run }, icon(iconName, { size: 16 }));
  }

  failed(title, err) {
    // in the dialog itself: a toast would sit behind the modal's backdrop
    this.status.textContent = `${title}: ${err.message}`;
    this.status.classList.add("danger-text");
  }

  rename(li, s) {
    const input = h("input", { class: "input", value: s.title, maxlength: 200, "aria-label": "New name",
                               "data-testid": "library-rename-input" });
    const text = li.querySelector(".library-text");
    const form = h("form", { class: "library-rename" }, input,
      h("button", { type: "submit", class: "button button-small button-primary", text: "Rename" }),
      h("button", { type: "button", class: "button button-small", text: "Cancel", onclick: () => this.load() }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) {
        input.setCustomValidity("A name needs at least 1 character.");
        input.reportValidity();
        return;
      }
      try {
        const renamed = await scenarios.rename(s.id, title);
        if (renamed.id === this.saver.id) this.onRenamed(renamed);
        this.load();
      } catch (err) {
        this.failed("Could not rename it", err);
      }
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    text.replaceWith(form);
    input.focus();
    input.select();
  }

  async duplicate(s) {
    try {
      const copy = await scenarios.fork(s.id);
      this.toaster.show({ title: `Made “${copy.title}”`, tone: "success", key: "library" });
      this.page = 1;
      this.load();
    } catch (err) {
      this.failed("Could not duplicate it", err);
    }
  }

  confirmDelete(li, s) {
    const actions = li.querySelector(".library-actions");
    actions.replaceChildren(
      h("span", { class: "small danger-text", text: "Delete for good?" }),
      h("button", { type: "button", class: "button button-small button-danger", text: "Delete",
                    "data-testid": "library-delete-confirm", onclick: () => this.remove(s) }),
      h("button", { type: "button", class: "button button-small", text: "Keep", onclick: () => this.load() }));
    actions.querySelector(".button-danger").focus();
  }

  async remove(s) {
    try {
      await scenarios.remove(s.id);
      if (s.id === this.saver.id) this.onDeleted(s.id);
      this.toaster.show({ title: `Deleted “${s.title}”`, tone: "info", key: "library" });
      this.load();
    } catch (err) {
      this.failed("Could not delete it", err);
    }
  }
}

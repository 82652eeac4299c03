// A student's work on an assignment, saved to the server as it changes (PUT
// /api/assignments/<id>/work): a moment after each edit, whatever state the design is in
// (the server keeps a design in progress as a draft; only submitting needs one that runs).
// Until the server has an edit it is kept in this browser (persistence.js) and sent when the
// connection or the server is back; closing the tab sends it on the way out. Saves carry
// the work's version: a newer save from another tab or device is never overwritten unasked
// (409), the person chooses which to keep. Emits "save:state" ({source: "work", ...}).

import { request } from "./api.js";
import { ask } from "./dialog.js";
import { ago } from "./format.js";
import { drafts } from "./persistence.js";
import { Retry, later, waitS } from "./saving.js";
import { normalize } from "./topology.js";

const SAVE_AFTER_MS = 1200;

export class WorkSaver {
  constructor({ bus, store, toaster, actions, assignment }) {
    Object.assign(this, { bus, store, toaster, actions });
    this.url = `/api/assignments/${encodeURIComponent(assignment.id)}/work`;
    this.scope = `assignment:${assignment.id}`; // this browser's copy of unsent edits
    this.version = assignment.version; // of the work on the server, as this tab last saw it
    this.at = Date.parse(assignment.updated_at) || null;
    this.savedJson = null; // the document the server holds (as this tab last saw it)
    this.timer = 0;
    this.inFlight = null;
    this.problem = null; // why the last save did not go through: {state, why}
    this.retry = new Retry(() => this.save());
    bus.on("doc:changed", () => this.changed());
    for (const change of ["online", "offline"]) window.addEventListener(change, () => this.emit());
    window.addEventListener("beforeunload", (e) => {
      if (!this.unsent()) return;
      e.preventDefault();
      e.returnValue = ""; // older browsers need it set to show the prompt
    });
    window.addEventListener("pagehide", () => this.leaving());
  }

  /** The store holds the opened work: that is what the server has; bring back edits this
   * browser kept that never reached it. */
  start() {
    this.savedJson = JSON.stringify(this.store.doc);
    this.restore();
    this.emit();
  }

  get dirty() {
    return this.savedJson !== null && JSON.stringify(this.store.doc) !== this.savedJson;
  }

  unsent() {
    return this.dirty || !!this.inFlight;
  }

  get state() {
    if (this.problem) return this.problem.state;
    if (this.inFlight || this.timer) return navigator.onLine ? "saving" : "offline";
    if (this.dirty) return navigator.onLine ? "unsaved" : "offline";
    return "saved";
  }

  emit() {
    this.bus.emit("save:state", { source: "work", state: this.state, at: this.at, why: this.problem?.why });
  }

  changed() {
    if (this.savedJson === null) return; // the opened document arriving
    this.keepHere();
    clearTimeout(this.timer);
    this.timer = this.dirty ? setTimeout(() => this.save(), SAVE_AFTER_MS) : 0;
    if (!this.dirty && this.problem?.state !== "conflict") this.problem = null;
    this.emit();
  }

  keepHere() {
    if (this.dirty) drafts.save(this.scope, this.store.doc, this.version);
    else drafts.remove(this.scope);
  }

  /** Send the work now; resolves to true once the server has what the editor holds. */
  save() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.inFlight) return this.inFlight.then(() => this.save());
    if (!this.dirty) {
      this.problem = null;
      this.emit();
      return Promise.resolve(true);
    }
    if (!navigator.onLine) { // no use trying: sent when the browser is back online
      this.problem = { state: "offline" };
      this.retry.arm();
      this.emit();
      return Promise.resolve(false);
    }
    const doc = structuredClone(this.store.doc);
    this.inFlight = this.send(doc, this.version).finally(() => {
      this.inFlight = null;
      this.emit();
    });
    this.emit();
    return this.inFlight;
  }

  async send(doc, baseVersion) {
    const json = JSON.stringify(doc);
    try {
      this.adopt(await request("PUT", this.url, { document: doc, base_version: baseVersion }), json);
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  /** The server holds `work` now, whose document is `json` as the editor holds it (not
   * the server's echo: a database may order an object's keys its own way). */
  adopt(work, json) {
    this.version = work.version;
    this.at = Date.parse(work.updated_at) || Date.now();
    this.savedJson = json;
    this.problem = null;
    this.retry.reset();
    this.toaster.dismiss("work-save");
    this.keepHere();
    clearTimeout(this.timer);
    this.timer = this.dirty ? setTimeout(() => this.save(), SAVE_AFTER_MS) : 0; // edited meanwhile
  }

  failed(err) {
    if (err.status === 409) {
      this.problem = { state: "conflict" };
      this.conflict();
    } else if (later(err) !== false) {
      this.problem = { state: "offline", why: later(err) };
      this.retry.arm(err.status === 429 ? 1000 * waitS(err) : null);
    } else {
      this.problem = { state: "error", why: err.errors[0] };
      this.toaster.show({ title: "Your work could not be saved", tone: "error", key: "work-save", items: err.errors,
                          message: "It is kept in this browser; the next change tries again." });
    }
  }

  /** Another tab or device saved the work since this tab last did: say so, offer both. */
  async conflict() {
    if (this.asking) return;
    this.asking = true;
    let work;
    try {
      work = await request("GET", this.url);
    } catch (err) {
      this.asking = false;
      this.failed(err);
      this.emit();
      return;
    }
    const size = (doc) => `${doc.components.length} component${doc.components.length === 1 ? "" : "s"}, ${doc.links?.length || 0} link${doc.links?.length === 1 ? "" : "s"}`;
    const choice = await ask({
      title: "Your work was saved from somewhere else",
      testid: "conflict-dialog",
      message: [
        `Since this tab last saved, your work was saved from another tab or device (version ${work.version}, ${size(work.document)}; this tab has ${size(this.store.doc)}).`,
        "Keep this tab's design (it replaces that save), or open the one that was saved (this tab's stays in Undo, Ctrl+Z).",
      ],
      answers: [
        { label: "Open the saved one", value: "theirs", testid: "conflict-theirs" },
        { label: "Keep this tab's", value: "mine", primary: true, testid: "conflict-mine" },
      ],
    });
    this.asking = false;
    if (choice === "mine") {
      await this.send(structuredClone(this.store.doc), work.version);
    } else if (choice === "theirs" && this.actions.loadDocument(normalize(work.document).doc, "Open the saved work")) {
      this.adopt(work, JSON.stringify(this.store.doc));
    } // closed without a choice (or a run holds the design): the next edit asks again
    this.emit();
  }

  /** Work this browser kept that the server never got (the tab closed offline, the server
   * was away): sent now if it was made on the server's current version; offered if the
   * work was saved from elsewhere since. */
  restore() {
    const draft = drafts.load(this.scope);
    if (!draft || JSON.stringify(draft.doc) === this.savedJson) {
      drafts.remove(this.scope);
      return;
    }
    const bringBack = () => this.actions.loadDocument(draft.doc, "Restore unsaved work");
    if (draft.base_version === this.version) {
      if (bringBack()) {
        this.toaster.show({ title: "Your unsaved work is back", tone: "info", key: "draft",
                            message: "This browser kept edits the server had not got; they are being saved now." });
      }
      return;
    }
    this.toaster.show({
      title: "Older unsaved work in this browser", tone: "info", key: "draft", timeout: 30000,
      message: `This browser kept edits from ${ago(draft.at)} that never reached the server, and your work was saved from another tab or device since. The saved work is open.`,
      action: { label: "Use this browser's", run: bringBack },
    });
  }

  /** The tab is going: keep unsent edits here and try to send them on the way out. */
  leaving() {
    if (!this.dirty) return;
    this.keepHere();
    request("PUT", this.url, { document: this.store.doc, base_version: this.version }, { keepalive: true })
      .catch(() => {}); // what does not arrive is kept in this browser for the next visit
  }
}

// Saving the design to the server and keeping its draft in this browser.
//
// The editor at / holds a draft that has never been saved: the first Save POSTs it and moves
// the address to /s/<id>. Later saves PUT with base_version; if the scenario moved on since
// (another tab, another device) the server answers 409 and the person chooses: save a copy,
// overwrite, or neither. The server keeps a design in progress as it is (a draft need not
// run). Nothing in the editor is touched by a failed save, and the draft of each saved
// scenario is kept under its own key until it is saved (persistence.js); a save that found
// the browser offline or the server away is sent again when they are back (Retry).
// Emits "save:state" (the indicator's state) and "scenario:changed" (the saved scenario).

import { scenarios } from "./api.js";
import { ask } from "./dialog.js";
import { ago } from "./format.js";
import { drafts } from "./persistence.js";

/** HH:MM of a time (ms), as the save state shows it. */
function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** What the save-state element says: {state, text, short, title}. `status` is a saver's
 * {state, at (ms of the last save), why (the server's reason a save was refused)};
 * `online`: whether the browser has a connection (navigator.onLine unless given). */
export function describeSave({ state, at, why }, online = navigator.onLine) {
  const away = why ? [`Not saved yet – ${why}`, "Waiting", `${why}. Your edits are kept in this browser.`]
    : online
      ? ["Server unreachable – kept in this browser", "Not sent",
         "The server did not answer. Your edits are kept in this browser and sent when it is back."]
      : ["Offline – kept in this browser", "Offline",
         "This browser is offline. Your edits are kept in it and sent when the connection is back."];
  const [text, short, title] = {
    draft: ["Draft kept in this browser", "Draft", "Not saved to the server yet: Save gives the design its own link."],
    unsaved: ["Unsaved changes", "Unsaved", "Edits since the last save: Ctrl+S saves them."],
    saving: ["Saving…", "Saving…", "Sending your edits to the server."],
    shared: ["Everyone has your edits", "Shared",
             "The room has all your edits: the server saves a version within a minute of an edit, and when the last person leaves."],
    saved: [at ? `Saved at ${clock(at)}` : "Saved", at ? `Saved ${clock(at)}` : "Saved",
            "Everything is saved on the server."],
    offline: away,
    error: [`Could not save – ${why || "the server refused it"}`, "Not saved",
            `The server refused the save: ${why || "no reason given"}. Your edits are kept in this browser.`],
    conflict: ["Changed elsewhere – not saved", "Conflict",
               "It was saved from another tab or device since: choose which to keep. Your edits are kept in this browser."],
  }[state];
  return { state, text, short, title };
}

/** Whether a failed request means "try again later": no connection, or the server away
 * (`null`), or too many writes at once (the reason); otherwise false. */
export function later(err) {
  if (err.status === 429) return `too many saves at once: sent again in ${waitS(err)} s`;
  return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504 ? null : false;
}

/** Seconds a 429 asks to wait ("(rate limit): too many requests; try again in 12 s"). */
export function waitS(err) {
  return Number(/try again in (\d+) s/.exec(err.message)?.[1]) || 5;
}

/** Calls `send` again when the browser is back online, and every so often while the server
 * is away (2 s doubling to 30 s), once armed; `reset` after a save that went through. */
export class Retry {
  constructor(send) {
    this.send = send;
    this.timer = 0;
    this.delay = 0;
    window.addEventListener("online", () => { if (this.timer) this.now(); });
  }

  arm(afterMs = null) {
    clearTimeout(this.timer);
    this.delay = afterMs ?? Math.min(Math.max(this.delay * 2, 2000), 30000);
    this.timer = setTimeout(() => this.now(), this.delay);
  }

  now() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.send();
  }

  reset() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.delay = 0;
  }
}

export class Saver {
  constructor({ bus, store, toaster, actions, scenario, readOnly }) {
    Object.assign(this, { bus, store, toaster, actions, readOnly });
    this.scenario = scenario; // the saved scenario this editor writes to, or null
    this.baseline = null; // the document as last saved or loaded (JSON text)
    this.inFlight = null;
    this.dirty = false;
    this.at = scenario ? Date.parse(scenario.updated_at) || null : null; // the last save
    this.problem = null; // why the last save did not go through: {state, why}
    this.retry = new Retry(() => this.save()); // a save asked for while offline, sent when back
    for (const change of ["online", "offline"]) window.addEventListener(change, () => this.check());
    let queued = false;
    bus.on("doc:changed", () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.check();
      });
    });
    window.addEventListener("beforeunload", (e) => {
      if (!this.mayLoseWork()) return;
      e.preventDefault();
      e.returnValue = ""; // older browsers need it set to show the prompt
    });
  }

  get id() {
    return this.scenario?.id || null;
  }

  get state() {
    if (this.inFlight) return "saving";
    if (this.problem && (this.dirty || !this.scenario)) return this.problem.state;
    if (!this.scenario) return "draft";
    if (this.dirty && !navigator.onLine) return "offline";
    return this.dirty ? "unsaved" : "saved";
  }

  /** What the save-state element shows. */
  get status() {
    return { state: this.state, at: this.at, why: this.problem?.why };
  }

  /** A saved design with edits that are not on the server (the draft stays here anyway). */
  mayLoseWork() {
    return !this.readOnly && !!this.scenario && (this.dirty || !!this.inFlight);
  }

  /** The store now holds the opened document: remember it as saved, offer a newer draft. */
  start() {
    if (this.scenario) this.baseline = JSON.stringify(this.store.doc);
    this.check();
    if (!this.readOnly && this.scenario) this.offerDraft();
    if (!this.readOnly) drafts.watch(null, () => this.otherTab());
  }

  /** Another tab wrote the editor's draft (/), which this tab's next edit would replace:
   * say so while both are still there, and offer the other tab's. */
  otherTab() {
    const theirs = drafts.load(null);
    if (this.scenario || !theirs || JSON.stringify(theirs.doc) === JSON.stringify(this.store.doc)) return;
    this.toaster.show({
      title: "This draft was changed in another tab", tone: "warn", key: "draft-tab", timeout: 30000,
      message: "This browser keeps one draft of an unsaved design: the next edit here replaces the other tab's. Save gives a design its own link.",
      action: { label: "Open the other tab's", run: () => this.actions.loadDocument(theirs.doc, "Open the other tab's draft") },
    });
  }

  check() {
    this.dirty = !!this.scenario && JSON.stringify(this.store.doc) !== this.baseline;
    if (this.scenario && !this.dirty && !this.inFlight) { // nothing left to save
      this.problem = null;
      this.retry.reset();
    }
    this.bus.emit("save:state", this.status);
  }

  /** Where the draft goes after a change (watchDocument calls this). */
  keep(doc) {
    if (this.readOnly) return;
    if (!this.scenario) drafts.save(null, doc);
    else if (JSON.stringify(doc) !== this.baseline) drafts.save(this.id, doc, this.scenario.version);
    else drafts.remove(this.id);
  }

  offerDraft() {
    const draft = drafts.load(this.id);
    if (!draft) return;
    if (JSON.stringify(draft.doc) === this.baseline) {
      drafts.remove(this.id);
      return;
    }
    const older = draft.base_version && draft.base_version !== this.scenario.version
      ? ` They were made to version ${draft.base_version}; the saved design is at version ${this.scenario.version} now.`
      : "";
    this.toaster.show({
      title: "Unsaved changes to this design", tone: "info", key: "draft", timeout: 30000,
      message: `This browser kept edits from ${ago(draft.at)} that were never saved.${older}`,
      action: { label: "Restore them", run: () => this.actions.loadDocument(draft.doc, "Restore unsaved changes") },
    });
  }

  /** Save (create or update); resolves to the saved scenario, or null if it was not saved. */
  save() {
    if (this.readOnly) {
      this.bus.emit("design:read-only");
      return Promise.resolve(null);
    }
    if (this.inFlight) return this.inFlight;
    const doc = structuredClone(this.store.doc);
    const text = JSON.stringify(doc);
    const first = !this.scenario;
    this.inFlight = this.write(doc)
      .then((scenario) => {
        if (!scenario) return null;
        this.adopt(scenario, text);
        this.toaster.dismiss("save-error");
        this.toaster.show(first
          ? { title: "Saved", message: "The design has its own link now: Share sends it to others.",
              tone: "success", key: "save" }
          : { title: "Saved", message: `Version ${scenario.version}.`, tone: "success", key: "save", timeout: 1800 });
        return scenario;
      })
      .finally(() => {
        this.inFlight = null;
        this.check();
      });
    this.check();
    return this.inFlight;
  }

  async write(doc) {
    try {
      if (!this.scenario) return await scenarios.create(doc);
      return await scenarios.update(this.id, doc, this.scenario.version);
    } catch (err) {
      if (err.status === 409) return this.conflict(doc, err);
      if (err.status === 403 || err.status === 404) return this.notYours(doc, err);
      this.failed(err);
      return null;
    }
  }

  async conflict(doc, err) {
    const now = err.data?.version;
    const choice = await ask({
      title: "This design was changed elsewhere",
      testid: "conflict-dialog",
      message: [
        `Since you opened it, it was saved from another tab or device${now ? ` (it is at version ${now} now)` : ""}.`,
        "Your edits are still here. Keep them as a copy, or overwrite the saved design with them (its current version stays in the history).",
      ],
      answers: [
        { label: "Cancel", value: "cancel", testid: "conflict-cancel" },
        { label: "Overwrite", value: "overwrite", danger: true, testid: "conflict-overwrite" },
        { label: "Save as a copy", value: "copy", primary: true, testid: "conflict-copy" },
      ],
    });
    try {
      if (choice === "copy") return await scenarios.create(doc);
      if (choice === "overwrite") {
        const fresh = await scenarios.get(this.id);
        return await scenarios.update(this.id, doc, fresh.version);
      }
      this.problem = { state: "conflict" }; // neither: the next Save asks again
    } catch (e) {
      this.failed(e);
    }
    return null;
  }

  async notYours(doc, err) {
    this.toaster.show({
      title: "Could not save to this design", tone: "error", key: "save-error", items: err.errors,
      message: "It is not yours (any more), or it was deleted. Your edits are still here.",
      action: { label: "Save as a copy", run: () => this.saveCopy(doc) },
    });
    return null;
  }

  async saveCopy(doc) {
    try {
      const scenario = await scenarios.create(doc);
      this.adopt(scenario, JSON.stringify(doc));
      this.check();
      this.toaster.show({ title: "Saved as a copy", tone: "success", key: "save" });
    } catch (err) {
      this.failed(err);
    }
  }

  /** A save that did not go through: said in the save state; sent again by itself once
   * the connection or the server is back, or after a rate limit's wait. */
  failed(err, title = "Could not save") {
    const why = later(err);
    if (why !== false) {
      this.problem = { state: "offline", why };
      this.retry.arm(why ? 1000 * waitS(err) : null);
      return;
    }
    this.problem = { state: "error", why: err.errors[0] };
    this.toaster.show({
      title, tone: "error", key: "save-error", items: err.errors,
      message: "Nothing was lost: the design is still here and kept in this browser.",
    });
  }

  /** From now on this editor writes to `scenario` (its document is `text`). */
  adopt(scenario, text) {
    const previous = this.id;
    if (!previous) drafts.remove(null); // the editor's draft lives on as this scenario
    else if (previous !== scenario.id) drafts.remove(previous); // the edits went to a copy
    this.scenario = scenario;
    this.baseline = text;
    this.at = Date.parse(scenario.updated_at) || Date.now();
    this.problem = null;
    this.retry.reset();
    drafts.remove(scenario.id);
    if (scenario.url && location.pathname !== scenario.url) history.replaceState(null, "", scenario.url);
    this.bus.emit("scenario:changed", scenario);
  }

  /** The open scenario changed on the server (rename, restore) and the store followed:
   * write to its new version; `clean`: the store now holds exactly what is saved. */
  follow(scenario, { clean }) {
    this.scenario = scenario;
    if (clean) this.baseline = JSON.stringify(this.store.doc);
    this.check();
    this.bus.emit("scenario:changed", scenario);
  }

  /** The editor moved on to another design (New, an example, an import): it is the editor's
   * draft (/) from the next edit on. The saved design keeps its draft of unsaved edits. */
  detach() {
    if (!this.scenario || this.readOnly) return;
    this.scenario = null;
    this.baseline = null;
    history.replaceState(null, "", "/");
    this.check();
    this.bus.emit("scenario:changed", null);
  }

  /** The open scenario was deleted (its draft too); the editor keeps what it holds. */
  forget() {
    drafts.remove(this.id);
    this.detach();
  }
}

// The editor's side of keeping and sharing designs, wired in one place: Save and its state,
// the read-only view of someone else's design with "Make a copy", Share, My designs,
// Version history, the Design menu (new, examples, import, export as JSON or picture), the
// lesson panel and who is signed in. main.js creates it, asks it for the opened document,
// and calls start() once the store holds it.

import { $, h } from "./dom.js";
import { icon } from "./icons.js";
import { api, scenarios } from "./api.js";
import { setScenario } from "./commands.js";
import { emptyDocument, normalize } from "./topology.js";
import { isReadOnly } from "./page-data.js";
import { Saver, describeSave } from "./saving.js";
import { WorkSaver } from "./work-saver.js";
import { ShareDialog } from "./share.js";
import { LibraryDialog } from "./library.js";
import { VersionsDialog } from "./versions.js";
import { LessonPanel } from "./lesson.js";
import { AssignmentPanel } from "./assignment.js";
import { renderAccount } from "./account.js";
import { exportDocument, pickDocument } from "./persistence.js";
import { exportPng, exportSvg } from "./image-export.js";

export class Designs {
  constructor({ bus, store, toaster, actions, canvas, player, page }) {
    Object.assign(this, { bus, store, toaster, actions, canvas, player, page });
    this.readOnly = isReadOnly(page);
    // A student's assignment saves to their own copy (assignment.js), not to a scenario.
    this.assignment = page.mode === "assignment" ? page.assignment : null;
    // A co-edited design is saved by its room on the server (coedit.js), not by Save.
    this.coedit = !!page.coedit;
    this.saver = new Saver({ bus, store, toaster, actions, readOnly: this.readOnly || !!this.assignment || this.coedit,
                             scenario: page.mode === "scenario" ? page.scenario : null });
    this.work = this.assignment ? new WorkSaver({ bus, store, toaster, actions, assignment: this.assignment }) : null;
    this.share = new ShareDialog({ saver: this.saver, toaster, coedit: page.coedit });
    this.library = new LibraryDialog({
      saver: this.saver, toaster,
      onRenamed: (scenario) => this.followRename(scenario),
      onDeleted: () => {
        this.saver.forget();
        toaster.show({ title: "The open design was deleted", tone: "warn", key: "deleted",
                       message: "It is still open here: Save makes it a new design." });
      },
    });
    this.versions = new VersionsDialog({ saver: this.saver, toaster,
                                         onRestored: (s, n) => this.loadRestored(s, n) });
    bus.on("design:read-only", () => this.readOnlyNotice());
  }

  /** The document this page opened (a saved scenario, a run link's), or null: the editor's
   * own draft. */
  openedDocument() {
    const { mode, scenario, run, assignment } = this.page;
    // watching someone's run: the design arrives with the run's snapshot
    const doc = { scenario: scenario?.document, run: run?.document,
                  assignment: assignment?.document, watch: emptyDocument() }[mode];
    return doc ? normalize(doc).doc : null;
  }

  /** Menu handlers for the Design menu; `examples`: [{slug, name, description}]. */
  menuHandlers(examples) {
    const { toaster } = this;
    const picture = (make, what) => async () => {
      try {
        await make(this.store.doc);
      } catch (err) {
        this.toaster.show({ title: `Could not export the ${what}`, message: err.message, tone: "error" });
      }
    };
    return {
      canEdit: !this.readOnly,
      onLibrary: () => this.library.open(),
      onVersions: () => this.versions.open(),
      onLessons: () => location.assign("/lessons"),
      onExportSvg: picture(exportSvg, "SVG"),
      onExportPng: picture(exportPng, "PNG"),
      examples,
      onNew: () => {
        if (this.startNew(emptyDocument(), "New design")) {
          toaster.show({ title: "New empty design", message: "Undo (Ctrl+Z) brings the previous one back.", tone: "info" });
        }
      },
      onExample: async (slug) => {
        try {
          const { doc } = normalize(await api.example(slug));
          if (this.startNew(doc, `Load example: ${doc.name}`)) {
            toaster.show({ title: `Loaded “${doc.name}”`, message: "Undo (Ctrl+Z) brings the previous design back.", tone: "success" });
          }
        } catch (err) {
          toaster.show({ title: "Could not load the example", message: err.message, tone: "error" });
        }
      },
      onImport: async () => {
        try {
          const { doc, notes, fileName } = await pickDocument();
          if (this.startNew(doc, `Import ${fileName}`)) {
            toaster.show({ title: `Imported ${fileName}`, tone: notes.length ? "warn" : "success", items: notes,
                           message: notes.length ? "Some things were repaired:" : "Undo (Ctrl+Z) brings the previous design back." });
          }
        } catch (err) {
          toaster.show({ title: "Could not import that file", message: err.message, tone: "error" });
        }
      },
      onExport: () => exportDocument(this.store.doc),
    };
  }

  /** Replace the design with another one (New, an example, an import): undoable, and no
   * longer the saved design's, so Save makes a new one. */
  startNew(doc, label) {
    const loaded = this.actions.loadDocument(doc, label);
    if (loaded) this.saver.detach();
    return loaded;
  }

  /** Save (Ctrl+S): the saved design, or a student's work on an assignment. */
  save() {
    if (this.coedit) {
      this.toaster.show({ title: "Saved as you edit", tone: "info", key: "coedit-save",
                          message: "Everyone's edits to this design are saved by the server: a version at most every minute, and when the last person leaves." });
      return Promise.resolve(null);
    }
    return this.work ? this.work.save() : this.saver.save();
  }

  /** The store holds the opened document: show the state, lock a read-only design. */
  start() {
    const { saver, store } = this;
    const stateEl = $("#save-state");
    const saveBtn = $("#save"), shareBtn = $("#share");
    const showState = (status) => {
      // an assignment's work is saved as it changes: its state stands alone
      if (this.work && status.source !== "work") return;
      if (this.coedit && status.source !== "coedit") return;
      const { state, text, short, title } = describeSave(status);
      stateEl.hidden = this.readOnly;
      stateEl.dataset.state = state;
      stateEl.textContent = text;
      stateEl.dataset.short = short;
      stateEl.title = title;
      saveBtn.disabled = state === "saving";
      saveBtn.classList.toggle("unsaved", ["unsaved", "offline", "error", "conflict"].includes(state));
    };
    this.bus.on("save:state", showState);
    saveBtn.addEventListener("click", () => this.save());
    shareBtn.addEventListener("click", () => this.share.open());
    // a run link or an embed shares in its own way; a read-only design has nothing to save;
    // an assignment keeps the student's copy on its own
    saveBtn.hidden = this.readOnly || !!this.assignment || this.coedit;
    shareBtn.hidden = this.page.mode === "run" || !!this.assignment;
    renderAccount($("#account"), this.page.user);
    saver.start();
    this.work?.start();
    const onLayout = () => requestAnimationFrame(() => requestAnimationFrame(() => {
      this.canvas.cy.resize();
      this.canvas.fit();
    }));
    if (this.assignment) {
      new AssignmentPanel($("#stage"), { bus: this.bus, store, player: this.player, actions: this.actions,
                                         toaster: this.toaster, assignment: this.assignment, work: this.work,
                                         onLayout });
      return;
    }
    const lesson = new LessonPanel($("#stage"), {
      bus: this.bus, store,
      isLesson: () => !!saver.scenario?.lesson,
      visible: () => this.page.mode === "scenario" && !!saver.scenario,
      onLayout,
    });
    this.bus.on("scenario:changed", () => lesson.render());
    if (this.readOnly) this.lock();
  }

  lock() {
    this.store.setReadOnly(true);
    this.canvas.cy.autoungrabify(true);
    document.body.classList.add("read-only");
    for (const item of document.querySelectorAll(".palette-item")) item.disabled = true;
    if (this.page.mode !== "scenario" || !this.page.scenario) return;
    const fork = h("button", { type: "button", class: "button button-primary button-small", "data-testid": "fork" },
      icon("copy", { size: 15 }), "Make a copy");
    fork.addEventListener("click", () => this.fork(fork));
    const title = this.page.scenario.title || "this design";
    // while it watches a run it may not steer (a co-edited design's shared run), Play is off
    const hint = h("span", { class: "read-only-hint" });
    const say = () => {
      hint.textContent = `${this.player.live && !this.player.owner ? "Watch its run" : "Play it"}, or make your own copy to change it.`;
    };
    say();
    this.bus.on("run:changed", say);
    $("#stage-canvas").append(h("div", { class: "read-only-banner", "data-testid": "read-only-banner", role: "status" },
      icon("eye", { size: 16 }),
      h("span", { class: "read-only-text" }, "Viewing ", h("strong", { text: title }), " (read-only)"),
      hint,
      fork));
  }

  /** lock() undone: edit rights given in a co-editing room (a lecture's pen). */
  unlock() {
    this.store.setReadOnly(false);
    this.canvas.cy.autoungrabify(false);
    document.body.classList.remove("read-only");
    for (const item of document.querySelectorAll(".palette-item")) item.disabled = false;
    document.querySelector("[data-testid=read-only-banner]")?.remove();
  }

  async fork(button) {
    button.disabled = true;
    try {
      const copy = await scenarios.fork(this.page.scenario.id);
      location.assign(copy.url);
    } catch (err) {
      button.disabled = false;
      this.toaster.show({ title: "Could not make a copy", tone: "error", items: err.errors, key: "fork" });
    }
  }

  readOnlyNotice() {
    this.toaster.show({
      title: "This design is read-only", tone: "info", key: "read-only",
      message: this.page.mode === "scenario" ? "Make your own copy to change and save it." : "It cannot be changed here.",
      action: this.page.mode === "scenario" && this.page.scenario
        ? { label: "Make a copy", run: () => this.fork($("[data-testid=fork]")) } : null,
    });
  }

  /** The open design was renamed from My designs: rename it here too, as saved. */
  followRename(scenario) {
    const clean = !this.saver.dirty;
    this.store.exec(setScenario(this.store.doc, { name: scenario.title }));
    this.saver.follow(scenario, { clean });
  }

  /** A version was restored on the server: load it as one undoable step, as saved. */
  loadRestored(scenario, number) {
    const loaded = this.actions.loadDocument(normalize(scenario.document).doc, `Restore version ${number}`);
    this.saver.follow(scenario, { clean: loaded });
    if (loaded) {
      this.toaster.show({ title: `Restored version ${number}`, tone: "success", key: "versions",
                          message: `It is version ${scenario.version} now; Undo (Ctrl+Z) brings back what you had.` });
    }
  }
}

// Version history of the open saved design: every save kept the version it replaced. Each
// row previews as a small diagram (the server's picture, image-export.js) and can be restored: the server makes
// it the newest version (nothing is lost) and the editor loads it as one undoable step.

import { h } from "./dom.js";
import { Dialog } from "./dialog.js";
import { scenarios } from "./api.js";
import { ago, plural } from "./format.js";
import { diagramSvg } from "./image-export.js";
import { normalize } from "./topology.js";

export class VersionsDialog {
  /** onRestored(scenario): the editor loads the scenario's document. */
  constructor({ saver, toaster, onRestored }) {
    Object.assign(this, { saver, toaster, onRestored });
    this.shown = 0; // the latest version asked for: an earlier answer arriving late is dropped
    this.dialog = new Dialog({ title: "Version history", testid: "versions", wide: true, iconName: "reset" });
    this.list = h("ol", { class: "version-list", "data-testid": "version-list" });
    this.preview = h("div", { class: "version-preview", "data-testid": "version-preview" });
    this.dialog.body.append(h("div", { class: "versions" }, this.list, this.preview));
  }

  async open() {
    const { saver } = this;
    if (!saver.scenario) {
      this.toaster.show({ title: "No history yet", tone: "info", key: "versions",
                          message: "Save the design (Ctrl+S): from then on every save keeps the one before." });
      return;
    }
    this.dialog.open();
    this.list.replaceChildren(h("li", { class: "muted small", text: "Loading…" }));
    this.shown += 1;
    this.showPreview(null);
    try {
      const { results } = await scenarios.versions(saver.id);
      this.render(results);
    } catch (err) {
      this.list.replaceChildren(h("li", { class: "muted small", text: `Could not load the history: ${err.message}` }));
    }
  }

  render(versions) {
    const current = this.saver.scenario;
    const head = h("li", { class: "version-row current" },
      h("div", { class: "version-text" },
        h("strong", { text: `Version ${current.version}` }), h("span", { class: "tag", text: "current" }),
        h("span", { class: "version-meta", text: `${current.title} · ${ago(current.updated_at)}` })));
    if (!versions.length) {
      this.list.replaceChildren(head, h("li", { class: "muted small version-empty",
                                                text: "No earlier versions: each save from now on keeps the one it replaces." }));
      return;
    }
    this.list.replaceChildren(head, ...versions.map((v) => {
      const li = h("li", { class: "version-row", "data-number": v.number },
        h("button", { type: "button", class: "version-text", "data-testid": `version-${v.number}`,
                      onclick: () => this.select(li, v) },
          h("strong", { text: `Version ${v.number}` }),
          h("span", { class: "version-meta", text: `${v.title} · ${ago(v.created_at)}` })),
        h("button", { type: "button", class: "button button-small", text: "Restore",
                      "data-testid": `version-restore-${v.number}`, onclick: () => this.restore(v) }));
      return li;
    }));
  }

  async select(li, v) {
    for (const row of this.list.querySelectorAll(".version-row")) row.classList.toggle("selected", row === li);
    const ticket = ++this.shown;
    this.showPreview({ loading: true });
    let shown;
    try {
      const full = await scenarios.version(this.saver.id, v.number);
      const { doc } = normalize(full.document);
      shown = [full, doc, await diagramSvg(doc)];
    } catch (err) {
      shown = [{ error: `could not load version ${v.number}: ${err.message}` }];
    }
    if (ticket === this.shown) this.showPreview(...shown);
  }

  /** `v`: a version (shown with its normalized `doc` and its `picture`), {loading}, {error} or null. */
  showPreview(v, doc, picture) {
    if (!v) {
      this.preview.replaceChildren(h("p", { class: "muted small", text: "Pick a version to see it." }));
      return;
    }
    if (v.loading || v.error) {
      this.preview.replaceChildren(h("p", { class: "muted small", text: v.error ? `Sorry, ${v.error}.` : "Loading…" }));
      return;
    }
    picture.classList.add("version-picture");
    this.preview.replaceChildren(
      h("h3", { class: "version-title", text: v.title }),
      h("p", { class: "muted small", text: `Version ${v.number} · ${new Date(v.created_at).toLocaleString()} · `
        + `${plural(doc.components.length, "component")}, ${plural(doc.links.length, "link")}` }),
      picture,
      h("button", { type: "button", class: "button button-primary", text: `Restore version ${v.number}`,
                    onclick: () => this.restore(v) }));
  }

  async restore(v) {
    try {
      const scenario = await scenarios.restore(this.saver.id, v.number);
      this.dialog.close();
      this.onRestored(scenario, v.number);
    } catch (err) {
      this.showPreview({ error: `could not restore version ${v.number}: ${err.message}` });
    }
  }
}

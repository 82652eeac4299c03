// The Share dialog: the design's link, an embed snippet for course pages and blogs, and its
// picture. An unsaved design is saved first (a link must show what the person sees). Its
// owner also shares an edit link here, to edit it together (coedit.js), and revokes it.

import { scenarios } from "./api.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";
import { Dialog } from "./dialog.js";

const EMBED_SIZE = { width: 800, height: 500 };

/** Text for an HTML attribute value in a snippet someone pastes elsewhere. */
function attr(text) {
  return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function embedSnippet(scenario, origin = location.origin) {
  return `<iframe src="${attr(origin + scenario.embed_url)}" width="${EMBED_SIZE.width}" `
    + `height="${EMBED_SIZE.height}" title="${attr(scenario.title || "System design")}" `
    + `loading="lazy" allow="clipboard-write"></iframe>`;
}

export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard API (an http:// address that is not localhost): select it for Ctrl+C
    field.focus();
    field.select();
    return document.execCommand?.("copy") || false;
  }
}

export class ShareDialog {
  constructor({ saver, toaster, coedit = null }) {
    Object.assign(this, { saver, toaster, coedit });
    this.dialog = new Dialog({ title: "Share this design", testid: "share-dialog", iconName: "share" });
  }

  async open() {
    const { saver } = this;
    if (!this.coedit && (!saver.scenario || saver.dirty)) { // a co-edited design is saved by its room
      const saved = await saver.save();
      if (!saved) return; // the save said why
    }
    this.render(saver.scenario);
    this.dialog.open();
  }

  copyRow({ label, value, testid, multiline = false, note = "" }) {
    const id = `share-${testid}`;
    const field = multiline
      ? h("textarea", { class: "input textarea share-field", id, readonly: true, rows: 4, "data-testid": testid })
      : h("input", { class: "input share-field", id, readonly: true, "data-testid": testid });
    field.value = value;
    field.addEventListener("focus", () => field.select());
    const button = h("button", { type: "button", class: "button", "data-testid": `${testid}-copy` },
      icon("copy", { size: 15 }), h("span", { text: "Copy" }));
    button.addEventListener("click", async () => {
      const ok = await copyText(value, field);
      button.lastChild.textContent = ok ? "Copied" : "Press Ctrl+C";
      button.classList.toggle("button-done", ok);
      setTimeout(() => {
        button.lastChild.textContent = "Copy";
        button.classList.remove("button-done");
      }, 1800);
    });
    return h("div", { class: "share-row" },
      h("label", { class: "field-label", for: id, text: label }),
      h("div", { class: `share-control${multiline ? " share-control-multi" : ""}` }, field, button),
      note ? h("p", { class: "field-help", text: note }) : null);
  }

  /** The owner's edit link: make one (the page then joins the design's room), copy it,
   * or revoke it (whoever joined by it can then only watch). */
  editTogether(scenario) {
    const act = (label, testid, run) => {
      const button = h("button", { type: "button", class: "button", "data-testid": testid, text: label });
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await run(scenario.id);
          location.reload(); // the page joins (or leaves) the room
        } catch (err) {
          button.disabled = false;
          this.toaster.show({ title: "Could not change the edit link", tone: "error", items: err.errors, key: "edit-link" });
        }
      });
      return button;
    };
    const link = this.coedit?.edit_link;
    return h("div", { class: "share-row", "data-testid": "edit-together" },
      h("p", { class: "field-label", text: "Edit together" }),
      link ? this.copyRow({ label: "Edit link", value: location.origin + link, testid: "edit-link",
                            note: "Anyone with this link edits the design with you, live. Revoke it to make them viewers." })
        : h("p", { class: "field-help", text: "An edit link lets others edit this design with you, live; you can revoke it at any time." }),
      h("p", { class: "share-links" },
        act(link ? "New edit link" : "Make an edit link", "edit-link-make", scenarios.makeEditLink),
        link ? act("Revoke", "edit-link-revoke", scenarios.revokeEditLink) : null));
  }

  render(scenario) {
    const origin = location.origin;
    const link = origin + scenario.url;
    const preview = h("img", { class: "share-preview", alt: `Diagram of ${scenario.title}`,
                               src: scenario.preview_url, width: 240, height: 135, loading: "lazy" });
    preview.addEventListener("error", () => { preview.hidden = true; });
    const pictureLink = (href, text) => h("a", { href, target: "_blank", rel: "noopener", class: "share-link",
                                                 text });
    this.dialog.body.replaceChildren(
      h("p", { class: "dialog-text muted",
               text: `Anyone with the link can view it, play it and make their own copy.${
                 scenario.can_edit ? " Only you can change it." : ""}` }),
      this.copyRow({ label: "Link", value: link, testid: "share-link" }),
      this.copyRow({ label: "Embed on a page", value: embedSnippet(scenario, origin), testid: "share-embed",
                     multiline: true, note: "A read-only player with play and pause that links back here." }),
      h("div", { class: "share-row share-picture" },
        preview,
        h("div", {},
          h("p", { class: "field-label", text: "Picture" }),
          h("p", { class: "field-help", text: "The diagram as an image, for slides and notes. Links show it as their preview." }),
          h("p", { class: "share-links" },
            pictureLink(scenario.preview_url.replace(/\.png$/, ".svg"), "SVG"), " · ",
            pictureLink(scenario.preview_url, "PNG")))),
      scenario.can_edit ? this.editTogether(scenario) : null);
    this.dialog.setButtons([
      { label: "Open the link", run: () => window.open(link, "_blank", "noopener") },
      { label: "Done", primary: true, run: () => this.dialog.close() },
    ]);
  }
}

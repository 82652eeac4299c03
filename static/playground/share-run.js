// "Share run" in the run bar: stores the live run this tab started as a run link (POST
// /api/runs: its design, seed, command log and the time reached) and shows the link
// (/r/<id>), which replays exactly that run with a timeline to scrub.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { request } from "./api.js";
import { Dialog } from "./dialog.js";
import { copyText } from "./share.js";

export class ShareRun {
  constructor(runbar, { bus, player, toaster, page }) {
    Object.assign(this, { player, toaster, page });
    this.button = h("button", { type: "button", class: "button button-small share-run", "data-testid": "share-run",
                                title: "Share this run: a link that replays it exactly, with a timeline", hidden: true },
      icon("share", { size: 15 }), h("span", { class: "button-text", text: "Share run" }));
    this.button.addEventListener("click", () => this.share());
    runbar.append(this.button);
    this.dialog = new Dialog({ title: "Share this run", testid: "share-run-dialog", iconName: "share" });
    for (const ev of ["run:changed", "run:snapshot"]) bus.on(ev, () => this.render());
  }

  /** Only a live run this tab steers: a replay is shared by its own link already. */
  render() {
    const run = this.player.run;
    this.button.hidden = !(run && this.player.owner && !run.replay);
  }

  async share() {
    const run = this.player.run;
    if (!run) return;
    const untilS = run.t;
    const body = { document: run.scenario, seed: run.seed, until_s: untilS,
                   commands: run.commands.filter((c) => c.at_s <= untilS),
                   scenario: this.page.mode === "scenario" ? this.page.scenario?.id ?? null : null };
    this.button.disabled = true;
    try {
      this.show(await request("POST", "/api/runs", body));
    } catch (err) {
      this.toaster.show({ title: "Could not share the run", tone: "error", items: err.errors, key: "share-run" });
    } finally {
      this.button.disabled = false;
    }
  }

  show(saved) {
    const link = location.origin + saved.url;
    const field = h("input", { class: "input share-field", id: "run-link", readonly: true, "data-testid": "run-link" });
    field.value = link;
    field.addEventListener("focus", () => field.select());
    const copy = h("button", { type: "button", class: "button", "data-testid": "run-link-copy" },
      icon("copy", { size: 15 }), h("span", { text: "Copy" }));
    copy.addEventListener("click", async () => {
      copy.lastChild.textContent = (await copyText(link, field)) ? "Copied" : "Press Ctrl+C";
    });
    this.dialog.body.replaceChildren(
      h("p", { class: "dialog-text muted",
               text: "The link replays this run exactly up to now, with every failure and change you made at its time. Anyone with it can watch and scrub." }),
      h("div", { class: "share-row" },
        h("label", { class: "field-label", for: "run-link", text: "Run link" }),
        h("div", { class: "share-control" }, field, copy)));
    this.dialog.setButtons([
      { label: "Open the link", run: () => window.open(link, "_blank", "noopener") },
      { label: "Done", primary: true, run: () => this.dialog.close() },
    ]);
    this.dialog.open();
    field.focus();
  }
}

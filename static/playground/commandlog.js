// The timeline: scheduled events of the scenario and the live commands of the run, by
// simulated time. Past entries are marked done; live commands are tagged. After a run,
// live parameter changes can be kept in the design in one undoable step.

import { h, clear } from "./dom.js";
import { icon } from "./icons.js";
import { clock } from "./format.js";
import { describeEvent } from "./scenario-panel.js";
import { batch, setParams } from "./commands.js";

const ICON = { fail: "power", recover: "power", slow: "slow", partition: "scissors", heal: "heal", set: "sliders" };

export class CommandLog {
  constructor(root, { bus, store, player, toaster }) {
    Object.assign(this, { root, bus, store, player, toaster });
    this.list = root.querySelector(".timeline-list");
    this.count = root.querySelector(".timeline-count");
    this.keepButton = root.querySelector(".timeline-keep");
    this.keepButton.addEventListener("click", () => this.keep());
    this.lastT = -1;
    for (const ev of ["run:changed", "run:snapshot", "run:command", "doc:changed", "run:ended"]) {
      bus.on(ev, () => this.render());
    }
    bus.on("run:frame", ({ run }) => {
      // re-mark done entries about twice a second of simulated time at most
      if (Math.floor(run.t * 2) !== Math.floor(this.lastT * 2)) this.render();
    });
    this.render();
  }

  entries() {
    const run = this.player.run || this.player.lastRun;
    const scheduled = ((run ? run.scenario?.events : this.store.doc.events) || [])
      .map((e) => ({ ...e, source: "scheduled" }));
    const live = (run?.commands || []).map((c) => ({ ...c, source: "live" }));
    return [...scheduled, ...live].sort((a, b) => a.at_s - b.at_s);
  }

  render() {
    const run = this.player.run;
    const t = run ? run.t : -1;
    this.lastT = t;
    const items = this.entries();
    clear(this.list);
    this.count.textContent = items.length ? String(items.length) : "";
    if (!items.length) {
      this.list.append(h("li", { class: "timeline-empty", text: run
        ? "No events yet. Right-click a component to fail or slow it; change a parameter in the inspector."
        : "Scheduled events and live commands appear here." }));
    }
    let firstUpcoming = null;
    for (const e of items) {
      const done = run ? e.at_s <= t + 1e-9 : false;
      const li = h("li", { class: `timeline-item ${done ? "done" : "upcoming"} source-${e.source} action-${e.action}` },
        h("span", { class: "timeline-time", text: clock(e.at_s) }),
        h("span", { class: "timeline-icon" }, icon(ICON[e.action] || "bolt", { size: 13 })),
        h("span", { class: "timeline-text", text: describeEvent(e) }),
        e.source === "live" ? h("span", { class: "tag", text: "live" }) : null);
      if (!done && !firstUpcoming) firstUpcoming = li;
      this.list.append(li);
    }
    const sets = this.liveSets();
    this.keepButton.hidden = !(sets.length && !this.player.live);
    if (firstUpcoming && run) firstUpcoming.scrollIntoView({ block: "nearest" });
  }

  liveSets() {
    const run = this.player.run || this.player.lastRun;
    return (run?.commands || []).filter((c) => c.action === "set");
  }

  /** Apply the run's live `set` commands to the design (one undo step). */
  keep() {
    const sets = this.liveSets();
    if (!sets.length) return;
    const merged = new Map();
    for (const c of sets) merged.set(c.target, { ...(merged.get(c.target) || {}), ...c.params });
    const cmds = [...merged].filter(([id]) => this.store.component(id))
      .map(([id, params]) => setParams(this.store.doc, id, params));
    if (this.store.exec(batch("Keep live parameter changes", cmds))) {
      this.toaster.show({ title: "Live changes kept", tone: "success",
                          message: `${cmds.length} component${cmds.length > 1 ? "s" : ""} updated in the design. Undo (Ctrl+Z) reverts it.` });
      const run = this.player.lastRun;
      if (run) run.commands = run.commands.filter((c) => c.action !== "set");
      this.render();
    }
  }
}

// The timeline: scheduled events of the scenario and the live commands of the run, by
// simulated time. Past entries are marked done; live commands are tagged. After a run,
// live parameter changes can be kept in the design in one undoable step. In a co-edited
// design's shared run, entries say who did it: "Ana paused", "Ben injected failure on db".

import { h, clear } from "./dom.js";
import { icon } from "./icons.js";
import { clock } from "./format.js";
import { describeEvent } from "./scenario-panel.js";
import { batch, setParams } from "./commands.js";

const ICON = { fail: "power", recover: "power", slow: "slow", partition: "scissors", heal: "heal", set: "sliders",
               pause: "pause", play: "play", step: "step", speed: "slow", reset: "reset", stop: "stop" };
// what someone did to a shared run, after their name
const STEERED = { pause: () => "paused", play: () => "resumed", step: (a) => `stepped ${a.seconds ? `${a.seconds} s` : "on"}`,
                  speed: (a) => `set the speed to ${a.speed}×`, reset: () => "reset the run", stop: () => "stopped the run" };
const DID = { fail: "injected failure on", recover: "recovered", slow: "slowed", partition: "cut the link", heal: "healed the link", set: "set" };
const sameTarget = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class CommandLog {
  constructor(root, { bus, store, player, toaster }) {
    Object.assign(this, { root, bus, store, player, toaster });
    this.list = root.querySelector(".timeline-list");
    this.count = root.querySelector(".timeline-count");
    this.keepButton = root.querySelector(".timeline-keep");
    this.keepButton.addEventListener("click", () => this.keep());
    this.lastT = -1;
    this.steered = { runId: null, list: [] }; // the shared run's run_action messages
    bus.on("coedit:run-action", (a) => {
      if (this.steered.runId !== a.run_id || a.action === "reset") this.steered = { runId: a.run_id, list: [] };
      this.steered.list.push(a);
      this.render();
    });
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
    const steered = run && this.steered.runId === run.id ? this.steered.list : [];
    // a command's sender: the first told of with its action and target (told before or after
    // the run logs it; one the run refused is never logged, so never shown)
    const told = steered.filter((a) => a.kind === "command");
    const live = (run?.commands || []).map((c) => {
      const i = told.findIndex((a) => a.action === c.action && sameTarget(a.target, c.target));
      return { ...c, source: "live", by: i < 0 ? null : told.splice(i, 1)[0].by };
    });
    const controls = steered.filter((a) => a.kind === "control" && STEERED[a.action])
      .map((a) => ({ ...a, source: "room" }));
    return [...scheduled, ...live, ...controls].sort((a, b) => a.at_s - b.at_s);
  }

  /** An entry's words: the event, or who did what in a shared run. */
  describe(e) {
    if (e.source === "room") return `${e.by} ${STEERED[e.action](e)}`;
    if (!e.by) return describeEvent(e);
    const rest = describeEvent(e).split(" ").slice(e.action === "partition" || e.action === "heal" ? 2 : 1).join(" ");
    return `${e.by} ${DID[e.action] || e.action} ${rest}`;
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
        h("span", { class: "timeline-text", text: this.describe(e), title: this.describe(e) }),
        e.source !== "scheduled" ? h("span", { class: "tag", text: "live" }) : null);
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

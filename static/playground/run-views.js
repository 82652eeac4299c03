// A run shown in the editor's views: starting one (or a run link's replay), the edit lock
// while it plays, its frames into the charts, the canvas's live classes and the overlay's
// dots, and what the person is told when it ends or a command lands.

import { $ } from "./dom.js";
import { plural } from "./format.js";
import { linkKey, normalize } from "./topology.js";

const ENDED = { stopped: "Run stopped", idle: "Run closed: nobody was watching", error: "The run failed on the server",
                left: "You stopped watching the run (it goes on for the others)",
                lost: "The run was lost: the server restarted without it; press Play to start again" };

/** Do the two documents have the same components and links (by id)? */
function sameTopology(a, b) {
  const ids = (doc) => JSON.stringify((doc?.components || []).map((c) => c.id).sort());
  const keys = (doc) => JSON.stringify((doc?.links || []).map(linkKey).sort());
  return ids(a) === ids(b) && keys(a) === keys(b);
}

export class RunViews {
  /** runLink: the run link this page replays (/r/<id>), else null. */
  constructor({ bus, store, player, canvas, overlay, charts, actions, toaster, announce, page, runLink }) {
    Object.assign(this, { bus, store, player, canvas, overlay, charts, toaster, page, runLink });
    this.stepAfterStart = false;
    this.liveQueued = false;
    this.chartT = 0;
    this.lockBanner = $("#lock-banner");
    $("#lock-stop").addEventListener("click", () => player.stop());

    bus.on("run:snapshot", ({ run, reset, fresh, frame }) => {
      if (fresh && !sameTopology(run.scenario, store.doc) && run.scenario) {
        store.setLocked(false);
        actions.loadDocument(normalize(run.scenario).doc, "Load the running scenario");
        toaster.show({ title: "Showing the running scenario", tone: "info",
                       message: "The run you joined uses a different design; it replaced the editor's (Undo brings yours back)." });
      }
      this.syncLock();
      if (fresh) toaster.dismiss("run-error");
      overlay.setRunLinks(run.edgeIds);
      if (reset || fresh) charts.clear();
      charts.setWarmup(run.scenario?.warmup_s || 0);
      charts.push(run.t, frame?.summary, run.components);
      overlay.addDots(frame?.dots || []);
      this.pushLive();
      if (fresh && this.stepAfterStart) {
        this.stepAfterStart = false;
        player.control("step");
      }
    });
    bus.on("run:frame", ({ run, frame, history }) => {
      if (history) { // a replay's seek got there: its charts show the run up to here
        charts.clear();
        for (const [t, summary] of history) charts.push(t, summary);
      } else if (run.t < this.chartT - 1e-9) { // a replay is on its way back in time
        charts.clear();
      }
      if (run.t < this.chartT - 1e-9) overlay.clearDots();
      this.chartT = run.t;
      charts.push(run.t, frame.summary, run.components);
      overlay.addDots(frame.dots || []);
      this.pushLive();
    });
    bus.on("run:changed", () => {
      this.syncLock();
      if (!player.run) {
        canvas.applyLive(null);
        overlay.setLive(null);
        overlay.clearDots();
      } else {
        this.pushLive();
      }
    });
    bus.on("run:ended", ({ reason, run }) => {
      // the clock is back at 0 (runbar.js), where the next run starts: so are the charts
      charts.clear();
      this.chartT = 0;
      const sets = (run?.commands || []).filter((c) => c.action === "set").length;
      toaster.show({
        title: ENDED[reason] || "Run ended", tone: reason === "error" ? "error" : "info", key: "run",
        message: sets ? `${plural(sets, "live parameter change")} can be kept in the design.` : "Editing is unlocked.",
        action: sets ? { label: "Keep live changes", run: () => $(".timeline-keep").click() } : null,
      });
    });
    bus.on("run:command", ({ command }) => {
      announce(`At ${command.at_s?.toFixed?.(1)} s: ${command.action} ${Array.isArray(command.target) ? command.target.join(" to ") : command.target}.`);
      this.pushLive();
    });
  }

  /** Play (or, paused, get ready to step): the design as it is now, or the run link's replay. */
  start({ paused }) {
    const { player, store, charts, overlay } = this;
    if (this.runLink) {
      charts.clear();
      overlay.clearDots();
      player.replay(this.runLink, { paused });
      return;
    }
    if (!store.doc.components.length) {
      this.toaster.show({ title: "Nothing to run yet", tone: "info", key: "run",
                          message: "Add a client and something for it to call, then press Play." });
      return;
    }
    charts.clear();
    overlay.clearDots();
    player.start(structuredClone(store.doc), { paused, assignment: this.page.assignment?.id });
  }

  /** Step with no run yet: start one paused, and step once it is there. */
  step() {
    this.stepAfterStart = true;
    this.start({ paused: true });
  }

  /** The live state into the canvas and overlay, once per animation frame at most. */
  pushLive() {
    if (this.liveQueued) return;
    this.liveQueued = true;
    requestAnimationFrame(() => {
      this.liveQueued = false;
      const live = this.player.liveView();
      this.canvas.applyLive(live);
      this.overlay.setLive(live);
    });
  }

  /** Structural edits wait while a run plays (or is paused). */
  syncLock() {
    const { store } = this;
    const locked = ["starting", "playing", "paused"].includes(this.player.phase);
    if (locked !== store.locked && !store.readOnly) store.setLocked(locked, locked ? "run" : "");
    this.lockBanner.hidden = !locked;
    document.body.classList.toggle("run-locked", locked);
  }
}

// The timeline of a replay (a run link, /r/<id>): a scrub bar from 0 to the run's until_s
// over the bottom of the canvas, a marker per logged command (its title says the command in
// words), the play head following the frames. Click or drag to seek (sent at most every
// SEEK_EVERY_MS while dragging, and once where it is let go); with the keyboard: arrows step
// 1 s (Shift: 10 s), Home and End go to the ends. Also the "Replay of a shared run" banner.
// Shown only while the player holds a replay.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { clock } from "./format.js";
import { describeEvent } from "./scenario-panel.js";

const SEEK_EVERY_MS = 150;
const KEY_STEPS = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 };

export class Timeline {
  constructor(host, { bus, player }) {
    Object.assign(this, { bus, player });
    this.fill = h("div", { class: "scrub-fill" });
    this.head = h("div", { class: "scrub-head" });
    this.markers = h("div", { class: "scrub-markers" });
    this.track = h("div", { class: "scrub-track" }, this.fill, this.markers, this.head);
    this.slider = h("div", { class: "scrub", role: "slider", tabindex: "0", "data-testid": "timeline",
                             "aria-label": "Replay time: drag, click or use the arrow keys to go back and forth",
                             "aria-valuemin": "0" }, this.track);
    this.timeText = h("span", { class: "scrub-time" });
    this.title = h("strong", { class: "replay-title" });
    this.banner = h("div", { class: "read-only-banner replay-banner", "data-testid": "replay-banner", role: "status", hidden: true },
      icon("eye", { size: 16 }), h("span", { class: "read-only-text" }, "Replay of a shared run: ", this.title));
    this.root = h("div", { class: "replay-timeline", hidden: true }, this.slider, this.timeText);
    host.append(this.banner, this.root);
    this.until = 0;
    this.dragging = false;
    this.lastSent = 0;
    this.pending = null;
    this.bind();
  }

  bind() {
    const { slider, bus } = this;
    slider.addEventListener("pointerdown", (e) => {
      if (!this.controllable()) return;
      this.dragging = true;
      slider.setPointerCapture(e.pointerId);
      this.scrubTo(this.timeAt(e.clientX));
    });
    slider.addEventListener("pointermove", (e) => {
      if (this.dragging) this.scrubTo(this.timeAt(e.clientX));
    });
    const release = (e) => {
      if (!this.dragging) return;
      this.dragging = false;
      this.scrubTo(this.timeAt(e.clientX), { final: true });
    };
    slider.addEventListener("pointerup", release);
    slider.addEventListener("pointercancel", release);
    slider.addEventListener("keydown", (e) => this.key(e));
    bus.on("run:snapshot", ({ run }) => this.render(run));
    bus.on("run:changed", () => this.render(this.player.run));
    bus.on("run:frame", ({ run }) => this.moveHead(run.t));
  }

  controllable() {
    return !!this.player.run?.replay && this.player.owner;
  }

  timeAt(clientX) {
    const box = this.track.getBoundingClientRect();
    const x = Math.min(Math.max(clientX - box.left, 0), box.width);
    return box.width ? (x / box.width) * this.until : 0;
  }

  /** Show `t` at once; send it now, or when the throttle allows (the last one always goes). */
  scrubTo(t, { final = false } = {}) {
    this.moveHead(t, { force: true });
    this.pending = t;
    const wait = this.lastSent + SEEK_EVERY_MS - performance.now();
    clearTimeout(this.timer);
    if (wait <= 0 || final) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    if (this.pending === null) return;
    this.player.seek(this.pending);
    this.pending = null;
    this.lastSent = performance.now();
  }

  key(e) {
    if (!this.controllable()) return;
    const run = this.player.run;
    let t = null;
    if (e.key in KEY_STEPS) t = run.t + KEY_STEPS[e.key] * (e.shiftKey ? 10 : 1);
    else if (e.key === "Home") t = 0;
    else if (e.key === "End") t = this.until;
    if (t === null) return;
    e.preventDefault(); // not the canvas's arrow keys
    this.scrubTo(Math.min(Math.max(t, 0), this.until));
  }

  render(run) {
    const replay = run?.replay;
    this.root.hidden = !replay;
    this.banner.hidden = !replay;
    if (!replay) return;
    this.until = replay.until_s;
    this.title.textContent = replay.title || "untitled run";
    this.slider.setAttribute("aria-valuemax", String(this.until));
    this.slider.setAttribute("aria-disabled", String(!this.player.owner));
    this.markers.replaceChildren(...replay.commands.map((c) => {
      const words = `${clock(c.at_s)}: ${describeEvent(c)}`;
      const marker = h("span", { class: `scrub-marker action-${c.action}`, title: words, "aria-hidden": "true" });
      marker.style.left = `${this.percent(c.at_s)}%`;
      return marker;
    }));
    this.slider.setAttribute("aria-description",
      replay.commands.map((c) => `${clock(c.at_s)}: ${describeEvent(c)}`).join("; ") || "No commands were logged.");
    this.moveHead(run.t, { force: true });
  }

  moveHead(t, { force = false } = {}) {
    if (this.dragging && !force) return;
    const p = `${this.percent(t)}%`;
    this.head.style.left = p;
    this.fill.style.width = p;
    this.timeText.textContent = `${clock(t)} / ${clock(this.until)}`;
    this.slider.setAttribute("aria-valuenow", String(Math.round(t * 10) / 10));
    this.slider.setAttribute("aria-valuetext", clock(t));
  }

  percent(t) {
    return this.until > 0 ? Math.min(Math.max(t / this.until, 0), 1) * 100 : 0;
  }
}

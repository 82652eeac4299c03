// The run controls in the top bar: play, pause, single step, speed (log steps 0.1x-100x),
// reset, stop, the simulated clock and the connection status. Reads the player's phase;
// sends what a person asks for.

import { h } from "./dom.js";
import { clock, shortClock } from "./format.js";

export const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100];

export class RunBar {
  /** refuse(): true when the run must not start or go on (it told the person why). */
  constructor(root, { bus, player, store, onPlay, onStep, toaster, refuse = () => false }) {
    Object.assign(this, { root, bus, player, store, onPlay, onStep, toaster, refuse });
    const q = (id) => root.querySelector(`[data-testid="${id}"]`) || document.querySelector(`[data-testid="${id}"]`);
    this.el = {
      play: q("play"), pause: q("pause"), step: q("step"), reset: q("reset"), stop: q("stop"),
      speed: q("speed"), clock: q("clock"), total: document.getElementById("clock-total"),
      state: document.getElementById("run-state"), conn: q("connection-status"),
      connText: document.querySelector("#connection-status .conn-text"),
    };
    for (const s of SPEEDS) {
      const o = document.createElement("option");
      o.value = String(s);
      o.textContent = `${s}×`;
      this.el.speed.append(o);
    }
    this.el.speed.value = String(player.speed);
    this.bind();
    this.render();
  }

  bind() {
    const { el, player, bus } = this;
    el.play.addEventListener("click", () => this.play());
    el.pause.addEventListener("click", () => this.pause());
    el.step.addEventListener("click", () => this.step());
    el.reset.addEventListener("click", () => player.control("reset"));
    el.stop.addEventListener("click", () => player.stop());
    el.speed.addEventListener("change", () => {
      const v = Number(el.speed.value);
      player.setSpeed(v);
      bus.emit("speed:changed", v);
    });
    el.conn.addEventListener("click", () => { if (player.state === "offline") player.reconnectNow(); });
    bus.on("run:changed", () => this.render());
    bus.on("run:snapshot", () => this.render());
    bus.on("run:frame", ({ run }) => this.tick(run));
    bus.on("conn:changed", (c) => this.connection(c));
    bus.on("doc:changed", () => this.renderTotal());
  }

  /** A viewer of someone else's run: the keys (Space, ., [, ]) must not send what the
   * disabled buttons would not (the server refuses it with an error toast). */
  watching() {
    if (!this.player.run || this.player.owner) return false;
    this.toaster.show({ title: "You are watching this run", tone: "info", key: "watching",
                        message: `Only ${this.player.steeredBy} can play, pause, step or change its speed.` });
    return true;
  }

  play() {
    if (this.watching() || this.refuse()) return;
    const phase = this.player.phase;
    if (phase === "paused" && this.player.finished && this.player.run.replay) {
      this.player.seek(0); // a replay ends where the recording does: play it again from 0
      this.player.control("play");
    } else if (phase === "paused") this.player.control("play");
    else if (phase === "idle" || phase === "ended") this.onPlay({ paused: false });
  }

  pause() {
    if (this.watching()) return;
    if (this.player.phase === "playing") this.player.control("pause");
  }

  toggle() {
    if (this.player.phase === "playing") this.pause();
    else this.play();
  }

  step() {
    if (this.watching()) return;
    const phase = this.player.phase;
    if (phase !== "playing" && this.refuse()) return;
    if (phase === "paused") this.player.control("step");
    else if (phase === "playing") this.player.control("pause");
    else if (phase === "idle" || phase === "ended") this.onStep();
  }

  setSpeed(v) {
    this.el.speed.value = String(v);
    this.player.setSpeed(v);
  }

  /** Faster/slower by one step (keyboard). */
  speedStep(dir) {
    if (this.watching()) return;
    const i = SPEEDS.indexOf(Number(this.el.speed.value));
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 3 : i) + dir))];
    this.setSpeed(next);
    this.bus.emit("speed:changed", next);
  }

  render() {
    const { el, player } = this;
    const phase = player.phase;
    const online = player.online;
    const owner = !player.run || player.owner;
    el.play.disabled = !online || !owner || !["idle", "paused", "ended"].includes(phase);
    el.pause.disabled = !online || !owner || phase !== "playing";
    el.step.disabled = !online || !owner || !["idle", "paused", "ended"].includes(phase);
    el.reset.disabled = !online || !owner || !["playing", "paused", "ended"].includes(phase);
    el.stop.disabled = !["playing", "paused", "ended", "starting"].includes(phase);
    // a watcher's Stop leaves a run that goes on (player.stop): say so
    const leaves = player.live && !player.owner;
    el.stop.setAttribute("aria-label", leaves ? "Leave the run" : "Stop");
    el.stop.title = leaves ? `Leave the run: it goes on for ${player.steeredBy}` : "Stop the run and unlock editing";
    el.speed.disabled = !owner;
    const run = player.run;
    const finished = player.finished;
    el.play.querySelector(".button-text").textContent = finished ? (run.replay ? "Play again" : "Play on")
      : phase === "paused" ? "Resume" : phase === "ended" ? "Play again" : "Play";
    el.play.setAttribute("aria-label", el.play.querySelector(".button-text").textContent);
    el.play.title = finished && !run.replay ? "The run reached its duration: play on past it (Space)"
      : finished ? "Play the recording again from 0 (Space)" : "Play (Space)";
    if (run?.status?.speed !== undefined && Number(el.speed.value) !== run.status.speed) {
      el.speed.value = String(run.status.speed);
      player.speed = run.status.speed;
    }
    this.tick(run);
    const labels = { idle: "Ready", starting: "Starting…", playing: "Running", paused: "Paused", ended: "Finished" };
    let text = finished ? "Finished" : labels[phase];
    if (run?.status?.behind && phase === "playing") text = "Running · behind";
    if (run && !player.owner) text += " · watching";
    el.state.textContent = text;
    el.state.dataset.phase = finished ? "finished" : phase;
    el.state.title = run?.status?.behind ? "The server cannot keep up with this speed; the clock runs slower than asked." : "";
    document.body.dataset.phase = phase;
    this.renderTotal();
  }

  renderTotal() {
    const run = this.player.run;
    const d = run?.replay?.until_s ?? run?.scenario?.duration_s ?? this.store.doc.duration_s;
    this.el.total.textContent = `/ ${shortClock(d || 0)}`;
  }

  /** The run's time; no run (stopped, ended, never started): 0, where the next one starts. */
  tick(run) {
    this.el.clock.textContent = clock(run ? run.t : 0);
    this.el.clock.dataset.t = String(run ? run.t : 0);
  }

  connection({ state, retryIn, latency }) {
    const { el } = this;
    el.conn.dataset.state = state;
    clearInterval(this.countdown);
    // "Offline" and, where the bar has room, when it tries again (base.css .conn-retry)
    const text = () => {
      if (state === "online") return ["Connected"];
      if (state === "connecting") return ["Connecting…"];
      const left = Math.max(0, Math.ceil((this.player.retryAt - Date.now()) / 1000));
      return ["Offline", left ? ` · retry in ${left} s` : " · retrying"];
    };
    const show = () => {
      const [word, retry] = text();
      el.connText.textContent = word;
      if (retry) el.connText.append(h("span", { class: "conn-retry", text: retry }));
    };
    show();
    if (state === "offline") this.countdown = setInterval(show, 500);
    el.conn.title = state === "online"
      ? `Connected to the simulation server${latency !== null && latency !== undefined ? ` (round trip ${latency} ms)` : ""}`
      : state === "offline" ? "Not connected: click to retry now" : "Connecting to the simulation server";
    this.render();
  }
}

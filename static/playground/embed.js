// The embed (/embed/<id>): a compact read-only player for course pages and blogs. The same
// store, canvas, overlay (cards, dots) and player as the editor, without the editing
// panels: the title links back to the full design, play/pause and the clock run it.

import { Bus } from "./bus.js";
import { api } from "./api.js";
import { h } from "./dom.js";
import { icon } from "./icons.js";
import { clock } from "./format.js";
import { Registry } from "./registry.js";
import { Store } from "./store.js";
import { Player } from "./player.js";
import { Canvas } from "./canvas.js";
import { Overlay } from "./overlay.js";
import { normalize } from "./topology.js";
import { readPageData } from "./page-data.js";

const LABELS = { idle: "Play", starting: "Starting…", playing: "Pause", paused: "Resume", ended: "Play again" };

async function boot() {
  const root = document.getElementById("embed");
  const { scenario } = readPageData();
  if (!scenario?.document) throw new Error("this page holds no design");
  const registry = new Registry(await api.kinds());
  const bus = new Bus();
  const store = new Store(bus);
  const player = new Player(bus);

  const playText = h("span", { class: "button-text", text: LABELS.idle });
  const playIcon = h("span", { class: "button-icon" }, icon("play", { size: 15 }));
  const play = h("button", { type: "button", class: "button button-primary button-small embed-play",
                             "data-testid": "play" }, playIcon, playText);
  const time = h("span", { class: "clock", "data-testid": "clock", text: clock(0) });
  const note = h("span", { class: "embed-note", role: "status" });
  const canvasEl = h("div", { class: "cy", "data-testid": "canvas", role: "img",
                              "aria-label": `Diagram: ${scenario.title}` });
  const stage = h("div", { class: "stage-canvas embed-stage" }, canvasEl);
  root.append(
    h("header", { class: "embed-bar" },
      h("a", { class: "embed-title", href: scenario.url, target: "_blank", rel: "noopener", "data-testid": "embed-title",
               title: "Open the full design in System Design Playground" },
        h("span", { class: "brand-mark" }, icon("logo", { size: 16, strokeWidth: 2.2 })),
        h("span", { class: "embed-name", text: scenario.title }), icon("external", { size: 14 })),
      h("div", { class: "embed-controls" }, note, time, play)),
    stage);

  store.reset(normalize(scenario.document).doc);
  store.setReadOnly(true);
  const canvas = new Canvas(canvasEl, { bus, store, registry, snapToGrid: false });
  canvas.cy.autoungrabify(true);
  const overlay = new Overlay(stage, { cy: canvas.cy, store, registry, stats: player.stats });
  canvas.sync();
  requestAnimationFrame(() => canvas.fit());

  const live = () => {
    const view = player.liveView();
    canvas.applyLive(view);
    overlay.setLive(view);
  };
  const render = () => {
    const phase = player.phase;
    // paused at the run's end: play goes on past it (runbar.js says the same)
    playText.textContent = player.finished ? "Play on" : LABELS[phase];
    playIcon.replaceChildren(icon(phase === "playing" ? "pause" : "play", { size: 15 }));
    play.disabled = phase === "starting" || !player.online;
    time.textContent = clock(player.run?.t ?? player.lastRun?.t ?? 0);
  };
  play.addEventListener("click", () => {
    const phase = player.phase;
    if (phase === "playing") player.control("pause");
    else if (phase === "paused") player.control("play");
    else if (phase === "idle" || phase === "ended") {
      overlay.clearDots();
      note.textContent = "";
      player.start(structuredClone(store.doc));
    }
  });
  bus.on("run:snapshot", ({ run, frame }) => {
    overlay.setRunLinks(run.edgeIds);
    overlay.addDots(frame?.dots || []);
    live();
  });
  bus.on("run:frame", ({ run, frame }) => {
    overlay.addDots(frame.dots || []);
    time.textContent = clock(run.t);
    live();
  });
  bus.on("run:changed", () => {
    if (!player.run) {
      canvas.applyLive(null);
      overlay.setLive(null);
    }
    render();
  });
  bus.on("conn:changed", ({ state }) => {
    note.textContent = state === "offline" ? "Reconnecting…" : "";
    render();
  });
  bus.on("server:error", ({ msg }) => { note.textContent = msg.message || "The server refused to run it."; });
  player.connect();
  window.playground = Object.freeze({ store, cy: canvas.cy, player, registry, canvas, overlay, bus });
  document.body.classList.add("ready");
}

boot().catch((err) => {
  console.error(err);
  document.getElementById("embed")?.replaceChildren(
    h("p", { class: "embed-error", text: `This design could not be shown: ${err.message}` }));
});

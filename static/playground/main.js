// Wires the playground together, and holds nothing else: the store (model), the views
// (palette, canvas + overlay, inspector, details, charts, timeline, run bar, the run's views,
// the server's messages, the key bindings) and the comms (api, player), joined by the bus. Also exposes window.playground = {store, cy, player, ...}: a READ-ONLY hook for
// browser tests (node ids and positions, the last frame's t, player.stats.dotsDrawn and
// player.stats.framesApplied). Do not drive the app through it.

import { Bus } from "./bus.js";
import { api } from "./api.js";
import { $ } from "./dom.js";
import { icon } from "./icons.js";
import { Registry } from "./registry.js";
import { Store } from "./store.js";
import { Validator } from "./validation.js";
import { Player } from "./player.js";
import { Canvas } from "./canvas.js";
import { Overlay } from "./overlay.js";
import { Connector } from "./connect.js";
import { Actions } from "./actions.js";
import { Palette } from "./palette.js";
import { Inspector } from "./inspector.js";
import { Details } from "./details.js";
import { Charts } from "./charts.js";
import { CommandLog } from "./commandlog.js";
import { RunBar } from "./runbar.js";
import { Timeline } from "./timeline.js";
import { ShareRun } from "./share-run.js";
import { ContextMenu } from "./contextmenu.js";
import { Help } from "./help.js";
import { FileMenu } from "./menu.js";
import { Designs } from "./designs.js";
import { DocChrome } from "./doc-chrome.js";
import { ValidityPill } from "./validity-pill.js";
import { RunViews } from "./run-views.js";
import { showServerMessages } from "./server-messages.js";
import { ViewToolbar } from "./view-toolbar.js";
import { bindKeys } from "./key-bindings.js";
import { readPageData } from "./page-data.js";
import { Toaster } from "./toast.js";
import { emptyDocument, normalize } from "./topology.js";
import { loadDocument, prefs, runMemory, watchDocument } from "./persistence.js";
import { classSources } from "./classes.js";

const FIRST_EXAMPLE = "cache-in-front-of-database";

function fillIcons(root = document) {
  for (const el of root.querySelectorAll("[data-icon]")) {
    if (!el.firstChild) el.append(icon(el.dataset.icon, { size: 18 }));
  }
}

function announcer() {
  const el = $("#announcer");
  return (text) => {
    el.textContent = "";
    requestAnimationFrame(() => { el.textContent = text; });
  };
}

async function firstDocument(toaster, designs) {
  const opened = designs.openedDocument();
  if (opened) return opened;
  const saved = loadDocument();
  if (saved) return saved;
  try {
    return normalize(await api.example(FIRST_EXAMPLE)).doc;
  } catch {
    toaster.show({ title: "Could not load the example", message: "Starting with an empty design.", tone: "warn" });
    return emptyDocument();
  }
}

function bootError(text) {
  const box = document.getElementById("boot-error");
  if (!box) return;
  box.hidden = false;
  box.querySelector(".boot-error-text").textContent = text;
  document.getElementById("boot-retry")?.addEventListener("click", () => location.reload());
}

async function boot() {
  fillIcons();
  $("#brand-mark").append(icon("logo", { size: 20, strokeWidth: 2.2 }));
  $("#file-menu-chev").append(icon("chevronDown", { size: 14 }));
  $("#undo").append(icon("undo", { size: 18 }));
  $("#redo").append(icon("redo", { size: 18 }));

  const bus = new Bus();
  const toaster = new Toaster($("#toasts"));
  const announce = announcer();

  let kinds;
  try {
    kinds = await api.kinds();
  } catch (err) {
    bootError(`The component registry did not load (${err.message}). Is the server running?`);
    return;
  }
  const registry = new Registry(kinds);
  const store = new Store(bus);
  const validator = new Validator(bus, store);
  const memory = runMemory();
  const player = new Player(bus, { runMemory: memory });
  player.speed = prefs.get("speed", 1);

  const canvas = new Canvas($("#canvas"), { bus, store, registry, snapToGrid: prefs.get("snap", true) });
  const overlay = new Overlay($("#stage-canvas"), { cy: canvas.cy, store, registry, stats: player.stats });
  const connector = new Connector({ host: $("#stage-canvas"), canvas, store, bus, toaster, announce });
  const actions = new Actions({ store, registry, canvas, toaster, announce });
  new Palette($(".palette"), { bus, registry, dropZone: $("#stage-canvas") });
  const inspector = new Inspector($("#inspector"), { bus, store, registry, player, validator, actions, connector, toaster });
  new Details($("#details"), { bus, store, registry, player, toaster });
  const charts = new Charts($("#charts"), {
    labelOf: (id) => store.doc.components.find((c) => c.id === id)?.label || id,
    clients: () => store.doc.components.filter((c) => c.kind === "client").map((c) => c.id),
    classes: () => classSources(store.doc),
  });
  charts.setSelectionSource(() => [...store.selection.components]);
  // A design's `view` (lessons have one): the charts it opens with, the components it is about.
  const applyView = () => {
    const view = store.doc.view || {};
    const ids = new Set(store.doc.components.map((c) => c.id));
    const compare = Array.isArray(view.compare) ? view.compare.filter((id) => ids.has(id)) : view.compare;
    charts.setView({ compare: compare === "clients" || compare?.length ? compare : null });
    canvas.setWatched(Object.keys(view.watch || {}).filter((id) => ids.has(id)));
  };
  new CommandLog($("#timeline"), { bus, store, player, toaster });
  const contextMenu = new ContextMenu({ bus, store, registry, player, actions, connector, canvas });
  const help = new Help();

  // -- run control ---------------------------------------------------------------------
  const page = readPageData();
  // a run link's page (/r/<id>) replays the recorded run instead of running the design
  const runLink = page.mode === "run" ? page.run?.id : null;
  const validity = new ValidityPill({ bus, store, canvas, overlay, toaster });
  const runViews = new RunViews({ bus, store, player, canvas, overlay, charts, actions, toaster, announce, page, runLink });
  const runbar = new RunBar($(".runbar"), {
    bus, player, store, toaster, refuse: () => validity.refuseRun(),
    onPlay: (how) => runViews.start(how),
    onStep: () => runViews.step(),
  });
  showServerMessages({ bus, store, player, validator, toaster });
  bus.on("speed:changed", (v) => prefs.set("speed", v));
  new Timeline($("#stage"), { bus, player });
  new ShareRun($(".runbar"), { bus, player, toaster, page });

  // -- keeping and sharing, the Design menu --------------------------------------------
  const examples = await api.examples().then((d) => d.examples).catch(() => []);
  const designs = new Designs({ bus, store, toaster, actions, canvas, player, page });
  new FileMenu($("#file-menu-button"), $("#file-menu"), designs.menuHandlers(examples));

  // -- document, selection ------------------------------------------------------------
  const chrome = new DocChrome({ bus, store, designs, inspector, toaster });
  bus.on("doc:changed", ({ cmd }) => {
    canvas.sync();
    canvas.hideTooltip();
    overlay.markDirty();
    chrome.render();
    if (player.phase === "ended" && cmd && !cmd.layoutOnly) player.stop();
    if (cmd?.replaces) applyView();
    if (cmd?.replaces && !player.run) {
      // another design: the last run's charts, clock and timeline no longer apply
      player.lastRun = null;
      charts.clear();
      bus.emit("run:changed", player.view());
    }
  });
  bus.on("selection:changed", ({ origin }) => {
    if (origin !== "cy") canvas.applySelection();
    overlay.markDirty();
  });
  bus.on("palette:add", ({ kind, size, clientX, clientY }) => {
    const at = clientX !== undefined ? canvas.toModel(clientX, clientY) : null;
    actions.addComponent(kind, at, size ? { size } : {});
    if (clientX === undefined) canvas.container.focus({ preventScroll: true });
  });

  // -- view toolbar, keyboard ----------------------------------------------------------
  const toolbar = new ViewToolbar({ bus, store, canvas, connector, help, toaster });
  bindKeys({ bus, store, registry, canvas, connector, actions, runbar, help, contextMenu, toolbar, designs,
             toaster, announce });

  // -- start ---------------------------------------------------------------------------
  store.reset(await firstDocument(toaster, designs));
  applyView();
  watchDocument(bus, store, (doc) => designs.saver.keep(doc));
  chrome.render();
  designs.start();
  canvas.sync();
  requestAnimationFrame(() => canvas.fit());
  player.connect();
  // a co-edited design (its edit link, or a page of a design that has one): join its room
  // (Yjs and its modules load only then)
  if (page.coedit) {
    const [{ CoEdit }, { CoeditRun }] = await Promise.all([import("./coedit.js"), import("./coedit-run.js")]);
    const coedit = new CoEdit({ bus, store, canvas, toaster, designs, page });
    new CoeditRun({ bus, coedit, player });
    if (page.coedit.lecture) (await import("./lecture.js")).attend(coedit, page.coedit.lecture);
    coedit.connect();
  }
  if (runLink) runViews.start({ paused: false });
  if (page.mode === "watch") {
    // someone else's live run (the instructor's dashboard links here): show its design
    bus.on("run:snapshot", ({ run, fresh }) => {
      if (!fresh || !run.scenario) return;
      store.reset(normalize(run.scenario).doc);
      applyView();
      canvas.sync();
      requestAnimationFrame(() => canvas.fit());
    });
    player.watch(page.run_id);
  }

  // The page's address changes with a first save (/ -> /s/<id>): its run is kept under the new one.
  bus.on("scenario:changed", () => memory.move(location.pathname));
  // Back (or forward) to this page from the browser's back-forward cache: it shows its own
  // design and run as it left them; the socket may have been closed meanwhile.
  window.addEventListener("pageshow", (e) => { if (e.persisted) player.resume(); });

  window.playground = Object.freeze({ store, cy: canvas.cy, player, registry, canvas, overlay, bus, charts });
  document.body.classList.add("ready");
}

boot().catch((err) => {
  console.error(err);
  bootError(`Something went wrong while starting: ${err.message}`);
});

// Wires the playground together: the store (model), the views (palette, canvas + overlay,
// inspector, details, charts, timeline, run bar) and the comms (api, player), joined by the
// bus. Also exposes window.playground = {store, cy, player, ...}: a READ-ONLY hook for
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
import { Keyboard } from "./keyboard.js";
import { Help } from "./help.js";
import { FileMenu } from "./menu.js";
import { Designs } from "./designs.js";
import { readPageData } from "./page-data.js";
import { Toaster } from "./toast.js";
import { GRID, emptyDocument, linkKey, normalize } from "./topology.js";
import { exportDocument, loadDocument, pickDocument, prefs, runMemory, watchDocument } from "./persistence.js";
import { plural } from "./format.js";
import { inputErrors } from "./input-errors.js";

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

const ERROR_TITLES = {
  invalid_scenario: "The design cannot run yet",
  invalid_command: "That change was refused",
  bad_message: "The server did not understand a message",
  unknown_run: "That run is gone",
  forbidden: "Only the person who started this run can change it",
  too_large: "The design is too large to send",
  rate_limited: "Too many changes at once",
  too_many_runs: "Too many runs open",
  too_many_sockets: "Too many connections open",
  server_busy: "The server is busy",
  no_workers: "No simulation worker is running",
  closed_by_server: "The server closed the connection",
  unknown_run_link: "That run link does not exist",
  replay_is_fixed: "A replay cannot be changed",
  not_a_replay: "Only a replay can jump in time",
};

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
    const box = $("#boot-error");
    box.hidden = false;
    box.querySelector(".boot-error-text").textContent =
      `The component registry did not load (${err.message}). Is the server running?`;
    $("#boot-retry").addEventListener("click", () => location.reload());
    return;
  }
  const registry = new Registry(kinds);
  const store = new Store(bus);
  const validator = new Validator(bus, store);
  const memory = runMemory();
  const player = new Player(bus, { runMemory: memory });
  player.speed = prefs.get("speed", 1);

  const canvasEl = $("#canvas");
  const canvas = new Canvas(canvasEl, { bus, store, registry, snapToGrid: prefs.get("snap", true) });
  const overlay = new Overlay($("#stage-canvas"), { cy: canvas.cy, store, registry, stats: player.stats });
  const connector = new Connector({ host: $("#stage-canvas"), canvas, store, bus, toaster, announce });
  const actions = new Actions({ store, registry, canvas, toaster, announce });
  new Palette($(".palette"), { bus, registry, dropZone: $("#stage-canvas") });
  const inspector = new Inspector($("#inspector"), { bus, store, registry, player, validator, actions, connector, toaster });
  new Details($("#details"), { bus, store, registry, player, toaster });
  const charts = new Charts($("#charts"), {
    labelOf: (id) => store.doc.components.find((c) => c.id === id)?.label || id,
    clients: () => store.doc.components.filter((c) => c.kind === "client").map((c) => c.id),
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
  let stepAfterStart = false;
  const startRun = ({ paused }) => {
    if (runLink) {
      charts.clear();
      overlay.clearDots();
      player.replay(runLink, { paused });
      return;
    }
    if (!store.doc.components.length) {
      toaster.show({ title: "Nothing to run yet", tone: "info", key: "run",
                     message: "Add a client and something for it to call, then press Play." });
      return;
    }
    charts.clear();
    overlay.clearDots();
    player.start(structuredClone(store.doc), { paused, assignment: page.assignment?.id });
  };
  const runbar = new RunBar($(".runbar"), {
    bus, player, store, toaster, refuse: () => refuseRun(),
    onPlay: startRun,
    onStep: () => {
      stepAfterStart = true;
      startRun({ paused: true });
    },
  });
  bus.on("speed:changed", (v) => prefs.set("speed", v));
  new Timeline($("#stage"), { bus, player });
  new ShareRun($(".runbar"), { bus, player, toaster, page });

  // -- file menu -----------------------------------------------------------------------
  const examples = await api.examples().then((d) => d.examples).catch(() => []);
  const designs = new Designs({ bus, store, toaster, actions, registry, canvas, player, page });
  new FileMenu($("#file-menu-button"), $("#file-menu"), {
    ...designs.menuHandlers(),
    examples,
    onNew: () => {
      if (designs.startNew(emptyDocument(), "New design")) {
        toaster.show({ title: "New empty design", message: "Undo (Ctrl+Z) brings the previous one back.", tone: "info" });
      }
    },
    onExample: async (slug) => {
      try {
        const { doc } = normalize(await api.example(slug));
        if (designs.startNew(doc, `Load example: ${doc.name}`)) {
          toaster.show({ title: `Loaded “${doc.name}”`, message: "Undo (Ctrl+Z) brings the previous design back.", tone: "success" });
        }
      } catch (err) {
        toaster.show({ title: "Could not load the example", message: err.message, tone: "error" });
      }
    },
    onImport: async () => {
      try {
        const { doc, notes, fileName } = await pickDocument();
        if (designs.startNew(doc, `Import ${fileName}`)) {
          toaster.show({ title: `Imported ${fileName}`, tone: notes.length ? "warn" : "success", items: notes,
                         message: notes.length ? "Some things were repaired:" : "Undo (Ctrl+Z) brings the previous design back." });
        }
      } catch (err) {
        toaster.show({ title: "Could not import that file", message: err.message, tone: "error" });
      }
    },
    onExport: () => exportDocument(store.doc),
  });

  // -- document, selection, validation -------------------------------------------------
  const docName = $("#doc-name");
  const emptyHint = $("#empty-hint");
  const renderDocChrome = () => {
    docName.textContent = store.doc.name || "Untitled design";
    document.title = `${store.doc.name || "Untitled design"} · System Design Playground`;
    emptyHint.hidden = store.doc.components.length > 0;
  };
  docName.addEventListener("click", () => {
    store.clearSelection();
    requestAnimationFrame(() => inspector.scenarioPanel.fields.get("name")?.input.focus());
  });
  bus.on("doc:changed", ({ cmd }) => {
    canvas.sync();
    canvas.hideTooltip();
    overlay.markDirty();
    renderDocChrome();
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
  const undoBtn = $("#undo"), redoBtn = $("#redo");
  undoBtn.addEventListener("click", () => store.undo());
  redoBtn.addEventListener("click", () => store.redo());
  bus.on("history:changed", ({ canUndo, canRedo, undoLabel, redoLabel }) => {
    undoBtn.disabled = !canUndo;
    redoBtn.disabled = !canRedo;
    undoBtn.title = canUndo ? `Undo: ${undoLabel} (Ctrl+Z)` : "Nothing to undo";
    redoBtn.title = canRedo ? `Redo: ${redoLabel} (Ctrl+Shift+Z)` : "Nothing to redo";
  });
  bus.on("edit:refused", ({ undo, redo }) => {
    if (store.readOnly) return designs.readOnlyNotice();
    toaster.show({ title: undo || redo ? "Stop the run to undo that" : "Stop the run to change the topology",
                   tone: "warn", key: "locked",
                   message: "The simulation is running this design. Parameters still change live in the inspector." });
  });

  const validity = $("#validity");
  const validityText = validity.querySelector(".validity-text");
  bus.on("validation:pending", (pending) => {
    if (pending) validity.dataset.state = "pending";
  });
  // the server's problems with the design, and values typed into a field and refused there
  // (the design does not have them yet): both keep the design from being ready to run
  let checked = null; // the validator's last answer, or "offline"
  const renderValidity = () => {
    const unsent = inputErrors.list();
    if (checked === null) return;
    if (checked === "offline" && !unsent.length) {
      validity.dataset.state = "unknown";
      validityText.textContent = "Not checked";
      validity.title = "The validator could not be reached.";
      return;
    }
    const lines = [...(checked === "offline" ? [] : checked.lines), ...unsent.map((e) => `${e.text} (not applied)`)];
    const n = (checked === "offline" ? 0 : checked.count) + unsent.length;
    const empty = !store.doc.components.length && !unsent.length;
    validity.dataset.state = empty ? "empty" : n ? "invalid" : "valid";
    validityText.textContent = empty ? "Empty design" : n ? plural(n, "problem") : "Ready to run";
    validity.title = n ? lines.join("\n") : "The server's validator accepts this design.";
  };
  bus.on("validation:changed", (problems) => {
    canvas.setProblems(problems);
    overlay.setProblems(problems);
    checked = problems;
    renderValidity();
  });
  bus.on("validation:offline", () => {
    checked = "offline";
    renderValidity();
  });
  inputErrors.onChange(renderValidity);
  // a panel drawn again (another selection) drops its fields and what was typed in them
  bus.on("selection:changed", () => requestAnimationFrame(renderValidity));
  validity.addEventListener("click", () => {
    const unsent = inputErrors.list();
    if (unsent.length) unsent[0].focus();
    else store.clearSelection();
  });
  const refuseRun = () => {
    const unsent = inputErrors.list();
    if (!unsent.length) return false;
    toaster.show({ title: "A field holds a value that was not applied", tone: "error", key: "run-error",
                   message: "Correct it, or press Escape in it to keep the design's value, then press Play:",
                   items: unsent.map((e) => e.text) });
    unsent[0].focus();
    return true;
  };

  bus.on("palette:add", ({ kind, clientX, clientY }) => {
    const at = clientX !== undefined ? canvas.toModel(clientX, clientY) : null;
    actions.addComponent(kind, at);
    if (clientX === undefined) canvasEl.focus({ preventScroll: true });
  });

  // -- live run -> views ---------------------------------------------------------------
  let liveQueued = false;
  const pushLive = () => {
    if (liveQueued) return;
    liveQueued = true;
    requestAnimationFrame(() => {
      liveQueued = false;
      const live = player.liveView();
      canvas.applyLive(live);
      overlay.setLive(live);
    });
  };
  const lockBanner = $("#lock-banner");
  const syncLock = () => {
    const locked = ["starting", "playing", "paused"].includes(player.phase);
    if (locked !== store.locked && !store.readOnly) store.setLocked(locked, locked ? "run" : "");
    lockBanner.hidden = !locked;
    document.body.classList.toggle("run-locked", locked);
  };
  $("#lock-stop").addEventListener("click", () => player.stop());

  bus.on("run:snapshot", ({ run, reset, fresh, frame }) => {
    if (fresh) {
      const same = JSON.stringify((run.scenario?.components || []).map((c) => c.id).sort())
          === JSON.stringify(store.doc.components.map((c) => c.id).sort())
        && JSON.stringify((run.scenario?.links || []).map(linkKey).sort())
          === JSON.stringify(store.doc.links.map(linkKey).sort());
      if (!same && run.scenario) {
        store.setLocked(false);
        actions.loadDocument(normalize(run.scenario).doc, "Load the running scenario");
        toaster.show({ title: "Showing the running scenario", tone: "info",
                       message: "The run you joined uses a different design; it replaced the editor's (Undo brings yours back)." });
      }
    }
    syncLock();
    if (fresh) toaster.dismiss("run-error");
    overlay.setRunLinks(run.edgeIds);
    if (reset || fresh) charts.clear();
    charts.setWarmup(run.scenario?.warmup_s || 0);
    charts.push(run.t, frame?.summary, run.components);
    overlay.addDots(frame?.dots || []);
    pushLive();
    if (fresh && stepAfterStart) {
      stepAfterStart = false;
      player.control("step");
    }
  });
  let chartT = 0;
  bus.on("run:frame", ({ run, frame, history }) => {
    if (history) { // a replay's seek got there: its charts show the run up to here
      charts.clear();
      for (const [t, summary] of history) charts.push(t, summary);
    } else if (run.t < chartT - 1e-9) { // a replay is on its way back in time
      charts.clear();
    }
    if (run.t < chartT - 1e-9) overlay.clearDots();
    chartT = run.t;
    charts.push(run.t, frame.summary, run.components);
    overlay.addDots(frame.dots || []);
    pushLive();
  });
  bus.on("run:changed", () => {
    syncLock();
    if (!player.run) {
      canvas.applyLive(null);
      overlay.setLive(null);
      overlay.clearDots();
    } else {
      pushLive();
    }
  });
  bus.on("run:ended", ({ reason, run }) => {
    // the clock is back at 0 (runbar.js), where the next run starts: so are the charts
    charts.clear();
    chartT = 0;
    const why = { stopped: "Run stopped", idle: "Run closed: nobody was watching", error: "The run failed on the server",
                  left: "You stopped watching the run (it goes on for the others)",
                  lost: "The run was lost: the server restarted without it; press Play to start again" }[reason] || "Run ended";
    const sets = (run?.commands || []).filter((c) => c.action === "set").length;
    toaster.show({
      title: why, tone: reason === "error" ? "error" : "info", key: "run",
      message: sets ? `${plural(sets, "live parameter change")} can be kept in the design.` : "Editing is unlocked.",
      action: sets ? { label: "Keep live changes", run: () => $(".timeline-keep").click() } : null,
    });
  });
  bus.on("run:command", ({ command }) => {
    announce(`At ${command.at_s?.toFixed?.(1)} s: ${command.action} ${Array.isArray(command.target) ? command.target.join(" to ") : command.target}.`);
    pushLive();
  });
  // A short notice from the server (a run moved to another worker, the service is away for
  // a moment): the run goes on, so a passing toast rather than an error.
  bus.on("server:notice", ({ message }) => {
    toaster.show({ title: message, tone: "info", key: "server-notice" });
  });
  bus.on("server:error", ({ msg }) => {
    const title = ERROR_TITLES[msg.code] || "The server reported a problem";
    const lines = msg.errors || [];
    if (msg.code === "invalid_scenario") {
      validator.external(lines, store.doc);
      const located = validator.problems.items.map((p) => (p.where ? `${p.where}: ${p.field ? `${p.field}: ` : ""}${p.message}` : p.message));
      toaster.show({ title, message: "Fix these, then press Play again:", items: located, tone: "error", key: "run-error" });
      const first = validator.problems.items.find((p) => p.kind === "component" && p.id);
      if (first) store.select({ components: [first.id] });
      return;
    }
    toaster.show({ title, message: msg.message || "", items: lines, tone: msg.code === "rate_limited" ? "warn" : "error",
                   key: `server-${msg.code}` });
  });

  const connBanner = $("#conn-banner");
  const connText = connBanner.querySelector(".conn-banner-text");
  let bannerTimer = 0;
  let everOnline = false;
  bus.on("conn:changed", ({ state }) => {
    clearInterval(bannerTimer);
    if (state === "online") {
      if (!connBanner.hidden) toaster.show({ title: "Reconnected", tone: "success", key: "conn" });
      everOnline = true;
      connBanner.hidden = true;
      return;
    }
    if (state === "offline") {
      const text = () => {
        const left = Math.max(0, Math.ceil((player.retryAt - Date.now()) / 1000));
        const lead = everOnline ? "Connection to the simulation server lost." : "Cannot reach the simulation server.";
        connText.textContent = `${lead} ${left ? `Reconnecting in ${left} s…` : "Reconnecting…"}`;
      };
      text();
      bannerTimer = setInterval(text, 500);
      connBanner.hidden = false;
    }
  });
  $("#conn-retry").addEventListener("click", () => player.reconnectNow());

  // -- view toolbar --------------------------------------------------------------------
  const snapBtn = $("#snap");
  const setSnap = (on) => {
    canvas.snapToGrid = on;
    prefs.set("snap", on);
    snapBtn.setAttribute("aria-pressed", String(on));
    $("#stage-canvas").classList.toggle("no-grid", !on);
  };
  setSnap(canvas.snapToGrid);
  $("#zoom-in").addEventListener("click", () => canvas.zoomBy(1.2));
  $("#zoom-out").addEventListener("click", () => canvas.zoomBy(1 / 1.2));
  $("#fit").addEventListener("click", () => canvas.fit());
  snapBtn.addEventListener("click", () => setSnap(!canvas.snapToGrid));
  const connectFromSelection = (via) => {
    const single = store.single();
    const id = single?.type === "component" ? single.id : canvas.focusId;
    if (!id) {
      toaster.show({ title: "Select a component first", message: "Then press L (or Connect) and pick the component to link to.", tone: "info", key: "connect" });
      return;
    }
    connector.start(id, via);
  };
  $("#connect").addEventListener("click", () => connectFromSelection("click"));
  const connectHint = $("#connect-hint");
  bus.on("connect:changed", (mode) => {
    connectHint.hidden = !mode || mode.via === "drag";
    $("#connect").setAttribute("aria-pressed", String(!!mode));
  });
  $("#help-button").addEventListener("click", () => help.toggle());

  // -- keyboard ------------------------------------------------------------------------
  const focusNote = $("#canvas-focus-note");
  bus.on("canvas:focus", (id) => {
    if (!id) {
      focusNote.textContent = "No component focused.";
      return;
    }
    const c = store.component(id);
    if (!c) return;
    const ins = store.doc.links.filter((l) => l.to === id).length;
    const outs = store.doc.links.filter((l) => l.from === id).length;
    const text = `${c.label || c.id}, ${registry.kind(c.kind).title}. ${plural(ins, "link")} in, ${outs} out. ${registry.summary(c)}.`;
    focusNote.textContent = text;
    announce(text);
  });
  const inCanvasOrBody = () => [canvasEl, document.body, null].includes(document.activeElement);
  new Keyboard({
    canvasEl,
    isConnecting: () => connector.active && connector.mode.via !== "drag",
    isBlocked: () => help.isOpen || contextMenu.isOpen || !$("#file-menu").hidden
      || !!document.querySelector("dialog[open]"),
    handlers: {
      toggle: () => runbar.toggle(),
      step: () => runbar.step(),
      faster: () => runbar.speedStep(1),
      slower: () => runbar.speedStep(-1),
      undo: () => store.undo(),
      redo: () => store.redo(),
      copy: () => (inCanvasOrBody() && actions.copy() ? undefined : false),
      paste: () => (inCanvasOrBody() && actions.clipboard ? actions.paste() : false),
      duplicate: () => actions.duplicate(),
      selectAll: () => (inCanvasOrBody() ? actions.selectAll() : false),
      delete: () => {
        if (!store.selection.components.size && !store.selection.links.size && canvas.focusId
            && document.activeElement === canvasEl) {
          store.select({ components: [canvas.focusId] });
        }
        actions.deleteSelection();
      },
      connect: () => connectFromSelection(document.activeElement === canvasEl ? "keys" : "click"),
      palette: () => $(".palette-item")?.focus(),
      inspect: () => {
        const first = $("#details:not([hidden]) button, #inspector input:not([disabled]), #inspector select:not([disabled]), #inspector textarea");
        first?.focus();
      },
      save: () => { designs.save(); },
      tab: (e) => {
        const comps = store.doc.components;
        if (!comps.length) return false;
        const i = comps.findIndex((c) => c.id === canvas.focusId);
        if (!e.shiftKey && i === comps.length - 1) return false;
        if (e.shiftKey && i === 0) return false;
        if (e.shiftKey && i < 0) return false;
        canvas.moveFocus(e.shiftKey ? "prev" : "next");
        return undefined;
      },
      arrow: (e) => { canvas.moveFocus(e.key); },
      nudge: (e) => {
        if (!store.selection.components.size && canvas.focusId) store.select({ components: [canvas.focusId] });
        const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
        actions.nudge(d[0] * GRID, d[1] * GRID);
      },
      select: (e) => {
        if (!canvas.focusId) {
          canvas.moveFocus("next");
          return;
        }
        if (e.shiftKey && store.selection.components.has(canvas.focusId)) {
          const comps = [...store.selection.components].filter((x) => x !== canvas.focusId);
          store.select({ components: comps, links: [...store.selection.links] });
        } else {
          store.select({ components: [canvas.focusId] }, { additive: e.shiftKey });
        }
      },
      menu: () => {
        const id = canvas.focusId || store.single()?.id;
        if (!id) return;
        const n = canvas.cy.getElementById(id);
        const rect = canvasEl.getBoundingClientRect();
        const p = n.renderedPosition();
        if (!store.selection.components.has(id)) store.select({ components: [id] });
        bus.emit("context:open", { kind: "component", id, clientX: rect.left + p.x, clientY: rect.top + p.y + 20, position: n.position() });
      },
      escape: () => {
        if (connector.active) connector.cancel();
        else if (store.selection.components.size || store.selection.links.size) store.clearSelection();
        else return false;
        return undefined;
      },
      fit: () => canvas.fit(),
      zoom: (e) => canvas.zoomBy(e.key === "+" || e.key === "=" ? 1.2 : 1 / 1.2),
      zoomReset: () => canvas.zoomReset(),
      grid: () => {
        setSnap(!canvas.snapToGrid);
        toaster.show({ title: `Snap to grid ${canvas.snapToGrid ? "on" : "off"}`, tone: "info", key: "grid", timeout: 1500 });
      },
      help: () => help.toggle(),
      connectKey: (e) => {
        if (e.key === "Enter") connector.confirm();
        else if (e.key === "Escape") connector.cancel();
        else connector.moveTarget(e.key);
      },
    },
  });
  canvasEl.addEventListener("focus", () => {
    // only a keyboard focus (Tab) shows a focus ring on a component; a click focuses quietly
    if (!canvas.focusId && store.doc.components.length && canvasEl.matches(":focus-visible")) {
      const sel = store.single();
      canvas.setFocus(sel?.type === "component" ? sel.id : store.doc.components[0].id);
    }
  });

  // -- start ---------------------------------------------------------------------------
  store.reset(await firstDocument(toaster, designs));
  applyView();
  watchDocument(bus, store, (doc) => designs.saver.keep(doc));
  renderDocChrome();
  designs.start();
  canvas.sync();
  requestAnimationFrame(() => canvas.fit());
  player.connect();
  if (runLink) startRun({ paused: false });
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
  const box = document.getElementById("boot-error");
  if (box) {
    box.hidden = false;
    box.querySelector(".boot-error-text").textContent = `Something went wrong while starting: ${err.message}`;
    document.getElementById("boot-retry")?.addEventListener("click", () => location.reload());
  }
});

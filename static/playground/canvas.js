// The design canvas: Cytoscape renders the store's document (a diff on every change) and
// reports what a person does (drag, select, box-select, right click) back as store
// commands or bus events. Live run state only toggles classes and link widths here; the
// overlay paints text, badges and dots on top.

import cytoscape from "../vendor/cytoscape-3.34.4/cytoscape.esm.min.mjs";
import { cyStyle } from "./canvas-style.js";
import { kindTileURL } from "./icons.js";
import { moveComponents } from "./commands.js";
import { GRID, NODE_H, NODE_W, edgeId, linkKey, snap } from "./topology.js";
import { clientToModel, neighbourInDirection } from "./geometry.js";
import { compact, num, percent } from "./format.js";
import { h } from "./dom.js";

const LINK_REFRESH_MS = 500; // live link widths and rps labels follow the frames this often
const LINK_SMOOTH_S = 1; // ... showing link rates averaged over about this long (wall time)
const MIN_WIDTH_STEP = 0.4; // px: a smaller change of a link's width is not worth a redraw
const LABEL_MIN_ZOOM = 0.5; // below this zoom an 11 px link label is unreadable: none is set

/** Cytoscape's toggleClass restyles the element even when the class does not change (every
 * node and edge, every frame, while a run plays): only touch what changes. */
function setClass(el, cls, on) {
  if (el.hasClass(cls) !== on) el.toggleClass(cls, on);
}

export class Canvas {
  constructor(container, { bus, store, registry, snapToGrid = true }) {
    this.container = container;
    this.bus = bus;
    this.store = store;
    this.registry = registry;
    this.snapToGrid = snapToGrid;
    this.focusId = null;
    this.problems = null;
    this.dragStart = null;
    this.live = null;
    this.linkRates = new Map(); // link key -> smoothed rps while a run is live
    this.linkSamples = 0;
    this.cy = cytoscape({
      container,
      style: cyStyle,
      elements: [],
      minZoom: 0.1,
      maxZoom: 2.5,
      boxSelectionEnabled: true,
      selectionType: "single",
      autoungrabify: false,
      pixelRatio: "auto",
      motionBlur: false,
      textureOnViewport: false,
    });
    this.cy.container().setAttribute("aria-hidden", "true");
    this.tooltip = h("div", { class: "canvas-tooltip", role: "tooltip", hidden: true });
    container.parentElement.append(this.tooltip);
    this.bind();
  }

  // -- rendering the document ----------------------------------------------------------
  sync() {
    const { cy, store } = this;
    const doc = store.doc;
    const ids = new Set(doc.components.map((c) => c.id));
    cy.batch(() => {
      const wantNodes = new Map(doc.components.map((c) => [c.id, c]));
      cy.nodes().not(".ghost").forEach((n) => { if (!wantNodes.has(n.id())) n.remove(); });
      for (const c of doc.components) {
        const pos = c.position || { x: 0, y: 0 };
        let n = cy.getElementById(c.id);
        if (!n.nonempty()) {
          n = cy.add({ group: "nodes", data: { id: c.id, kind: c.kind, icon: kindTileURL(c.kind) },
                       position: { ...pos }, classes: `kind-${c.kind}` });
        } else {
          if (n.data("kind") !== c.kind) n.data({ kind: c.kind, icon: kindTileURL(c.kind) });
          const p = n.position();
          if (!n.grabbed() && (p.x !== pos.x || p.y !== pos.y)) n.position({ ...pos });
        }
      }
      const wantEdges = new Map();
      for (const l of doc.links) {
        if (ids.has(l.from) && ids.has(l.to) && l.from !== l.to) wantEdges.set(edgeId(l.from, l.to), l);
      }
      cy.edges().not(".ghost").forEach((e) => { if (!wantEdges.has(e.id())) e.remove(); });
      for (const [id, l] of wantEdges) {
        let e = cy.getElementById(id);
        if (!e.nonempty()) {
          e = cy.add({ group: "edges", data: { id, source: l.from, target: l.to, key: linkKey(l),
                                               label: "", width: 2 } });
        }
        e.toggleClass("replication", l.kind === "replication");
        if (!this.live) e.data("label", this.linkLabel(l));
      }
    });
    this.applySelection();
    this.applyProblems();
    this.applyWatched();
    if (this.focusId && !ids.has(this.focusId)) this.setFocus(null);
    this.bus.emit("canvas:rendered");
  }

  linkLabel(l) {
    const parts = [];
    if (l.kind === "replication") {
      parts.push(`${l.mode || "async"} · lag ${num(l.lag_ms ?? 100)} ms`);
    } else {
      if (l.latency_ms) parts.push(`${num(l.latency_ms)} ms`);
      if (l.route && l.route !== "any") parts.push(`${l.route}s`);
      if (l.weight !== undefined && l.weight !== 1) parts.push(`w ${num(l.weight)}`);
      // payloads and protocols (docs/scenario-format.md)
      if (l.bandwidth_mbps != null) parts.push(`${num(l.bandwidth_mbps)} Mbps`);
      if (l.protocol && l.protocol !== "none") parts.push(l.loss ? `${l.protocol} ${percent(l.loss, 1)} loss` : l.protocol);
      if (l.encoding && l.encoding !== "none") parts.push(l.encoding);
      if (l.dead_letter) parts.push("dead letters");
    }
    return parts.join(" · ");
  }

  // -- selection -----------------------------------------------------------------------
  applySelection() {
    const { cy, store } = this;
    this.applyingSelection = true;
    cy.batch(() => {
      cy.elements().not(".ghost").forEach((el) => {
        const want = el.isNode() ? store.selection.components.has(el.id())
          : store.selection.links.has(el.data("key"));
        if (want && !el.selected()) el.select();
        else if (!want && el.selected()) el.unselect();
      });
    });
    this.applyingSelection = false;
  }

  readSelection() {
    if (this.applyingSelection || this.selectionQueued) return;
    this.selectionQueued = true;
    queueMicrotask(() => {
      this.selectionQueued = false;
      const { cy } = this;
      this.store.select({
        components: cy.nodes(":selected").not(".ghost").map((n) => n.id()),
        links: cy.edges(":selected").not(".ghost").map((e) => e.data("key")),
      }, { origin: "cy" });
    });
  }

  /** The components the design's `view.watch` names (a lesson is about them): marked. */
  setWatched(ids) {
    this.watched = new Set(ids);
    this.applyWatched();
  }

  applyWatched() {
    const w = this.watched || new Set();
    this.cy.batch(() => this.cy.nodes().not(".ghost").forEach((n) => setClass(n, "watched", w.has(n.id()))));
  }

  // -- validation marks and tooltips -----------------------------------------------------
  setProblems(problems) {
    this.problems = problems;
    this.applyProblems();
  }

  applyProblems() {
    const p = this.problems;
    this.cy.batch(() => {
      this.cy.nodes().not(".ghost").forEach((n) => {
        n.toggleClass("invalid", !!p && p.forComponent(n.id()).length > 0);
      });
      this.cy.edges().not(".ghost").forEach((e) => {
        e.toggleClass("invalid", !!p && p.forLink(e.data("key")).length > 0);
      });
    });
  }

  problemsOf(el) {
    if (!this.problems) return [];
    return el.isNode() ? this.problems.forComponent(el.id()) : this.problems.forLink(el.data("key"));
  }

  showTooltip(el) {
    const list = this.problemsOf(el);
    if (!list.length) {
      this.hideTooltip();
      return;
    }
    const tip = this.tooltip;
    tip.replaceChildren(
      h("strong", { text: list.length === 1 ? "Problem" : `${list.length} problems` }),
      h("ul", {}, list.map((p) => h("li", { text: p.field ? `${p.field}: ${p.message}` : p.message }))));
    tip.hidden = false;
    const bb = el.renderedBoundingBox({ includeLabels: false });
    const host = this.container.getBoundingClientRect();
    const parent = this.container.parentElement.getBoundingClientRect();
    const left = Math.max(8, Math.min(host.left - parent.left + bb.x1, parent.width - 300));
    tip.style.left = `${left}px`;
    tip.style.top = `${host.top - parent.top + bb.y2 + 8}px`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }

  // -- live run state ------------------------------------------------------------------
  /** live: {components: {id: state}, links: {key: [rps, err]}, bottleneck, cut: Set} or null */
  applyLive(live) {
    const { cy } = this;
    const wasLive = !!this.live;
    this.live = live;
    cy.batch(() => {
      if (!live) {
        if (!wasLive) return;
        cy.nodes().removeClass("down bottleneck erroring");
        cy.edges().removeClass("cut erroring");
        cy.edges().not(".ghost").forEach((e) => {
          const l = this.store.link(e.data("key"));
          e.data({ width: 2, label: l ? this.linkLabel(l) : "" });
        });
        return;
      }
      cy.nodes().not(".ghost").forEach((n) => {
        const s = live.components[n.id()];
        setClass(n, "down", !!s && s.up === false);
        setClass(n, "erroring", !!s && s.up !== false && (s.err_rps || 0) > 0.5);
        setClass(n, "bottleneck", live.bottleneck === n.id());
      });
      // Widths and rps labels: every change makes Cytoscape restyle and redraw the edges
      // (a full redraw of a 200-component design takes 10-50 ms). So they follow link
      // rates smoothed over about a second, at most twice a second (at once when a link is
      // cut or healed), a width only when it moves visibly, and labels too small to read
      // are not set at all. Per-frame rates are noisy: this also makes them readable.
      const now = performance.now();
      const dt = wasLive && this.liveAt ? (now - this.liveAt) / 1000 : 0;
      this.liveAt = now;
      if (!wasLive) {
        this.linkRates.clear();
        this.linkSamples = 0;
      }
      // a plain mean of the first samples, then an exponential average (no start-up bias)
      this.linkSamples += 1;
      const alpha = Math.max(1 / this.linkSamples, dt > 0 ? 1 - Math.exp(-dt / LINK_SMOOTH_S) : 0);
      for (const [key, [rps]] of Object.entries(live.links)) {
        const prev = this.linkRates.get(key);
        if (prev === undefined && !rps) continue; // the run's first snapshot: 0 over 0 s
        this.linkRates.set(key, prev === undefined ? rps : prev + alpha * (rps - prev));
      }
      const cutSig = [...live.cut].sort().join("|");
      const refresh = this.linkSamples <= 3 || cutSig !== this.cutSig // 3: the first real rates
        || !(now - this.linksAt < LINK_REFRESH_MS);
      if (refresh) {
        this.linksAt = now;
        this.cutSig = cutSig;
      }
      const readable = cy.zoom() >= LABEL_MIN_ZOOM;
      let max = 1;
      for (const v of this.linkRates.values()) max = Math.max(max, v);
      cy.edges().not(".ghost").forEach((e) => {
        const key = e.data("key");
        const v = live.links[key];
        const cut = live.cut.has(key);
        setClass(e, "cut", cut);
        if (e.hasClass("replication")) return;
        const err = v ? v[1] : 0;
        setClass(e, "erroring", !cut && err > 0.5 && err >= (v ? v[0] : 0) * 0.05);
        const net = v?.[2]; // a link with a bandwidth: its busier direction, like a pool's bar
        const util = net ? Math.max(...net.utilisation) : 0;
        setClass(e, "busy", !cut && util >= 0.8);
        if (!refresh) return;
        const rps = this.linkRates.get(key) ?? 0;
        const width = 1.5 + 6 * Math.sqrt(Math.min(1, rps / max));
        const s = e.source().position(), t = e.target().position();
        const roomy = readable && Math.hypot(t.x - s.x, t.y - s.y) >= NODE_W + 110; // room for a label between the cards
        const queue = net ? Math.max(...net.queue) : 0; // the message being sent included
        const busy = net ? ` · ${percent(util, 0)} busy${queue > 1 ? ` · q ${compact(queue)}` : ""}` : "";
        const label = cut ? "cut" : v && roomy ? `${compact(rps)} rps${err > 0.5 ? ` · ${compact(err)} err/s` : ""}${busy}` : "";
        if (Math.abs(e.data("width") - width) >= MIN_WIDTH_STEP) e.data("width", width);
        if (e.data("label") !== label) e.data("label", label);
      });
    });
  }

  // -- viewport ------------------------------------------------------------------------
  toModel(clientX, clientY) {
    const rect = this.container.getBoundingClientRect();
    return clientToModel(clientX, clientY, rect, this.cy.pan(), this.cy.zoom());
  }

  /** The model point at the centre of the view, snapped, nudged off existing nodes. */
  freeSpotNearCentre() {
    const { cy } = this;
    const ext = cy.extent();
    let p = { x: snap((ext.x1 + ext.x2) / 2, this.snapToGrid), y: snap((ext.y1 + ext.y2) / 2, this.snapToGrid) };
    const taken = (q) => this.store.doc.components.some((c) => c.position
      && Math.abs(c.position.x - q.x) < NODE_W + GRID && Math.abs(c.position.y - q.y) < NODE_H + GRID);
    // walk outwards on a spiral of grid cells until a spot is free
    const step = { x: NODE_W + 2 * GRID, y: NODE_H + 2 * GRID };
    const start = p;
    outer: for (let ring = 1; ring < 8 && taken(p); ring++) {
      for (let dx = -ring; dx <= ring; dx++) {
        for (let dy = -ring; dy <= ring; dy++) {
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
          const q = { x: start.x + dx * step.x, y: start.y + dy * step.y };
          if (!taken(q)) { p = q; break outer; }
        }
      }
    }
    return p;
  }

  fit() {
    const els = this.cy.elements().not(".ghost");
    if (!els.length) {
      this.cy.reset();
      return;
    }
    this.cy.fit(els, 32);
    if (this.cy.zoom() > 1.25) {
      this.cy.zoom(1.25);
      this.cy.center(els);
    }
  }

  zoomBy(factor) {
    const { cy } = this;
    const w = cy.width(), hgt = cy.height();
    cy.zoom({ level: Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor)),
              renderedPosition: { x: w / 2, y: hgt / 2 } });
  }

  zoomReset() {
    const { cy } = this;
    cy.zoom({ level: 1, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  updateGrid() {
    const z = this.cy.zoom();
    const pan = this.cy.pan();
    const size = GRID * z;
    const host = this.container.parentElement;
    const show = size >= 6;
    host.style.backgroundSize = show ? `${size}px ${size}px` : "0 0";
    host.style.backgroundPosition = `${pan.x}px ${pan.y}px`;
  }

  // -- keyboard focus ------------------------------------------------------------------
  /** Focus a component; the ring shows only when the keyboard moved the focus (visible). */
  setFocus(id, { reveal = true, visible = true } = {}) {
    const { cy } = this;
    if (this.focusId) cy.getElementById(this.focusId).removeClass("kbd-focus");
    this.focusId = id;
    if (!id) {
      this.bus.emit("canvas:focus", null);
      return;
    }
    const n = cy.getElementById(id);
    if (!n.nonempty()) {
      this.focusId = null;
      return;
    }
    if (visible) n.addClass("kbd-focus");
    if (reveal) this.reveal(n);
    this.bus.emit("canvas:focus", id);
  }

  reveal(n) {
    const { cy } = this;
    const bb = n.renderedBoundingBox();
    const pad = 40;
    let dx = 0, dy = 0;
    if (bb.x1 < pad) dx = pad - bb.x1;
    else if (bb.x2 > cy.width() - pad) dx = cy.width() - pad - bb.x2;
    if (bb.y1 < pad) dy = pad - bb.y1;
    else if (bb.y2 > cy.height() - pad) dy = cy.height() - pad - bb.y2;
    if (dx || dy) cy.panBy({ x: dx, y: dy });
  }

  /** Move keyboard focus: "next"/"prev" in document order, or an arrow key direction. */
  moveFocus(how) {
    const comps = this.store.doc.components;
    if (!comps.length) return null;
    const cur = comps.findIndex((c) => c.id === this.focusId);
    let next;
    if (how === "next") next = comps[(cur + 1) % comps.length];
    else if (how === "prev") next = comps[(cur - 1 + comps.length) % comps.length];
    else {
      if (cur < 0) next = comps[0];
      else {
        const items = comps.map((c) => ({ id: c.id, ...(c.position || { x: 0, y: 0 }) }));
        next = neighbourInDirection(items, items[cur], how);
      }
    }
    if (next) this.setFocus(next.id);
    return next?.id || null;
  }

  // -- interactions --------------------------------------------------------------------
  bind() {
    const { cy, bus } = this;
    cy.on("select unselect", () => this.readSelection());

    cy.on("grabon", "node", (e) => {
      if (e.target.hasClass("ghost")) return;
      this.dragStart = new Map();
      const group = e.target.selected() ? cy.nodes(":selected") : e.target;
      group.forEach((n) => this.dragStart.set(n.id(), { ...n.position() }));
    });
    cy.on("free", "node", () => {
      clearTimeout(this.dragTimer);
      this.dragTimer = setTimeout(() => this.commitDrag(), 0);
    });

    cy.on("viewport", () => {
      this.updateGrid();
      this.hideTooltip();
      bus.emit("viewport:changed");
    });
    cy.on("tap", (e) => {
      this.container.focus({ preventScroll: true });
      if (e.target === cy) this.setFocus(null);
      else if (e.target.isNode?.()) this.setFocus(e.target.id(), { reveal: false, visible: false });
      bus.emit("canvas:tap", { target: e.target === cy ? null : e.target, position: e.position });
    });
    let lastTap = { id: null, at: 0 };
    cy.on("tap", "node", (e) => { lastTap = { id: e.target.id(), at: performance.now() }; });
    cy.on("dbltap", "node", (e) => {
      // a double tap on the same card (not two quick taps on two cards, as when linking)
      if (lastTap.id === e.target.id()) bus.emit("inspector:focus", { id: e.target.id(), field: "label" });
    });
    cy.on("cxttap", (e) => {
      const oe = e.originalEvent;
      const t = e.target === cy ? null : e.target;
      if (t && !t.selected()) {
        this.store.select(t.isNode() ? { components: [t.id()] } : { links: [t.data("key")] });
      }
      bus.emit("context:open", {
        kind: !t ? "canvas" : t.isNode() ? "component" : "link",
        id: t?.isNode() ? t.id() : undefined,
        key: t?.isEdge() ? t.data("key") : undefined,
        clientX: oe?.clientX ?? 0, clientY: oe?.clientY ?? 0, position: e.position,
      });
    });
    cy.on("mouseover", "node, edge", (e) => this.showTooltip(e.target));
    cy.on("mouseout", "node, edge", () => this.hideTooltip());
    cy.on("drag", "node", () => this.hideTooltip());
    this.container.addEventListener("contextmenu", (e) => e.preventDefault());
    new ResizeObserver(() => {
      cy.resize();
      bus.emit("viewport:changed");
    }).observe(this.container);
    this.updateGrid();
  }

  commitDrag() {
    const start = this.dragStart;
    this.dragStart = null;
    if (!start) return;
    const moves = {};
    for (const [id, from] of start) {
      const n = this.cy.getElementById(id);
      if (!n.nonempty()) continue;
      const p = n.position();
      const to = { x: snap(p.x, this.snapToGrid), y: snap(p.y, this.snapToGrid) };
      if (to.x !== p.x || to.y !== p.y) n.position(to);
      if (to.x !== from.x || to.y !== from.y) moves[id] = { from, to };
    }
    if (Object.keys(moves).length) this.store.exec(moveComponents(moves));
  }
}

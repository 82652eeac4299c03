// Drawing links. Three ways, one outcome (an addLink command): drag from the round handle
// on the selected component to another; press L (or "Connect") and click the target; or
// press L and pick the target with the arrow keys and Enter. Links that can never be valid
// (into a client, from a database to a service, a cycle, ...) are refused with the reason.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { addLink } from "./commands.js";
import { proposeLink } from "./topology.js";
import { contains, neighbourInDirection } from "./geometry.js";

const GHOST = "__ghost";
const GHOST_EDGE = "__ghost-edge";

export class Connector {
  constructor({ host, canvas, store, bus, toaster, announce }) {
    this.host = host;
    this.canvas = canvas;
    this.cy = canvas.cy;
    this.store = store;
    this.bus = bus;
    this.toaster = toaster;
    this.announce = announce;
    this.mode = null; // {source, via: "drag"|"click"|"keys", target}
    this.handle = h("button", { type: "button", class: "connect-handle", hidden: true,
                                "data-testid": "connect-handle", "aria-label": "Drag to connect to another component",
                                title: "Drag to another component to connect (L)" },
      icon("plus", { size: 12, strokeWidth: 3 }));
    host.append(this.handle);
    this.bind();
  }

  get active() {
    return !!this.mode;
  }

  bind() {
    const { cy, bus } = this;
    this.handle.addEventListener("pointerdown", (e) => this.handleDown(e));
    for (const ev of ["selection:changed", "viewport:changed", "lock:changed", "doc:changed", "canvas:rendered"]) {
      bus.on(ev, () => this.updateHandle());
    }
    cy.on("position drag", "node", () => this.updateHandle());
    cy.on("render", () => { if (!this.handle.hidden) this.updateHandle(); });
    this.canvas.container.addEventListener("pointermove", (e) => {
      if (this.mode && this.mode.via === "click") this.follow(e.clientX, e.clientY);
    });
    cy.on("tap", (e) => {
      if (!this.mode || this.mode.via === "drag") return;
      const t = e.target;
      if (t !== cy && t.isNode && t.isNode() && !t.hasClass("ghost") && t.id() !== this.mode.source) {
        // after Cytoscape's own tap handling (which would select the target node)
        const id = t.id();
        setTimeout(() => this.finish(id), 0);
        this.justFinished = performance.now();
      } else if (t === cy) {
        this.cancel();
      }
    });
  }

  updateHandle() {
    const single = this.store.single();
    if (this.mode || this.store.locked || !single || single.type !== "component") {
      this.handle.hidden = true;
      return;
    }
    const n = this.cy.getElementById(single.id);
    if (!n.nonempty()) {
      this.handle.hidden = true;
      return;
    }
    const bb = n.renderedBoundingBox({ includeLabels: false, includeOverlays: false, includeOutlines: false, includeUnderlays: false });
    this.handle.hidden = false;
    this.handle.style.left = `${bb.x2}px`;
    this.handle.style.top = `${(bb.y1 + bb.y2) / 2}px`;
  }

  canStart() {
    if (this.store.locked) {
      this.toaster.show({ title: "Stop the run to add links", tone: "warn", key: "locked",
                          message: "The topology is locked while a simulation runs." });
      return false;
    }
    return true;
  }

  /** Begin connecting from `source`; via "drag", "click" (L + click) or "keys". */
  start(source, via) {
    if (!this.canStart()) return;
    this.cancel(true);
    const n = this.cy.getElementById(source);
    if (!n.nonempty()) return;
    this.mode = { source, via, target: null };
    const p = n.position();
    this.cy.add([
      { group: "nodes", data: { id: GHOST }, position: { x: p.x + 140, y: p.y }, classes: "ghost",
        selectable: false, grabbable: false },
      { group: "edges", data: { id: GHOST_EDGE, source, target: GHOST, width: 2.5, label: "" },
        classes: "ghost", selectable: false },
    ]);
    n.addClass("connect-source");
    this.handle.hidden = true;
    this.host.classList.add("connecting");
    this.bus.emit("connect:changed", this.mode);
    if (via === "keys") {
      this.announce(`Connecting from ${source}. Use the arrow keys to choose a target, Enter to link, Escape to cancel.`);
      this.moveTarget("ArrowRight");
    } else if (via === "click") {
      this.announce(`Connecting from ${source}: click the target component, or press Escape.`);
    }
  }

  handleDown(e) {
    if (e.button !== 0) return;
    const single = this.store.single();
    if (!single || single.type !== "component") return;
    e.preventDefault();
    e.stopPropagation();
    this.start(single.id, "drag");
    if (!this.mode) return;
    const move = (ev) => this.follow(ev.clientX, ev.clientY);
    const up = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      const target = ev.type === "pointerup" ? this.nodeAt(ev.clientX, ev.clientY) : null;
      if (target && target !== this.mode?.source) this.finish(target);
      else this.cancel();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
    this.follow(e.clientX, e.clientY);
  }

  nodeAt(clientX, clientY) {
    const p = this.canvas.toModel(clientX, clientY);
    const hit = this.cy.nodes().not(".ghost").filter((n) => contains(n.boundingBox({ includeLabels: false, includeOverlays: false }), p));
    return hit.length ? hit[hit.length - 1].id() : null;
  }

  follow(clientX, clientY) {
    if (!this.mode) return;
    const p = this.canvas.toModel(clientX, clientY);
    const target = this.nodeAt(clientX, clientY);
    const ghost = this.cy.getElementById(GHOST);
    const t = target && target !== this.mode.source ? this.cy.getElementById(target) : null;
    ghost.position(t ? t.position() : p);
    this.setTarget(t ? target : null);
  }

  setTarget(id) {
    if (!this.mode) return;
    const { cy } = this;
    if (this.mode.target) cy.getElementById(this.mode.target).removeClass("connect-target connect-bad");
    this.mode.target = id;
    if (!id) return;
    const { problem } = proposeLink(this.store.doc, this.mode.source, id);
    cy.getElementById(id).addClass(problem ? "connect-bad" : "connect-target");
    if (this.mode.via === "keys") {
      cy.getElementById(GHOST).position(cy.getElementById(id).position());
      this.canvas.reveal(cy.getElementById(id));
      this.announce(problem ? `${id}: cannot link, ${problem}` : `Link to ${id}? Press Enter.`);
    }
  }

  /** Arrow keys in keyboard mode: pick the next candidate in that direction. */
  moveTarget(key) {
    if (!this.mode) return;
    const comps = this.store.doc.components;
    const items = comps.map((c) => ({ id: c.id, ...(c.position || { x: 0, y: 0 }) }))
      .filter((it) => it.id !== this.mode.source);
    if (!items.length) return;
    const fromId = this.mode.target || this.mode.source;
    const from = comps.find((c) => c.id === fromId);
    const start = { id: fromId, ...(from?.position || { x: 0, y: 0 }) };
    let next = neighbourInDirection(items, start, key);
    if (!next && !this.mode.target) {
      next = items.reduce((best, it) => {
        const d = Math.hypot(it.x - start.x, it.y - start.y);
        return !best || d < best.d ? { ...it, d } : best;
      }, null);
    }
    if (next) this.setTarget(next.id);
  }

  confirm() {
    if (this.mode?.target) this.finish(this.mode.target);
  }

  finish(targetId) {
    const source = this.mode?.source;
    this.cancel(true);
    if (!source) return;
    const { link, problem } = proposeLink(this.store.doc, source, targetId);
    if (problem) {
      this.toaster.show({ title: "Cannot link these two", message: problem, tone: "warn", key: "link" });
      this.announce(`Not linked: ${problem}`);
      return;
    }
    if (this.store.exec(addLink(link))) {
      this.announce(`Linked ${source} to ${targetId}${link.kind === "replication" ? " (replication)" : ""}.`);
      if (link.kind === "replication") {
        this.toaster.show({ title: "Replication link added", tone: "info", key: "link",
                            message: `${targetId} is now a replica of ${source}: writes to ${source} are copied to it.` });
      }
    }
  }

  cancel(quiet = false) {
    const { cy } = this;
    if (!this.mode) return;
    cy.getElementById(this.mode.source).removeClass("connect-source");
    if (this.mode.target) cy.getElementById(this.mode.target).removeClass("connect-target connect-bad");
    cy.remove(`#${GHOST_EDGE}, #${GHOST}`);
    this.mode = null;
    this.host.classList.remove("connecting");
    this.bus.emit("connect:changed", null);
    if (!quiet) this.announce("Connecting cancelled.");
    this.updateHandle();
  }
}

// ONE plain <canvas> over the Cytoscape container. It paints, in one pass per animation
// frame, the card text and live badges (decorations.js) and the request dots (dots.js).
// Coordinates come from the Cytoscape viewport (pan/zoom), so the overlay follows every
// pan, zoom and drag. It redraws when Cytoscape renders, or when marked dirty, or while
// dots are moving; otherwise it sleeps.

import { DotField } from "./dots.js";
import { drawDecorations } from "./decorations.js";

export class Overlay {
  constructor(host, { cy, store, registry, stats }) {
    this.cy = cy;
    this.store = store;
    this.registry = registry;
    this.stats = stats;
    this.live = null;
    this.problems = null;
    this.badges = []; // the badges painted last, {id, text, x, y, w, h} (browser tests read it)
    this.canvas = document.createElement("canvas");
    this.canvas.className = "overlay-canvas";
    this.canvas.setAttribute("aria-hidden", "true");
    host.append(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");
    this.dots = new DotField({ reduced: this.reducedMotion.matches });
    this.reducedMotion.addEventListener?.("change", () => {
      this.dots = new DotField({ reduced: this.reducedMotion.matches });
    });
    this.paths = new Map(); // link index -> path over the current run's links
    this.frameGap = 80;
    this.lastFrameAt = 0;
    this.dirty = true;
    this.lastDraw = 0;
    this.looping = false;
    this.size = { w: 0, h: 0, dpr: 1 };
    new ResizeObserver(() => this.resize()).observe(host);
    cy.on("render", () => this.draw());
    this.resize();
  }

  resize() {
    const host = this.canvas.parentElement;
    const dpr = window.devicePixelRatio || 1;
    const w = host.clientWidth, h = host.clientHeight;
    this.size = { w, h, dpr };
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.markDirty();
  }

  markDirty() {
    this.dirty = true;
    if (!this.looping) {
      this.looping = true;
      requestAnimationFrame((t) => this.tick(t));
    }
  }

  tick() {
    // Cytoscape's own render may already have painted this frame (see the "render" hook)
    if ((this.dirty || this.dots.active) && performance.now() - this.lastDraw > 6) this.draw();
    if (this.dots.active) requestAnimationFrame((t) => this.tick(t));
    else this.looping = false;
  }

  /** The run's links changed (new run or snapshot): map link index -> Cytoscape edge. */
  setRunLinks(edgeIds) {
    this.paths.clear();
    this.dots.clear();
    const cy = this.cy;
    edgeIds.forEach((id, i) => {
      if (!id) return;
      let cached = null;
      const edge = () => {
        if (!cached || cached.removed()) cached = cy.getElementById(id);
        return cached;
      };
      this.paths.set(i, {
        gone: () => { const e = edge(); return !e.nonempty() || e.removed(); },
        ends: () => {
          const e = edge();
          if (!e.nonempty()) return null;
          return { s: e.sourceEndpoint(), t: e.targetEndpoint() };
        },
        length: () => {
          const e = edge();
          if (!e.nonempty()) return 100;
          const s = e.sourceEndpoint(), t = e.targetEndpoint();
          return Math.hypot(t.x - s.x, t.y - s.y);
        },
      });
    });
  }

  /** A frame arrived: spawn its dots spread over the time until the next frame. */
  addDots(frameDots) {
    const now = performance.now();
    if (this.lastFrameAt) {
      const gap = now - this.lastFrameAt;
      this.frameGap = Math.min(250, Math.max(30, this.frameGap * 0.7 + gap * 0.3));
    }
    this.lastFrameAt = now;
    this.dots.spawn(frameDots, (i) => this.paths.get(i) || null, now, this.frameGap);
    this.markDirty();
  }

  clearDots() {
    this.dots.clear();
    this.markDirty();
  }

  setLive(live) {
    this.live = live;
    this.markDirty();
  }

  setProblems(problems) {
    this.problems = problems;
    this.markDirty();
  }

  byId() {
    if (this.mapVersion !== this.store.version || !this.map) {
      this.map = new Map(this.store.doc.components.map((c) => [c.id, c]));
      this.mapVersion = this.store.version;
    }
    return this.map;
  }

  draw() {
    this.dirty = false;
    this.lastDraw = performance.now();
    const { ctx, cy } = this;
    const { w, h, dpr } = this.size;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const zoom = cy.zoom();
    const pan = cy.pan();
    ctx.setTransform(dpr * zoom, 0, 0, dpr * zoom, dpr * pan.x, dpr * pan.y);
    const ext = cy.extent();
    const nodes = [];
    cy.nodes().forEach((n) => {
      if (n.hasClass("ghost")) return;
      const p = n.position();
      if (p.x < ext.x1 - 120 || p.x > ext.x2 + 120 || p.y < ext.y1 - 60 || p.y > ext.y2 + 60) return;
      nodes.push({ id: n.id(), x: p.x, y: p.y });
    });
    this.badges = drawDecorations(ctx, {
      nodes, zoom,
      component: (id) => this.byId().get(id),
      summary: (c) => this.registry.summary(c),
      live: this.live,
      problems: this.problems,
    });
    const fresh = this.dots.draw(ctx, performance.now(), zoom);
    if (this.stats) this.stats.dotsDrawn += fresh;
  }
}

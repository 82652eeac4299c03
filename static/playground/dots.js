// Request dots: each dot of a frame ([link, direction, outcome, hit]) travels along its link
// over a short visual time, source to target (direction 0) or back (1), coloured by outcome.
// Pure model + one drawing pass; the overlay owns the canvas and the animation loop.

export const OUTCOME_COLORS = {
  pending: "#64748b",
  ok: "#16a34a",
  hit: "#0891b2",
  rejected: "#f97316",
  timeout: "#9333ea",
  failed: "#dc2626",
};

export function dotColor(outcome, hit) {
  switch (outcome) {
    case -1: return OUTCOME_COLORS.pending;
    case 0: return hit ? OUTCOME_COLORS.hit : OUTCOME_COLORS.ok;
    case 1: return OUTCOME_COLORS.rejected;
    case 4: return OUTCOME_COLORS.timeout;
    default: return OUTCOME_COLORS.failed; // 2 down, 3 cut, 5 failed downstream
  }
}

const SPEED = 0.42; // model px per ms

export class DotField {
  // max: dots alive at once (in flight or about to start). 2000 in flight on a 200-component
  // design keep 60 fps (bench/browser.py); it was 500.
  constructor({ max = 3000, reduced = false } = {}) {
    this.dots = [];
    this.max = reduced ? Math.min(max, 60) : max;
    this.reduced = reduced;
  }

  get active() {
    return this.dots.length > 0;
  }

  clear() {
    this.dots = [];
  }

  /**
   * Add the dots of one frame. resolve(linkIndex) -> {id, from, to} endpoints getter or
   * null; spreadMs: how long until the next frame is expected (start times spread over it).
   */
  spawn(frameDots, resolve, now, spreadMs) {
    if (!frameDots?.length) return;
    const room = this.max - this.dots.length;
    if (room <= 0) return;
    let list = frameDots;
    if (list.length > room) {
      // keep a fair sample across the frame rather than the first few
      const step = list.length / room;
      list = Array.from({ length: room }, (_, i) => frameDots[Math.floor(i * step)]);
    }
    if (this.reduced) list = list.filter((_, i) => i % 3 === 0);
    // at most one dot per ~11 px of a link in each direction, so dots stay apart
    const load = new Map();
    for (const dot of this.dots) {
      const k = `${dot.li}:${dot.dir}`;
      load.set(k, (load.get(k) || 0) + 1);
    }
    const lengths = new Map();
    for (const d of list) {
      const [li, dir, outcome, hit] = d;
      const path = resolve(li);
      if (!path) continue;
      if (!lengths.has(li)) lengths.set(li, Math.max(40, path.length()));
      const len = lengths.get(li);
      const k = `${li}:${dir}`;
      const n = load.get(k) || 0;
      if (n >= Math.max(2, Math.floor(len / 11))) continue;
      load.set(k, n + 1);
      const dur = Math.min(1100, Math.max(260, len / SPEED)) * (this.reduced ? 1.8 : 1);
      this.dots.push({ li, path, dir, color: dotColor(outcome, hit), t0: now + Math.random() * spreadMs,
                       dur, drawn: false });
    }
  }

  /** Draw every live dot in model coordinates; returns how many were drawn for the first time. */
  draw(ctx, now, zoom) {
    if (!this.dots.length) return 0;
    const r = Math.max(3, 2.2 / zoom);
    const byColor = new Map();
    const ends = new Map();
    let fresh = 0;
    const keep = [];
    for (const dot of this.dots) {
      const p = (now - dot.t0) / dot.dur;
      if (p >= 1 || dot.path.gone()) continue;
      keep.push(dot);
      if (p < 0) continue;
      let e = ends.get(dot.path);
      if (!e) {
        e = dot.path.ends();
        ends.set(dot.path, e);
      }
      if (!e) continue;
      const [a, b] = dot.dir === 0 ? [e.s, e.t] : [e.t, e.s];
      const x = a.x + (b.x - a.x) * p;
      const y = a.y + (b.y - a.y) * p;
      if (!byColor.has(dot.color)) byColor.set(dot.color, []);
      byColor.get(dot.color).push(x, y);
      if (!dot.drawn) {
        dot.drawn = true;
        fresh += 1;
      }
    }
    this.dots = keep;
    if (r * zoom < 2.5) {
      // zoomed out (a big design): dots a few pixels wide, where a square looks the same as
      // a ring-edged disc and costs far less to rasterise (2000 of them, every frame)
      for (const [color, pts] of byColor) {
        ctx.fillStyle = color;
        for (let i = 0; i < pts.length; i += 2) ctx.fillRect(pts[i] - r, pts[i + 1] - r, 2 * r, 2 * r);
      }
      return fresh;
    }
    ctx.lineWidth = Math.max(1.2, 1 / zoom);
    ctx.strokeStyle = "rgba(255,255,255,0.95)";
    for (const [color, pts] of byColor) {
      ctx.beginPath();
      for (let i = 0; i < pts.length; i += 2) {
        ctx.moveTo(pts[i] + r, pts[i + 1]);
        ctx.arc(pts[i], pts[i + 1], r, 0, Math.PI * 2);
      }
      ctx.fillStyle = color;
      ctx.stroke();
      ctx.fill();
    }
    return fresh;
  }
}

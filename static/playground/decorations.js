// What the overlay paints on each component card: the label and a summary line (idle) or
// live metrics (running), a utilisation bar, and badges: down, errors, bottleneck, problems.
// Drawn in model coordinates; the caller sets the pan/zoom transform.

import { NODE_W, NODE_H } from "./topology.js";
import { compact, percent } from "./format.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LABEL_FONT = `600 14px ${FONT}`;
const SUB_FONT = `400 11.5px ${FONT}`;
const BADGE_FONT = `700 10px ${FONT}`;
const fitCache = new Map();

function fit(ctx, text, maxWidth, font) {
  const key = `${font}|${maxWidth}|${text}`;
  const hit = fitCache.get(key);
  if (hit !== undefined) return hit;
  ctx.font = font;
  let out = text;
  if (ctx.measureText(text).width > maxWidth) {
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (ctx.measureText(`${text.slice(0, mid)}…`).width <= maxWidth) lo = mid;
      else hi = mid - 1;
    }
    out = `${text.slice(0, lo)}…`;
  }
  if (fitCache.size > 4000) fitCache.clear();
  fitCache.set(key, out);
  return out;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
}

const BADGE_H = 17;
const BADGE_GAP = 4;

function badge(ctx, { text, x, y, w, bg, fg }) {
  ctx.font = BADGE_FONT;
  roundRect(ctx, x, y, w, BADGE_H, 8.5);
  ctx.fillStyle = bg;
  ctx.fill();
  ctx.fillStyle = fg;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillText(text, x + 6, y + 9);
}

/** Where a card's badges go: in a row along its top edge from the right, the most
 * important first; one that would pass the card's left edge starts a row above. So two
 * badges never overlap, however long their text. */
export function placeBadges(badges, { left, right, top }) {
  const placed = [];
  let r = right, y = top;
  for (const b of badges) {
    if (r - b.w < left && r !== right) {
      r = right;
      y -= BADGE_H + BADGE_GAP;
    }
    placed.push({ ...b, x: r - b.w, y, h: BADGE_H });
    r -= b.w + BADGE_GAP;
  }
  return placed;
}

export function utilColor(u) {
  if (u >= 0.9) return "#dc2626";
  if (u >= 0.7) return "#f59e0b";
  return "#10b981";
}

const MARK = 7; // an instance's square on a card, and the gap after it
const MARK_GAP = 3;

/**
 * A service run as instances (frames' `instances`): one square per instance, left to right
 * in the order they were made, centred in `width`; those that do not fit are counted in
 * `more`. Booting: an empty grey outline; serving: filled by its utilisation's colour;
 * draining: amber outline, half filled.
 */
export function instanceMarks(instances, width) {
  const fits = Math.max(1, Math.floor((width + MARK_GAP) / (MARK + MARK_GAP)));
  const shown = instances.slice(0, fits);
  const span = shown.length * (MARK + MARK_GAP) - MARK_GAP;
  const marks = shown.map((inst, i) => {
    const x = (width - span) / 2 + i * (MARK + MARK_GAP);
    if (inst.state === "booting") return { x, state: inst.state, stroke: "#98a2b3", fill: null, filled: 0 };
    if (inst.state === "draining") return { x, state: inst.state, stroke: "#f59e0b", fill: "#fde68a", filled: 0.5 };
    return { x, state: inst.state, stroke: null, fill: utilColor(inst.util ?? 0), filled: 1 };
  });
  return { marks, more: instances.length - shown.length, size: MARK };
}

function drawInstances(ctx, instances, left, y, width) {
  const { marks, more, size } = instanceMarks(instances, width);
  for (const m of marks) {
    if (m.fill) {
      ctx.fillStyle = m.fill;
      ctx.fillRect(left + m.x, y + size * (1 - m.filled), size, size * m.filled);
    }
    if (m.stroke) {
      ctx.strokeStyle = m.stroke;
      ctx.lineWidth = 1;
      ctx.strokeRect(left + m.x + 0.5, y + 0.5, size - 1, size - 1);
    }
  }
  if (more > 0) {
    ctx.fillStyle = "#667085";
    ctx.font = SUB_FONT;
    ctx.textAlign = "right";
    ctx.fillText(`+${more}`, left + width, y + size);
    ctx.textAlign = "center";
  }
}

/** A short line of live metrics for a card, by what the component's state carries. */
export function liveLine(kind, s, { util, sent } = {}) {
  if (!s) return "";
  if (s.up === false) return "down · rejecting";
  if (kind === "client") return `${compact(sent ?? 0)} rps sent`;
  const parts = [];
  const u = util ?? s.util;
  if (u !== undefined) parts.push(`${percent(u)} busy`);
  if (kind === "queue") parts.push(`${compact(s.queue ?? 0)} waiting`);
  if (s.entries !== undefined) parts.push(`${compact(s.entries)} keys`);
  parts.push(`${compact(s.rps ?? 0)} rps`);
  return parts.join(" · ");
}

/**
 * Paint every card. ctx is in model coordinates. view: {nodes: [{id, x, y}], zoom,
 * component(id), summary(c), live (null or {components, bottleneck, smooth}), problems}.
 * Returns the badges painted, {id, text, x, y, w, h} in model coordinates.
 */
export function drawDecorations(ctx, view) {
  const painted = [];
  const { zoom } = view;
  const detail = zoom >= 0.45;
  const halfW = NODE_W / 2;
  const halfH = NODE_H / 2;
  ctx.textAlign = "center";
  for (const n of view.nodes) {
    const c = view.component(n.id);
    if (!c) continue;
    const width = NODE_W - 16;
    const s = view.live?.components[n.id];
    const down = s?.up === false;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = down ? "#667085" : "#1d2433";
    const label = fit(ctx, c.label || c.id, width, LABEL_FONT);
    ctx.font = LABEL_FONT;
    ctx.fillText(label, n.x, n.y + 12);
    if (detail) {
      const util = s ? view.live.smooth?.[n.id]?.util ?? s.util : undefined;
      const sub = s ? liveLine(c.kind, s, { util, sent: view.live.sent?.[n.id] }) : view.summary(c);
      ctx.fillStyle = down ? "#dc2626" : "#667085";
      const text = fit(ctx, sub, width, SUB_FONT);
      ctx.font = SUB_FONT;
      ctx.fillText(text, n.x, n.y + 27);
      const left = n.x - halfW + 14, w = NODE_W - 28;
      if (s?.instances && !down) {
        // A group's instances in place of its utilisation bar: each square says its own.
        drawInstances(ctx, s.instances, left, n.y + halfH - 11, w);
      } else if (util !== undefined && !down) {
        const y = n.y + halfH - 8;
        roundRect(ctx, left, y, w, 4, 2);
        ctx.fillStyle = "#eaecf0";
        ctx.fill();
        roundRect(ctx, left, y, Math.max(4, w * Math.min(1, util)), 4, 2);
        ctx.fillStyle = utilColor(util);
        ctx.fill();
      }
    }
    const badges = [];
    const add = (text, bg, fg = "#fff") => badges.push({ id: n.id, text, bg, fg, w: measureBadge(ctx, text) });
    if (down) add("DOWN", "#dc2626");
    else if (s && (s.err_rps || 0) > 0.5) add(`${compact(s.err_rps)} err/s`, "#ea580c");
    if (s && !down && c.kind !== "queue" && (s.queue || 0) > 0) add(`q ${compact(s.queue)}`, "#e0e7ff", "#3730a3");
    if (view.live && view.live.bottleneck === n.id && !down) add("BOTTLENECK", "#fef3c7", "#92400e");
    for (const b of placeBadges(badges, { left: n.x - halfW + 6, right: n.x + halfW - 6, top: n.y - halfH - 9 })) {
      badge(ctx, b);
      painted.push({ id: b.id, text: b.text, x: b.x, y: b.y, w: b.w, h: b.h });
    }
    const problems = view.problems?.forComponent(n.id) || [];
    if (problems.length && !view.live) {
      const x = n.x - halfW + 4, y = n.y - halfH + 4;
      ctx.beginPath();
      ctx.arc(x, y, 9, 0, Math.PI * 2);
      ctx.fillStyle = "#dc2626";
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.font = `800 12px ${FONT}`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("!", x, y + 0.5);
    }
  }
  return painted;
}

function measureBadge(ctx, text) {
  ctx.font = BADGE_FONT;
  return ctx.measureText(text).width + 12;
}

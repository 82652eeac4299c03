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

function badge(ctx, text, right, top, bg, fg = "#fff") {
  ctx.font = BADGE_FONT;
  const w = ctx.measureText(text).width + 12;
  roundRect(ctx, right - w, top, w, 17, 8.5);
  ctx.fillStyle = bg;
  ctx.fill();
  ctx.fillStyle = fg;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillText(text, right - w + 6, top + 9);
  return w;
}

export function utilColor(u) {
  if (u >= 0.9) return "#dc2626";
  if (u >= 0.7) return "#f59e0b";
  return "#10b981";
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
 * component(id), summary(c), live (null or {components, bottleneck, smooth}), problems}
 */
export function drawDecorations(ctx, view) {
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
      if (util !== undefined && !down) {
        const y = n.y + halfH - 8;
        const left = n.x - halfW + 14, w = NODE_W - 28;
        roundRect(ctx, left, y, w, 4, 2);
        ctx.fillStyle = "#eaecf0";
        ctx.fill();
        roundRect(ctx, left, y, Math.max(4, w * Math.min(1, util)), 4, 2);
        ctx.fillStyle = utilColor(util);
        ctx.fill();
      }
    }
    // badges along the top edge, right to left
    let r = n.x + halfW - 6;
    const top = n.y - halfH - 9;
    if (down) {
      r -= badge(ctx, "DOWN", r, top, "#dc2626") + 4;
    } else if (s && (s.err_rps || 0) > 0.5) {
      r -= badge(ctx, `${compact(s.err_rps)} err/s`, r, top, "#ea580c") + 4;
    }
    if (s && !down && c.kind !== "queue" && (s.queue || 0) > 0) {
      r -= badge(ctx, `q ${compact(s.queue)}`, r, top, "#e0e7ff", "#3730a3") + 4;
    }
    if (view.live && view.live.bottleneck === n.id && !down) {
      badge(ctx, "BOTTLENECK", n.x - halfW + 6 + measureBadge(ctx, "BOTTLENECK"), top, "#fef3c7", "#92400e");
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
}

function measureBadge(ctx, text) {
  ctx.font = BADGE_FONT;
  return ctx.measureText(text).width + 12;
}

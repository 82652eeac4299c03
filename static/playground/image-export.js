// The diagram as a picture: an SVG built from the document (cards with the kind's tile,
// label and summary; links as arrows, replication dashed), and a PNG rasterised from it.
// Built here rather than taken from Cytoscape: the card text is painted by the overlay
// (decorations.js), so cy.png() would show blank cards. Built with DOM APIs and
// XMLSerializer, so labels are escaped by the serializer, never pasted into markup.

import { ICONS, kindColors, kindIconName } from "./icons.js";
import { NODE_H, NODE_W, bounds } from "./topology.js";
import { COLORS } from "./canvas-style.js";
import { download, slug } from "./persistence.js";

const NS = "http://www.w3.org/2000/svg";
const PAD = 40;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PNG_SCALE = 2;
const PNG_MAX_SIDE = 8000; // pixels: browsers refuse bigger canvases

function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

let measureCtx = null;
function fit(text, maxWidth, font) {
  measureCtx ||= document.createElement("canvas").getContext("2d");
  measureCtx.font = font;
  if (measureCtx.measureText(text).width <= maxWidth) return text;
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measureCtx.measureText(`${text.slice(0, mid)}…`).width <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

/** Where the segment from a card's centre towards (tx, ty) leaves the card's box. */
function borderPoint(p, tx, ty, gap = 4) {
  const dx = tx - p.x, dy = ty - p.y;
  if (!dx && !dy) return { x: p.x, y: p.y };
  const sx = dx ? (NODE_W / 2 + gap) / Math.abs(dx) : Infinity;
  const sy = dy ? (NODE_H / 2 + gap) / Math.abs(dy) : Infinity;
  const s = Math.min(sx, sy, 1);
  return { x: p.x + dx * s, y: p.y + dy * s };
}

function tile(kind, x, y, size) {
  const { tint, ink } = kindColors(kind);
  const scale = (size * 0.6) / 24;
  const glyph = el("g", { transform: `translate(${x + size * 0.2} ${y + size * 0.2}) scale(${scale})`,
                          fill: "none", stroke: ink, "stroke-width": 2, "stroke-linecap": "round",
                          "stroke-linejoin": "round" },
    ...ICONS[kindIconName(kind)].map(([tag, attrs]) => el(tag, attrs)));
  return el("g", {}, el("rect", { x, y, width: size, height: size, rx: size / 4, fill: tint }), glyph);
}

/** The document as an <svg> element. */
export function diagramSvg(doc, registry) {
  const box = bounds(doc.components) || { x1: 0, y1: 0, w: NODE_W, h: NODE_H };
  const width = Math.ceil(box.w + PAD * 2), height = Math.ceil(box.h + PAD * 2 + 28);
  const svg = el("svg", { xmlns: NS, width, height, viewBox: `${box.x1 - PAD} ${box.y1 - PAD - 28} ${width} ${height}`,
                          "font-family": FONT });
  svg.append(el("title", {}, doc.name || "Design"));
  const arrow = (id, color) => el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
                                             markerHeight: 7, orient: "auto-start-reverse" },
    el("path", { d: "M0 0L10 5L0 10z", fill: color }));
  svg.append(el("defs", {}, arrow("arrow", COLORS.edge), arrow("arrow-replication", COLORS.replication)));
  svg.append(el("rect", { x: box.x1 - PAD, y: box.y1 - PAD - 28, width, height, fill: COLORS.canvas }));
  svg.append(el("text", { x: box.x1 - PAD + 16, y: box.y1 - PAD - 4, "font-size": 15, "font-weight": 700,
                          fill: COLORS.ink }, fit(doc.name || "Untitled design", width - 32, `700 15px ${FONT}`)));

  const at = new Map(doc.components.map((c) => [c.id, c.position || { x: 0, y: 0 }]));
  for (const l of doc.links) {
    const a = at.get(l.from), b = at.get(l.to);
    if (!a || !b) continue;
    const start = borderPoint(a, b.x, b.y), end = borderPoint(b, a.x, a.y);
    const replication = l.kind === "replication";
    svg.append(el("line", { x1: start.x, y1: start.y, x2: end.x, y2: end.y, "stroke-width": 2,
                            stroke: replication ? COLORS.replication : COLORS.edge,
                            "stroke-dasharray": replication ? "7 5" : null,
                            "marker-end": `url(#${replication ? "arrow-replication" : "arrow"})` }));
  }
  for (const c of doc.components) {
    const p = at.get(c.id);
    const x = p.x - NODE_W / 2, y = p.y - NODE_H / 2;
    svg.append(el("g", {},
      el("rect", { x, y, width: NODE_W, height: NODE_H, rx: 12, fill: "#fff", stroke: COLORS.border,
                   "stroke-width": 1.5 }),
      tile(c.kind, p.x - 16, y + 9, 32),
      el("text", { x: p.x, y: p.y + 12, "text-anchor": "middle", "font-size": 14, "font-weight": 600,
                   fill: COLORS.ink }, fit(c.label || c.id, NODE_W - 16, `600 14px ${FONT}`)),
      el("text", { x: p.x, y: p.y + 27, "text-anchor": "middle", "font-size": 11.5, fill: COLORS.muted },
         fit(registry.summary(c), NODE_W - 16, `400 11.5px ${FONT}`))));
  }
  return svg;
}

export function diagramSvgText(doc, registry) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(diagramSvg(doc, registry))}\n`;
}

export function exportSvg(doc, registry) {
  download(new Blob([diagramSvgText(doc, registry)], { type: "image/svg+xml" }), `${slug(doc.name)}.svg`);
}

/** Rasterise the SVG (a data: URL: the CSP allows data: images) at twice its size. */
export async function exportPng(doc, registry) {
  const svg = diagramSvg(doc, registry);
  const w = Number(svg.getAttribute("width")), hgt = Number(svg.getAttribute("height"));
  const scale = Math.min(PNG_SCALE, PNG_MAX_SIDE / Math.max(w, hgt));
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(svg))}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(hgt * scale);
  canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error("the browser could not make the PNG"))), "image/png"));
  download(blob, `${slug(doc.name)}.png`);
}

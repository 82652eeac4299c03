// Icons as data: each is a list of SVG shapes on a 24x24 grid, stroked with currentColor.
// `icon(name)` builds an <svg> with DOM APIs (no innerHTML); `kindTileURL(kind)` makes the
// coloured tile Cytoscape paints on a node (a data: URL built only from these constants).

const SVG_NS = "http://www.w3.org/2000/svg";

function gearPath() {
  const teeth = 8, outer = 9.5, inner = 7.2, cx = 12, cy = 12;
  const pts = [];
  for (let i = 0; i < teeth; i++) {
    const a = (i / teeth) * Math.PI * 2;
    const w = (Math.PI / teeth) * 0.55;
    for (const [r, da] of [[inner, -w * 1.5], [outer, -w * 0.8], [outer, w * 0.8], [inner, w * 1.5]]) {
      pts.push([cx + r * Math.cos(a + da), cy + r * Math.sin(a + da)]);
    }
  }
  return `M${pts.map(([x, y]) => `${x.toFixed(2)} ${y.toFixed(2)}`).join("L")}Z`;
}

/** Replicas on a hash ring: hollow nodes joined by arcs that stop at their edges (no fill,
 * so the glyph reads the same on a tile, where currentColor is not set). */
function ringOfNodes(nodes = 6, r = 7.5, dot = 2.2) {
  const at = (t) => [12 + r * Math.cos(t), 12 + r * Math.sin(t)].map((v) => +v.toFixed(2));
  const shapes = [];
  for (let i = 0; i < nodes; i++) {
    const a = (i / nodes) * Math.PI * 2 - Math.PI / 2;
    const b = a + (Math.PI * 2) / nodes;
    const [cx, cy] = at(a);
    shapes.push(["circle", { cx, cy, r: dot }]);
    shapes.push(["path", { d: `M${at(a + dot / r).join(" ")}A${r} ${r} 0 0 1 ${at(b - dot / r).join(" ")}` }]);
  }
  return shapes;
}

const ICONS = {
  // component kinds
  client: [["circle", { cx: 9, cy: 7.5, r: 3.5 }],
           ["path", { d: "M2.5 20.5v-1.5a4.5 4.5 0 0 1 4.5-4.5h4a4.5 4.5 0 0 1 4.5 4.5v1.5" }],
           ["path", { d: "M16 4.2a3.5 3.5 0 0 1 0 6.6" }],
           ["path", { d: "M18.5 14.7a4.5 4.5 0 0 1 3 4.3v1.5" }]],
  load_balancer: [["path", { d: "M2.5 12h6.5" }], ["path", { d: "M9 12l10-6.5" }],
                  ["path", { d: "M9 12l10 6.5" }], ["path", { d: "M9 12h10" }],
                  ["path", { d: "M15.2 4.6l3.8.9-1.3 3.6" }],
                  ["path", { d: "M15.2 19.4l3.8-.9-1.3-3.6" }],
                  ["path", { d: "M16.5 9.5l2.5 2.5-2.5 2.5" }]],
  // edge kinds: a globe (dns), a cloud (cdn), a shield passing traffic both ways (reverse
  // proxy), a gauge (rate limiter), a flame (waf, a firewall)
  dns: [["circle", { cx: 12, cy: 12, r: 9.5 }], ["ellipse", { cx: 12, cy: 12, rx: 4, ry: 9.5 }],
        ["path", { d: "M2.5 12h19M4 7h16M4 17h16" }]],
  cdn: [["path", { d: "M7 19a4.5 4.5 0 0 1-.6-8.96A6 6 0 0 1 17.8 9.2 4.9 4.9 0 0 1 17.5 19z" }]],
  reverse_proxy: [["path", { d: "M12 2.5l7.5 3v5.5c0 4.6-3.1 8.4-7.5 10.5-4.4-2.1-7.5-5.9-7.5-10.5V5.5z" }],
                  ["path", { d: "M8 9.5h8M13.5 7l2.5 2.5-2.5 2.5M16 14.5H8M10.5 12L8 14.5l2.5 2.5" }]],
  rate_limiter: [["path", { d: "M3.5 17a8.5 8.5 0 1 1 17 0" }], ["path", { d: "M12 17l4.5-5.5" }],
                 ["circle", { cx: 12, cy: 17, r: 1.5 }], ["path", { d: "M12 8.5v1.5M6 11l1 1M18 11l-1 1" }]],
  waf: [["path", { d: "M12 21.5c-3.9 0-6.5-2.7-6.5-6.2 0-3.6 2.6-5.4 3.7-8.8 1.9 1.3 2.7 3.2 2.6 5 1.1-.6 1.9-1.8 2.1-3.4 2.4 1.9 4.6 4.5 4.6 7.4 0 3.5-2.6 6-6.5 6z" }]],
  service: [["rect", { x: 3, y: 3.5, width: 18, height: 7, rx: 1.8 }],
            ["rect", { x: 3, y: 13.5, width: 18, height: 7, rx: 1.8 }],
            ["path", { d: "M7 7h.01M7 17h.01M11 7h6M11 17h6" }]],
  cache: [["path", { d: "M13.5 2.5L4.5 13.5h7l-1 8 9-11h-7l1-8z" }]],
  database: [["ellipse", { cx: 12, cy: 5.5, rx: 8, ry: 3 }],
             ["path", { d: "M4 5.5v13c0 1.66 3.58 3 8 3s8-1.34 8-3v-13" }],
             ["path", { d: "M4 12c0 1.66 3.58 3 8 3s8-1.34 8-3" }]],
  queue: [["rect", { x: 3, y: 4, width: 18, height: 4, rx: 1 }],
          ["rect", { x: 3, y: 10, width: 18, height: 4, rx: 1 }],
          ["rect", { x: 3, y: 16, width: 18, height: 4, rx: 1 }]],
  // a partitioned log: rows of appended cells, each row as long as its partition
  topic: [["path", { d: "M3 4.5h13v4H3zM3 10h18v4H3zM3 15.5h9v4H3z" }],
          ["path", { d: "M7.5 4.5v4M12 4.5v4M7.5 10v4M12 10v4M16.5 10v4M7.5 15.5v4" }]],
  // a message copied along its matching bindings to the queues bound
  exchange: [["path", { d: "M2.5 12h5.5" }], ["circle", { cx: 10, cy: 12, r: 2 }],
             ["path", { d: "M11.4 10.6l4.1-5.1M12 12h3.5M11.4 13.4l4.1 5.1" }],
             ["rect", { x: 15.5, y: 3.5, width: 6, height: 4, rx: 1 }],
             ["rect", { x: 15.5, y: 10, width: 6, height: 4, rx: 1 }],
             ["rect", { x: 15.5, y: 16.5, width: 6, height: 4, rx: 1 }]],
  worker: [["path", { d: gearPath() }], ["circle", { cx: 12, cy: 12, r: 3 }]],
  // a key forks to one of several shards
  shard_router: [["path", { d: "M2.5 12h5M7.5 12l4.5-6.5h2.5M7.5 12h7M7.5 12l4.5 6.5h2.5" }],
                 ["rect", { x: 15.5, y: 3.5, width: 6, height: 4, rx: 1 }],
                 ["rect", { x: 15.5, y: 10, width: 6, height: 4, rx: 1 }],
                 ["rect", { x: 15.5, y: 16.5, width: 6, height: 4, rx: 1 }]],
  kv_store: ringOfNodes(),
  generic: [["path", { d: "M12 2.5l8.5 4.75v9.5L12 21.5l-8.5-4.75v-9.5z" }],
            ["path", { d: "M3.5 7.25L12 12l8.5-4.75M12 12v9.5" }]],
  // interface
  play: [["path", { d: "M7 4.5v15l12.5-7.5z", fill: "currentColor" }]],
  pause: [["rect", { x: 6, y: 4.5, width: 4, height: 15, rx: 1, fill: "currentColor" }],
          ["rect", { x: 14, y: 4.5, width: 4, height: 15, rx: 1, fill: "currentColor" }]],
  step: [["path", { d: "M5 5v14l10-7z", fill: "currentColor" }], ["path", { d: "M18.5 5v14" }]],
  stop: [["rect", { x: 5.5, y: 5.5, width: 13, height: 13, rx: 2, fill: "currentColor" }]],
  reset: [["path", { d: "M3.5 12a8.5 8.5 0 1 0 2.6-6.1" }], ["path", { d: "M3.5 3.5v5h5" }]],
  undo: [["path", { d: "M9 14L4 9l5-5" }], ["path", { d: "M4 9h10.5a5.5 5.5 0 0 1 0 11H11" }]],
  redo: [["path", { d: "M15 14l5-5-5-5" }], ["path", { d: "M20 9H9.5a5.5 5.5 0 0 0 0 11H13" }]],
  zoomIn: [["circle", { cx: 11, cy: 11, r: 7 }], ["path", { d: "M20.5 20.5l-4.5-4.5M11 8v6M8 11h6" }]],
  zoomOut: [["circle", { cx: 11, cy: 11, r: 7 }], ["path", { d: "M20.5 20.5l-4.5-4.5M8 11h6" }]],
  fit: [["path", { d: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5" }]],
  grid: [["path", { d: "M4 4h16v16H4zM4 9.33h16M4 14.66h16M9.33 4v16M14.66 4v16" }]],
  link: [["circle", { cx: 5.5, cy: 12, r: 2.5 }], ["path", { d: "M8 12h9" }],
         ["path", { d: "M14.5 8.5L18 12l-3.5 3.5" }]],
  help: [["circle", { cx: 12, cy: 12, r: 9 }],
         ["path", { d: "M9.5 9.5a2.6 2.6 0 0 1 5 .9c0 1.8-2.5 2.3-2.5 3.8M12 17.2h.01" }]],
  menu: [["path", { d: "M4 7h16M4 12h16M4 17h16" }]],
  chevronDown: [["path", { d: "M6 9l6 6 6-6" }]],
  chevronRight: [["path", { d: "M9 6l6 6-6 6" }]],
  trash: [["path", { d: "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" }]],
  copy: [["rect", { x: 8, y: 8, width: 12, height: 12, rx: 2 }],
         ["path", { d: "M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3" }]],
  close: [["path", { d: "M6 6l12 12M18 6L6 18" }]],
  alert: [["path", { d: "M12 3l9.5 17h-19z" }], ["path", { d: "M12 10v4.5M12 17.5h.01" }]],
  check: [["path", { d: "M5 12.5l4.5 4.5L19 7.5" }]],
  bolt: [["path", { d: "M13.5 2.5L4.5 13.5h7l-1 8 9-11h-7l1-8z" }]],
  power: [["path", { d: "M12 3v8" }], ["path", { d: "M6.3 6.8a8 8 0 1 0 11.4 0" }]],
  slow: [["circle", { cx: 12, cy: 13, r: 8 }], ["path", { d: "M12 9v4l2.5 2.5M10 3h4" }]],
  scissors: [["circle", { cx: 6, cy: 6, r: 3 }], ["circle", { cx: 6, cy: 18, r: 3 }],
             ["path", { d: "M8.2 8.2L20 20M8.2 15.8L20 4" }]],
  heal: [["path", { d: "M9 12h6M4.5 12a3.5 3.5 0 0 1 3.5-3.5h2M19.5 12a3.5 3.5 0 0 1-3.5 3.5h-2" }],
         ["path", { d: "M10 15.5H8A3.5 3.5 0 0 1 4.5 12M14 8.5h2a3.5 3.5 0 0 1 3.5 3.5" }]],
  upload: [["path", { d: "M12 15V4M7.5 8.5L12 4l4.5 4.5M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4" }]],
  download: [["path", { d: "M12 4v11M7.5 10.5L12 15l4.5-4.5M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4" }]],
  file: [["path", { d: "M6 3h8l4 4v14H6z" }], ["path", { d: "M14 3v4h4" }]],
  plus: [["path", { d: "M12 5v14M5 12h14" }]],
  sliders: [["path", { d: "M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0" }],
            ["circle", { cx: 16, cy: 6, r: 2 }], ["circle", { cx: 10, cy: 12, r: 2 }],
            ["circle", { cx: 18, cy: 18, r: 2 }]],
  keyboard: [["rect", { x: 2.5, y: 6, width: 19, height: 12, rx: 2 }],
             ["path", { d: "M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10" }]],
  swap: [["path", { d: "M4 8h14l-3.5-3.5M20 16H6l3.5 3.5" }]],
  save: [["path", { d: "M5 3.5h11l3.5 3.5v12.5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1v-15a1 1 0 0 1 1-1z" }],
         ["path", { d: "M8 3.5v5h7v-5M8 20.5v-6h8v6" }]],
  share: [["circle", { cx: 18, cy: 5.5, r: 2.5 }], ["circle", { cx: 6, cy: 12, r: 2.5 }],
          ["circle", { cx: 18, cy: 18.5, r: 2.5 }], ["path", { d: "M8.3 10.9l7.4-4.2M8.3 13.1l7.4 4.2" }]],
  eye: [["path", { d: "M2.5 12s3.5-6.5 9.5-6.5 9.5 6.5 9.5 6.5-3.5 6.5-9.5 6.5S2.5 12 2.5 12z" }],
        ["circle", { cx: 12, cy: 12, r: 3 }]],
  external: [["path", { d: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5" }]],
  logout: [["path", { d: "M14 4h4.5a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H14M10 16.5L5.5 12 10 7.5M5.5 12H15" }]],
  pencil: [["path", { d: "M4 20h4L19.5 8.5a2.1 2.1 0 0 0-4-4L4 16z" }], ["path", { d: "M13.5 6.5l4 4" }]],
  user: [["circle", { cx: 12, cy: 8, r: 4 }], ["path", { d: "M4.5 20.5a7.5 7.5 0 0 1 15 0" }]],
  logo: [["circle", { cx: 5, cy: 12, r: 2.5 }], ["circle", { cx: 19, cy: 5.5, r: 2.5 }],
         ["circle", { cx: 19, cy: 18.5, r: 2.5 }],
         ["path", { d: "M7.3 11l9.4-4.4M7.3 13l9.4 4.4" }]],
};

/** Tile colours per kind: a soft tint behind a strong glyph. Unknown kinds get slate. */
export const KIND_COLORS = {
  client: { tint: "#dbeafe", ink: "#1d4ed8" },
  load_balancer: { tint: "#ede9fe", ink: "#6d28d9" },
  dns: { tint: "#cffafe", ink: "#0e7490" },
  cdn: { tint: "#ecfccb", ink: "#4d7c0f" },
  reverse_proxy: { tint: "#fae8ff", ink: "#a21caf" },
  rate_limiter: { tint: "#fef9c3", ink: "#a16207" },
  waf: { tint: "#fee2e2", ink: "#b91c1c" },
  service: { tint: "#ccfbf1", ink: "#0f766e" },
  cache: { tint: "#fef3c7", ink: "#b45309" },
  database: { tint: "#e0e7ff", ink: "#4338ca" },
  queue: { tint: "#fce7f3", ink: "#be185d" },
  worker: { tint: "#e0f2fe", ink: "#0369a1" },
  topic: { tint: "#ffedd5", ink: "#c2410c" },
  exchange: { tint: "#ffe4e6", ink: "#be123c" },
  shard_router: { tint: "#dcfce7", ink: "#15803d" },
  kv_store: { tint: "#f3e8ff", ink: "#7e22ce" },
  generic: { tint: "#e2e8f0", ink: "#475569" },
};

function kindColors(kind) {
  return KIND_COLORS[kind] || KIND_COLORS.generic;
}

function kindIconName(kind) {
  return ICONS[kind] && KIND_COLORS[kind] ? kind : "generic";
}

/** An <svg> element for icon `name`, sized `size` px, decorative unless `title` is given. */
export function icon(name, { size = 18, title = "", strokeWidth = 2 } = {}) {
  const shapes = ICONS[name] || ICONS.generic;
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", String(strokeWidth));
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.classList.add("icon");
  if (title) {
    svg.setAttribute("role", "img");
    const t = document.createElementNS(SVG_NS, "title");
    t.textContent = title;
    svg.append(t);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  for (const [tag, attrs] of shapes) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.append(el);
  }
  return svg;
}

/** A kind's icon on its coloured tile, as a DOM element (palette, inspector header). */
export function kindTile(kind, size = 32) {
  const { tint, ink } = kindColors(kind);
  const tile = document.createElement("span");
  tile.className = "kind-tile";
  tile.style.background = tint;
  tile.style.color = ink;
  tile.style.width = tile.style.height = `${size}px`;
  tile.append(icon(kindIconName(kind), { size: Math.round(size * 0.6) }));
  return tile;
}

const tileCache = new Map();

/** A data: URL of the tile for Cytoscape node backgrounds (constants only, no user text). */
export function kindTileURL(kind, { muted = false } = {}) {
  const key = `${kind}|${muted}`;
  if (tileCache.has(key)) return tileCache.get(key);
  const colors = muted ? { tint: "#e5e7eb", ink: "#6b7280" } : kindColors(kind);
  const shapes = ICONS[kindIconName(kind)];
  const body = shapes.map(([tag, attrs]) => {
    const a = Object.entries(attrs).map(([k, v]) => `${k}="${String(v)}"`).join(" ");
    return `<${tag} ${a}/>`;
  }).join("");
  const svg = `<svg xmlns="${SVG_NS}" width="72" height="72" viewBox="0 0 36 36">`
    + `<rect width="36" height="36" rx="9" fill="${colors.tint}"/>`
    + `<g transform="translate(6 6)" fill="none" stroke="${colors.ink}" stroke-width="2" `
    + `stroke-linecap="round" stroke-linejoin="round">${body}</g></svg>`;
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  tileCache.set(key, url);
  return url;
}

// Live charts (uPlot) over the last ~60 s of simulated time, in one of four views:
// "total" (every request together: latency p50/p95/p99, ok rps, error ratio, from each
// frame's summary), "clients" (one series per client: its latency percentile, ok rps and
// error ratio, from the client's own frame fields), "classes" (the same per request class,
// from its client's `classes`) and "components" (one series per chosen
// component: utilisation, arrivals, queue). Each figure's history is kept per source, so
// switching between views keeps what was seen; the charts redraw at most once per
// animation frame.

import uPlot from "../vendor/uplot-1.6.32/uPlot.esm.js";
import { h } from "./dom.js";
import { compact, num, percent, shortClock } from "./format.js";
import { classValue } from "./classes.js";

const WINDOW_S = 60;
const SMOOTH_S = 1; // per-frame rates are noisy: an exponential average over ~1 simulated second
const DRAW_MS = 200;
const MAX_SERIES = 12; // more lines than this on one small chart cannot be told apart
const AXIS = { stroke: "#667085", font: "11px system-ui, sans-serif",
               grid: { stroke: "#eef0f3", width: 1 }, ticks: { show: false } };
// Colours told apart also by people with the common colour-vision deficiencies (Okabe-Ito,
// then Tableau's), in the order series are added.
const COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7f7f7f",
                "#8c564b", "#bcbd22", "#17becf", "#1f2937", "#9467bd"];

const latencyFmt = (v) => (v === null || v === undefined ? "—" : num(v, v >= 10 ? 0 : 1));
const rpsFmt = (v) => (v === null || v === undefined ? "—" : `${num(v, 0)} rps`);
const ratioFmt = (v) => (v === null || v === undefined ? "—" : percent(v, v < 0.1 && v > 0 ? 1 : 0));

/** What can be charted, by frame field: title, unit, format, axis, least y range. */
const FIGURES = {
  mean: { title: "Latency mean", unit: "ms", fmt: latencyFmt, axis: compact, max: 10 },
  p50: { title: "Latency p50", unit: "ms", fmt: latencyFmt, axis: compact, max: 10 },
  p95: { title: "Latency p95", unit: "ms", fmt: latencyFmt, axis: compact, max: 10 },
  p99: { title: "Latency p99", unit: "ms", fmt: latencyFmt, axis: compact, max: 10 },
  ok_rps: { title: "Throughput", unit: "ok rps", fmt: rpsFmt, axis: compact, max: 10, smooth: true },
  error_ratio: { title: "Errors", unit: "of requests", fmt: ratioFmt, axis: (v) => percent(v), max: 0.05, smooth: true },
  util: { title: "Utilisation", unit: "busy", fmt: (v) => (v === null || v === undefined ? "—" : percent(v)), axis: (v) => percent(v), max: 1 },
  rps: { title: "Arrivals", unit: "rps", fmt: rpsFmt, axis: compact, max: 10, smooth: true },
  queue: { title: "Queue", unit: "waiting", fmt: (v) => num(v, 0), axis: compact, max: 5 },
};
const LATENCIES = ["p99", "p95", "p50", "mean"];
const COMPONENT_FIGURES = ["util", "rps", "queue"];
const CLIENT_CARDS = ["latency", "throughput", "errors"]; // the cards' ids, as in the total view
const SUMMARY_KEYS = ["p50", "p95", "p99", "ok_rps", "error_ratio"];
const CLIENT_KEYS = [...LATENCIES, "ok_rps", "error_ratio"];

/** Short legend labels: "Users (round robin)", "Users (random)" are told apart by what is in
 * the brackets, so when every label has the same head, the brackets' text is shown. */
function distinct(labels) {
  const parts = labels.map((l) => /^(.*\S)\s*\((.+)\)$/.exec(l));
  const same = labels.length > 1 && parts.every((m) => m && m[1] === parts[0][1]);
  return same ? parts.map((m) => m[2]) : labels;
}

/** The three charts of a view: each {id, figure, title, unit, series: [{source, key, label, color}]}. */
function chartsOf(view, clients, labelOf, classes = []) {
  if (view.mode === "total") {
    return [
      { id: "latency", ...FIGURES.p50, title: "Latency",
        series: [["p50", "#14b8a6"], ["p95", "#6366f1"], ["p99", "#e11d48"]]
          .map(([key, color]) => ({ source: "", key, label: key, color })) },
      { id: "throughput", ...FIGURES.ok_rps,
        series: [{ source: "", key: "ok_rps", label: "ok", color: "#16a34a", fill: "rgba(22,163,74,0.10)" }] },
      { id: "errors", ...FIGURES.error_ratio,
        series: [{ source: "", key: "error_ratio", label: "errors", color: "#dc2626", fill: "rgba(220,38,38,0.10)" }] },
    ];
  }
  const perRequest = view.mode === "clients" || view.mode === "classes";
  const ids = (view.mode === "clients" ? clients : view.mode === "classes" ? classes
    : view.components).slice(0, MAX_SERIES);
  // a class's line is its name; its client's label says whose, on hovering
  const classLabel = (src) => src.slice(src.indexOf("/") + 1);
  const titleOf = view.mode === "classes" ? (src) => `${labelOf(src.slice(0, src.indexOf("/")))}: ${classLabel(src)}` : labelOf;
  const labels = view.mode === "classes" ? ids.map(classLabel) : distinct(ids.map(labelOf));
  const figures = perRequest ? [view.latency, "ok_rps", "error_ratio"] : COMPONENT_FIGURES;
  return figures.map((figure, i) => ({
    id: perRequest ? CLIENT_CARDS[i] : figure, figure, ...FIGURES[figure],
    series: ids.map((id, j) => ({ source: id, key: figure, label: labels[j], title: titleOf(id),
                                  color: COLORS[j % COLORS.length] })),
  }));
}

export class Charts {
  /** root: the charts' element; labelOf(id): a component's label; clients(): the ids of
   * the design's clients, in order. */
  constructor(root, { labelOf = (id) => id, clients = () => [], classes = () => [] } = {}) {
    Object.assign(this, { root, labelOf, clients, classes });
    this.t = [];
    this.values = new Map(); // "source|key" -> values aligned with this.t ("" is the summary)
    this.smoothed = new Map();
    this.warmup = 0;
    this.dirty = false;
    this.drawnAt = -Infinity;
    this.tracking = false;
    this.view = { mode: "total", latency: "p99", components: [], since: null };
    this.bar = this.buildBar();
    this.grid = h("div", { class: "charts-grid" });
    root.append(this.bar.el, this.grid);
    this.charts = [];
    this.rebuild();
  }

  // -- the view -------------------------------------------------------------------------
  buildBar() {
    const button = (mode, text, title) => h("button", {
      type: "button", class: "charts-mode-button", "data-mode": mode, "data-testid": `charts-mode-${mode}`,
      "aria-pressed": "false", title, text, onclick: () => this.onMode(mode) });
    const buttons = [
      button("total", "All requests", "Every request of the design together"),
      button("clients", "Per client", "One line per client: each group's own requests, side by side"),
      button("classes", "Per class", "One line per request class (GET /feed, POST /photo...), side by side"),
      button("components", "Components", "One line per chosen component: select them on the canvas (Shift+click for several), then press this"),
    ];
    const caption = h("span", { class: "charts-caption", "data-testid": "charts-caption" });
    const el = h("div", { class: "charts-bar", role: "group", "aria-label": "What the charts show" },
      h("span", { class: "charts-bar-label", text: "Charts" }), h("div", { class: "charts-modes" }, buttons), caption);
    return { el, buttons, caption };
  }

  /** The mode buttons ask for the selection; main.js sets it (setSelectionSource). */
  setSelectionSource(selected) {
    this.selected = selected;
  }

  onMode(mode) {
    if (mode === "components") {
      const ids = this.selected?.() || [];
      if (ids.length < 1) {
        this.bar.caption.textContent = "Select components on the canvas (Shift+click for several), then press Components.";
        return;
      }
      this.setView({ compare: ids });
      return;
    }
    this.setView({ compare: mode === "clients" || mode === "classes" ? mode : null });
  }

  /** compare: null (every request together), "clients", or a list of component ids. */
  setView({ compare }) {
    if (Array.isArray(compare) && compare.length) {
      const fresh = compare.filter((id) => !this.values.has(`${id}|util`));
      this.view = { ...this.view, mode: "components", components: [...compare],
                    since: fresh.length && this.t.length ? this.t[this.t.length - 1] : this.view.since };
      if (fresh.length) this.track(fresh.flatMap((id) => COMPONENT_FIGURES.map((k) => `${id}|${k}`)));
    } else {
      this.view = { ...this.view, mode: compare === "clients" || compare === "classes" ? compare : "total" };
    }
    this.rebuild();
  }

  get mode() {
    return this.view.mode;
  }

  /** Start keeping the history of these series (null before now, so they stay aligned). */
  track(keys) {
    for (const k of keys) if (!this.values.has(k)) this.values.set(k, this.t.map(() => null));
  }

  rebuild() {
    for (const c of this.charts) c.plot.destroy();
    this.grid.replaceChildren();
    const clients = this.clients();
    const classes = this.classes();
    this.specs = chartsOf(this.view, clients, this.labelOf, classes);
    this.charts = this.specs.map((spec) => this.build(spec));
    for (const b of this.bar.buttons) b.setAttribute("aria-pressed", String(b.dataset.mode === this.view.mode));
    this.root.dataset.mode = this.view.mode;
    const shown = (ids) => ids.slice(0, MAX_SERIES).map(this.labelOf).join(", ");
    const more = (ids) => (ids.length > MAX_SERIES ? ` (the first ${MAX_SERIES} of ${ids.length})` : "");
    this.bar.caption.textContent = this.view.mode === "total" ? "Every request of the design together"
      : this.view.mode === "clients"
        ? (clients.length ? `Each client's own requests${more(clients)}` : "This design has no client")
        : this.view.mode === "classes"
          ? (classes.length ? `Each request class${more(classes)}` : "No client sends request classes (a client's classes)")
        : `${shown(this.view.components)}${more(this.view.components)}${this.view.since !== null ? `, from ${shortClock(this.view.since)}` : ""}`;
    this.schedule();
  }

  build(spec) {
    const values = spec.series.map((s) => {
      const el = h("span", { class: "chart-value", "data-series": s.source ? `${s.source}:${s.key}` : s.key, title: s.title || s.label },
        h("i", { class: "swatch" }), h("span", { class: "chart-value-label", text: s.label }), h("b", { text: "—" }));
      el.querySelector(".swatch").style.background = s.color;
      return el;
    });
    const body = h("div", { class: "chart-body" });
    const empty = h("div", { class: "chart-empty", text: "Press Play to see it live" });
    let title = h("h3", { text: spec.title });
    if ((this.view.mode === "clients" || this.view.mode === "classes") && spec.id === "latency") {
      const pick = h("select", { class: "chart-pick", "aria-label": "Latency figure", "data-testid": "chart-latency-figure" },
        LATENCIES.map((k) => h("option", { value: k, text: FIGURES[k].title })));
      pick.value = this.view.latency;
      pick.addEventListener("change", () => { this.view = { ...this.view, latency: pick.value }; this.rebuild(); });
      title = h("h3", {}, pick);
    }
    const card = h("section", { class: "chart-card", "data-chart": spec.id },
      h("header", { class: "chart-head" }, title, h("span", { class: "chart-unit", text: spec.unit })),
      h("div", { class: "chart-values" }, values),
      body, empty);
    this.grid.append(card);
    const opts = {
      width: 300, height: 120,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      padding: [6, 18, 0, 0],
      scales: {
        x: { time: false, range: () => this.xRange() },
        y: { range: (u, min, max) => [0, Math.max(spec.max, (max || 0) * 1.15)] },
      },
      axes: [
        { ...AXIS, size: 22, space: 50, values: (u, vals) => vals.map((v) => shortClock(v)) },
        { ...AXIS, size: 46, space: 28, values: (u, vals) => vals.map(spec.axis) },
      ],
      series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.6,
                                                 fill: s.fill, points: { show: false },
                                                 spanGaps: false }))],
    };
    const plot = new uPlot(opts, [[], ...spec.series.map(() => [])], body);
    const resize = new ResizeObserver(() => {
      const w = body.clientWidth, hgt = body.clientHeight;
      if (w > 0 && hgt > 0) plot.setSize({ width: w, height: hgt });
    });
    resize.observe(body);
    const destroy = plot.destroy.bind(plot);
    plot.destroy = () => { resize.disconnect(); destroy(); };
    return { spec, plot, values, card, empty };
  }

  xRange() {
    const last = this.t.length ? this.t[this.t.length - 1] : 0;
    const hi = Math.max(WINDOW_S, last);
    return [hi - WINDOW_S, hi];
  }

  clear() {
    this.t = [];
    this.smoothed = new Map();
    this.tracking = false;
    for (const k of this.values.keys()) this.values.set(k, []);
    if (this.view.since !== null) {
      this.view = { ...this.view, since: null };
      this.rebuild();
    }
    this.schedule();
  }

  /** Latency is counted after the warm-up: say so while the chart waits for it. */
  setWarmup(seconds) {
    this.warmup = seconds || 0;
  }

  /** Add one point at simulated time t: the frame's summary and the run's component states. */
  push(t, summary, components = {}) {
    if (!summary) return;
    if (this.t.length && t < this.t[this.t.length - 1]) this.clear(); // the run went back (reset)
    if (this.t.length && t === this.t[this.t.length - 1]) return;
    const dt = this.t.length ? t - this.t[this.t.length - 1] : 0;
    this.t.push(t);
    const alpha = dt > 0 ? 1 - Math.exp(-dt / SMOOTH_S) : 1;
    if (!this.tracking) { // the summary and every client from the start: any view shows the whole run
      this.tracking = true;
      this.track([...SUMMARY_KEYS.map((k) => `|${k}`),
                  ...this.clients().flatMap((id) => CLIENT_KEYS.map((k) => `${id}|${k}`)),
                  ...this.classes().flatMap((src) => CLIENT_KEYS.map((k) => `${src}|${k}`))]);
    }
    for (const [name, arr] of this.values) {
      const bar = name.lastIndexOf("|"); // a class's name may hold a "|", a figure's never
      const source = name.slice(0, bar), key = name.slice(bar + 1);
      let v = source.includes("/") ? classValue(components, source, key)
        : (source ? components[source] : summary)?.[key];
      v = typeof v === "number" ? v : null;
      if (FIGURES[key]?.smooth && v !== null) {
        const prev = this.smoothed.get(name);
        v = prev === undefined ? v : prev + alpha * (v - prev);
        this.smoothed.set(name, v);
      }
      arr.push(v);
    }
    const cut = t - WINDOW_S - 2;
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < cut) drop += 1;
    if (drop) {
      this.t.splice(0, drop);
      for (const arr of this.values.values()) arr.splice(0, drop);
    }
    this.schedule();
  }

  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    // at most every DRAW_MS: a 60 s window moves a pixel in a tenth of a second, and
    // redrawing up to 36 lines at the frame rate would take time the dots need
    const wait = Math.max(0, this.drawnAt + DRAW_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.draw()), wait);
  }

  series(s) {
    return this.values.get(`${s.source}|${s.key}`) || this.t.map(() => null);
  }

  draw() {
    this.dirty = false;
    this.drawnAt = performance.now();
    const has = this.t.length > 0;
    const last = has ? this.t[this.t.length - 1] : 0;
    for (const { spec, plot, values, card, empty } of this.charts) {
      const data = spec.series.map((s) => this.series(s));
      plot.setData([this.t, ...data]);
      const seen = data.some((arr) => arr.some((v) => v !== null));
      const latency = spec.id === "latency";
      if (!has) {
        empty.textContent = "Press Play to see it live";
      } else if (latency && !seen && last < this.warmup) {
        empty.textContent = `Warm-up: latency is counted from ${shortClock(this.warmup)}`;
      }
      empty.hidden = has && (seen || !latency || last >= this.warmup);
      card.classList.toggle("chart-has-data", has);
      data.forEach((arr, i) => {
        let v = null;
        for (let j = arr.length - 1; j >= 0 && j >= arr.length - 5; j--) {
          if (arr[j] !== null) { v = arr[j]; break; }
        }
        values[i].querySelector("b").textContent = has ? spec.fmt(v) : "—";
      });
    }
  }
}

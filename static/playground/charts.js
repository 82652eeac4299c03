// Live charts (uPlot) over the last ~60 s of simulated time: end-to-end latency p50/p95/p99,
// throughput (ok rps) and error ratio. Points come from each applied frame's summary;
// the charts redraw at most once per animation frame.

import uPlot from "../vendor/uplot-1.6.32/uPlot.esm.js";
import { h } from "./dom.js";
import { compact, num, percent, shortClock } from "./format.js";

const WINDOW_S = 60;
const SMOOTH_S = 1; // per-frame rates are noisy: an exponential average over ~1 simulated second
const AXIS = { stroke: "#667085", font: "11px system-ui, sans-serif",
               grid: { stroke: "#eef0f3", width: 1 }, ticks: { show: false } };

const CHARTS = [
  {
    id: "latency", title: "Latency", unit: "ms",
    series: [
      { key: "p50", label: "p50", color: "#14b8a6" },
      { key: "p95", label: "p95", color: "#6366f1" },
      { key: "p99", label: "p99", color: "#e11d48" },
    ],
    fmt: (v) => (v === null || v === undefined ? "—" : num(v, v >= 10 ? 0 : 1)),
    axis: (v) => compact(v),
    max: 10,
  },
  {
    id: "throughput", title: "Throughput", unit: "ok rps",
    series: [{ key: "ok_rps", label: "ok", color: "#16a34a", fill: "rgba(22,163,74,0.10)", smooth: true }],
    fmt: (v) => (v === null || v === undefined ? "—" : `${num(v, 0)} rps`),
    axis: (v) => compact(v),
    max: 10,
  },
  {
    id: "errors", title: "Errors", unit: "of requests",
    series: [{ key: "error_ratio", label: "errors", color: "#dc2626", fill: "rgba(220,38,38,0.10)", smooth: true }],
    fmt: (v) => (v === null || v === undefined ? "—" : percent(v, v < 0.1 && v > 0 ? 1 : 0)),
    axis: (v) => percent(v),
    max: 0.05,
  },
];

export class Charts {
  constructor(root) {
    this.root = root;
    this.t = [];
    this.values = {};
    this.smoothed = {};
    this.warmup = 0;
    this.dirty = false;
    this.charts = CHARTS.map((spec) => this.build(spec));
  }

  build(spec) {
    const values = spec.series.map((s) => h("span", { class: "chart-value", "data-series": s.key },
      h("i", { class: "swatch" }), h("span", { class: "chart-value-label", text: s.label }),
      h("b", { text: "—" })));
    values.forEach((el, i) => { el.querySelector(".swatch").style.background = spec.series[i].color; });
    const body = h("div", { class: "chart-body" });
    const empty = h("div", { class: "chart-empty", text: "Press Play to see it live" });
    const card = h("section", { class: "chart-card", "data-chart": spec.id },
      h("header", { class: "chart-head" },
        h("h3", { text: spec.title }), h("span", { class: "chart-unit", text: spec.unit })),
      h("div", { class: "chart-values" }, values),
      body, empty);
    this.root.append(card);
    for (const s of spec.series) this.values[s.key] = [];
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
    new ResizeObserver(() => {
      const w = body.clientWidth, hgt = body.clientHeight;
      if (w > 0 && hgt > 0) plot.setSize({ width: w, height: hgt });
    }).observe(body);
    return { spec, plot, values, card, empty };
  }

  xRange() {
    const last = this.t.length ? this.t[this.t.length - 1] : 0;
    const hi = Math.max(WINDOW_S, last);
    return [hi - WINDOW_S, hi];
  }

  clear() {
    this.t = [];
    this.smoothed = {};
    for (const k of Object.keys(this.values)) this.values[k] = [];
    this.schedule();
  }

  /** Latency is counted after the warm-up: say so while the chart waits for it. */
  setWarmup(seconds) {
    this.warmup = seconds || 0;
  }

  /** Add one point from a frame summary at simulated time t. */
  push(t, summary) {
    if (!summary) return;
    if (this.t.length && t < this.t[this.t.length - 1]) this.clear(); // the run went back (reset)
    if (this.t.length && t === this.t[this.t.length - 1]) return;
    const dt = this.t.length ? t - this.t[this.t.length - 1] : 0;
    this.t.push(t);
    const alpha = dt > 0 ? 1 - Math.exp(-dt / SMOOTH_S) : 1;
    for (const spec of CHARTS) {
      for (const sr of spec.series) {
        let v = summary[sr.key];
        v = typeof v === "number" ? v : null;
        if (sr.smooth && v !== null) {
          const prev = this.smoothed[sr.key];
          v = prev === undefined ? v : prev + alpha * (v - prev);
          this.smoothed[sr.key] = v;
        }
        this.values[sr.key].push(v);
      }
    }
    const cut = t - WINDOW_S - 2;
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < cut) drop += 1;
    if (drop) {
      this.t.splice(0, drop);
      for (const k of Object.keys(this.values)) this.values[k].splice(0, drop);
    }
    this.schedule();
  }

  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.dirty = false;
    const has = this.t.length > 0;
    for (const { spec, plot, values, card, empty } of this.charts) {
      plot.setData([this.t, ...spec.series.map((s) => this.values[s.key])]);
      const seen = spec.series.some((sr) => this.values[sr.key].some((v) => v !== null));
      const last = this.t.length ? this.t[this.t.length - 1] : 0;
      if (!has) {
        empty.textContent = "Press Play to see it live";
      } else if (spec.id === "latency" && !seen && last < this.warmup) {
        empty.textContent = `Warm-up: latency is counted from ${shortClock(this.warmup)}`;
      }
      empty.hidden = has && (seen || spec.id !== "latency" || last >= this.warmup);
      card.classList.toggle("chart-has-data", has);
      spec.series.forEach((s, i) => {
        const arr = this.values[s.key];
        let v = null;
        for (let j = arr.length - 1; j >= 0 && j >= arr.length - 5; j--) {
          if (arr[j] !== null) { v = arr[j]; break; }
        }
        values[i].querySelector("b").textContent = has ? spec.fmt(v) : "—";
      });
    }
  }
}

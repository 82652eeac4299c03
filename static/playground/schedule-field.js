// A client's schedule in the inspector: a sparkline of its rate over the run, a choice of
// shape (or a constant rate_rps), and the shape's own fields from the registry (numbers, or
// the points as lines of "t, rps"). A change commits the whole schedule object; the
// validator's messages ("to_rps: is required", "points[3][0]: must be > 5") show under
// the sub-field they name.

import { h } from "./dom.js";
import { numberField } from "./fields.js";
import { inputErrors } from "./input-errors.js";
import { num, paramLabel } from "./format.js";
import { sampleRate, starterSchedule } from "./schedule.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 240;
const HEIGHT = 48;
const CONSTANT = "";

function svg(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The rate from 0 to `duration` as an inline SVG line, filled below, with its caption. */
function sparkline(base, schedule, duration) {
  let drawn;
  try {
    drawn = sampleRate(base, schedule, duration);
  } catch {
    return null; // a schedule being edited into shape: nothing to draw yet
  }
  const { samples, peak } = drawn;
  const top = peak > 0 ? peak : 1;
  const xy = samples.map(([t, r]) => [t / duration * WIDTH, HEIGHT - 2 - r / top * (HEIGHT - 4)]);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const mean = samples.reduce((a, [, r]) => a + r, 0) / samples.length;
  const label = `Rate over the run: from ${num(samples[0][1])} rps, peak ${num(peak)} rps`;
  const el = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "sparkline", role: "img",
                          "aria-label": label, preserveAspectRatio: "none" });
  el.dataset.testid = "schedule-sparkline";
  el.dataset.peak = String(peak);
  el.append(svg("polygon", { class: "sparkline-fill", points: `0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}` }),
            svg("polyline", { class: "sparkline-line", points: line }));
  const caption = h("p", { class: "sparkline-caption" },
    h("span", { text: `peak ${num(peak)} rps` }), h("span", { text: `mean ≈ ${num(mean)} rps` }),
    h("span", { text: `0 – ${num(duration)} s` }));
  return [el, caption];
}

/** Points as text, one "t, rps" a line, and back: {points} or {error}. */
function pointsText(points) {
  return (points || []).map(([t, r]) => `${t}, ${r}`).join("\n");
}

function parsePoints(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return { error: "must have at least 1 point" };
  const points = [];
  for (const [i, line] of lines.entries()) {
    const parts = line.split(/[\s,;]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x))) {
      return { error: `line ${i + 1}: must be two numbers, t_s and rps` };
    }
    if (points.length && parts[0] <= points[points.length - 1][0]) {
      return { error: `line ${i + 1}: times must increase (${parts[0]} after ${points[points.length - 1][0]})` };
    }
    points.push(parts);
  }
  return { points };
}

/**
 * spec: the registry's `schedule` parameter (with its `shapes`). value: the schedule or
 * undefined/null (constant). context(): {base, duration}: the client's rate_rps and the run's
 * length, read at each redraw. onCommit(schedule | undefined).
 */
export function scheduleField({ spec, value, onCommit, context, disabled = false }) {
  let current = value ?? null;
  const select = h("select", { class: "input select", disabled, "aria-label": "Shape of the rate over time" },
    h("option", { value: CONSTANT, text: "Constant (rate_rps throughout)" }),
    spec.shapes.map((s) => h("option", { value: s.name, text: s.title })));
  select.dataset.testid = "field-schedule-shape";
  const chart = h("div", { class: "sparkline-box" });
  const body = h("div", { class: "schedule-fields" });
  const shapeHelp = h("p", { class: "field-help" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const el = h("div", { class: "field field-schedule", "data-field": spec.name },
    h("span", { class: "field-label", text: "Schedule" }), chart, select, shapeHelp, body,
    h("p", { class: "field-help", text: spec.help }), error);
  let subs = new Map(); // sub-field name -> {setServerError, setValue}

  const showError = (msg) => {
    error.textContent = msg;
    error.hidden = !msg;
    el.classList.toggle("field-invalid", !!msg);
  };
  const draw = () => {
    const { base, duration } = context();
    chart.replaceChildren(...(sparkline(base, current, duration) || []));
  };
  const commit = (next) => {
    current = next;
    draw();
    onCommit(next ?? undefined);
  };

  const pointsField = (shape) => {
    const area = h("textarea", { class: "input textarea mono", rows: 5, disabled, spellcheck: "false",
                                 "aria-label": "Points, one 't_s, rps' a line" });
    area.dataset.testid = "field-schedule-points";
    area.value = pointsText(current?.points);
    const err = h("p", { class: "field-error", role: "alert", hidden: true });
    const wrap = h("div", { class: "field", "data-field": "points" },
      h("span", { class: "field-label", text: "Points (t s, rps)" }), area,
      h("p", { class: "field-help", text: shape.params[0].help }), err);
    let mine = "", theirs = "";
    const show = () => {
      const msg = mine || theirs;
      err.textContent = msg;
      err.hidden = !msg;
      wrap.classList.toggle("field-invalid", !!msg);
      inputErrors.set(wrap, mine ? { label: "Points", message: mine, focus: () => area.focus() } : null);
    };
    area.addEventListener("change", () => {
      const r = parsePoints(area.value);
      mine = r.error || "";
      show();
      if (!r.error) commit({ shape: "points", points: r.points });
    });
    subs.set("points", {
      setServerError(msg) { theirs = msg; show(); },
      setValue(points) { // an undo, a live change: unless a person is typing there
        if (document.activeElement !== area) area.value = pointsText(points);
      },
    });
    return wrap;
  };

  const renderShape = () => {
    body.replaceChildren();
    subs = new Map();
    const shape = spec.shapes.find((s) => s.name === current?.shape);
    select.value = shape ? shape.name : CONSTANT;
    shapeHelp.textContent = shape ? shape.help : "The client sends rate_rps from start to end.";
    if (!shape) return;
    for (const p of shape.params) {
      if (p.type === "points") {
        body.append(pointsField(shape));
        continue;
      }
      const field = numberField({
        spec: p, value: current[p.name], disabled, testid: `field-schedule-${p.name}`,
        label: paramLabel(p.name),
        onCommit: (v) => commit({ ...current, [p.name]: v ?? p.default }),
      });
      subs.set(p.name, field);
      body.append(field.el);
    }
  };

  select.addEventListener("change", () => {
    const { base, duration } = context();
    commit(select.value === CONSTANT ? null : starterSchedule(select.value, base, duration, spec));
    renderShape();
  });
  renderShape();
  draw();

  return {
    el, input: select,
    setValue(v) {
      const next = v ?? null;
      const reshape = next?.shape !== current?.shape;
      current = next;
      if (reshape) renderShape();
      else if (next) for (const [name, f] of subs) f.setValue(next[name]);
      draw();
    },
    /** "to_rps: is required" goes under to_rps, "points[3][0]: ..." under the points as
     * line 4's time; anything else under the whole field. */
    setServerError(msg) {
      const m = /^(\w+)[[:]/.exec(msg || "");
      const sub = m && subs.get(m[1]);
      const text = sub ? msg.slice(m[1].length).replace(/^\[(\d+)\](?:\[([01])\])?/, (_, i, j) =>
        `line ${Number(i) + 1}${j === "0" ? " (time)" : j === "1" ? " (rps)" : ""}`).replace(/^:\s*/, "") : "";
      for (const [name, f] of subs) f.setServerError(name === m?.[1] ? text : "");
      showError(sub ? "" : msg || "");
    },
    setDisabled(d) { select.disabled = d; },
  };
}

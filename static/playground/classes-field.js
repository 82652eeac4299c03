// Request classes in the inspector: a client's `classes` and a service's `class_ms` as text,
// one class a line (classes.js parses them; a line the validator would refuse is never
// committed, its message shows under the field), and a link's `classes` as a check box per
// class some client sends, or all of them.

import { h } from "./dom.js";
import { inputErrors } from "./input-errors.js";
import { paramLabel } from "./format.js";
import { classTimesText, classesText, lineMessage, parseClassTimes, parseClasses } from "./classes.js";

const FORMS = {
  classes: { toText: classesText, parse: parseClasses, rows: 4,
             hint: "One a line: name, share, op, keys, key_skew, request_kb, response_kb (all but the first two optional; an empty part is the client's), e.g. POST /photo, 0.05, write, , , 2000" },
  class_times: { toText: classTimesText, parse: parseClassTimes, rows: 3,
                 hint: "One a line: class name, work time in ms, e.g. POST /photo, 40" },
};

/** A client's `classes` or a service's `class_ms` (spec.type "classes" / "class_times"). */
export function classLinesField({ spec, value, onCommit, disabled = false }) {
  const form = FORMS[spec.type];
  const area = h("textarea", { class: "input textarea mono", rows: form.rows, disabled, spellcheck: "false",
                               placeholder: "none", "aria-label": paramLabel(spec.name) });
  area.dataset.testid = `field-${spec.name}`;
  area.value = form.toText(value);
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const el = h("div", { class: "field field-lines", "data-field": spec.name },
    h("span", { class: "field-label", text: paramLabel(spec.name) }), area,
    h("p", { class: "field-help", text: `${spec.help} ${form.hint}.` }), error);
  let mine = "", theirs = "", current = JSON.stringify(value ?? null);
  const show = () => {
    const msg = mine || theirs;
    error.textContent = msg;
    error.hidden = !msg;
    el.classList.toggle("field-invalid", !!msg);
    inputErrors.set(el, mine ? { label: paramLabel(spec.name), message: mine, focus: () => area.focus() } : null);
  };
  area.addEventListener("input", () => { mine = form.parse(area.value).error || ""; show(); });
  area.addEventListener("change", () => {
    const r = form.parse(area.value);
    mine = r.error || "";
    show();
    if (r.error || JSON.stringify(r.value) === current) return;
    current = JSON.stringify(r.value);
    onCommit(r.value ?? undefined);
  });
  return {
    el, input: area,
    setValue(v) { // an undo, a live change: unless a person is typing there
      current = JSON.stringify(v ?? null);
      if (document.activeElement !== area) {
        area.value = form.toText(v);
        mine = "";
        show();
      }
    },
    setServerError(msg) { theirs = lineMessage(msg); show(); },
    setDisabled(d) { area.disabled = d; },
  };
}

/** A link's `classes`: all (null) or those ticked, among `names` (the classes sent). */
export function linkClassesField({ spec, value, names, onCommit, disabled = false }) {
  const all = h("input", { type: "checkbox", disabled });
  all.dataset.testid = "field-classes-all";
  const list = h("div", { class: "class-list" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const el = h("div", { class: "field field-classes", "data-field": spec.name },
    h("span", { class: "field-label", text: "Classes" }),
    h("label", { class: "class-option" }, all, "All classes"), list,
    h("p", { class: "field-help", text: names.length ? spec.help
      : `${spec.help} No client sends request classes yet (a client's classes).` }), error);
  let current = value ?? null;
  const boxes = new Map();
  const draw = () => {
    all.checked = current === null;
    list.replaceChildren();
    boxes.clear();
    // a name the document lists but no client sends stays, so it can be unticked
    for (const name of new Set([...names, ...(current || [])])) {
      const box = h("input", { type: "checkbox", disabled: disabled || current === null });
      box.checked = current === null || current.includes(name);
      box.dataset.testid = `field-class-${name}`;
      box.addEventListener("change", () => {
        const ticked = [...boxes].filter(([, b]) => b.checked).map(([n]) => n);
        current = ticked;
        onCommit(ticked);
      });
      boxes.set(name, box);
      list.append(h("label", { class: "class-option" }, box, name));
    }
  };
  all.addEventListener("change", () => {
    current = all.checked ? null : [...names];
    draw();
    onCommit(current ?? undefined);
  });
  draw();
  return {
    el, input: all,
    setValue(v) { current = v ?? null; draw(); },
    setServerError(msg) {
      error.textContent = msg || "";
      error.hidden = !msg;
      el.classList.toggle("field-invalid", !!msg);
    },
    setDisabled(d) { all.disabled = d; },
  };
}

// Form fields for the inspector and the scenario settings: number (with unit, range check
// on every keystroke, commit on Enter/blur, Escape reverts), choice, toggle, text. A value
// the validator would refuse is never committed; the message is shown under the field and
// the field is listed in input-errors.js (the validity pill and Play read it).

import { h } from "./dom.js";
import { inputErrors } from "./input-errors.js";
import { checkValue, parseNumber } from "./registry.js";
import { bound, num, paramLabel, words } from "./format.js";

let uid = 0;
const nextUid = () => `f${++uid}`;

function shell({ name, label, help, testid, control, suffix, extra, required }) {
  const id = control.id || (control.id = nextUid());
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  const helpEl = help ? h("p", { class: "field-help", id: `${id}-help`, text: help }) : null;
  control.setAttribute("aria-describedby", [helpEl && `${id}-help`, `${id}-error`].filter(Boolean).join(" "));
  if (testid) control.dataset.testid = testid;
  const el = h("div", { class: "field", "data-field": name },
    h("label", { class: "field-label", for: id }, label,
      required ? h("span", { class: "field-required", title: "required", text: " *" }) : null),
    h("div", { class: "field-control" }, control, suffix ? h("span", { class: "field-suffix", text: suffix }) : null, extra),
    helpEl, error);
  let local = "", server = "";
  const labelText = typeof label === "string" ? label : name;
  const show = () => {
    const msg = local || server;
    error.textContent = msg;
    error.hidden = !msg;
    el.classList.toggle("field-invalid", !!msg);
    control.setAttribute("aria-invalid", msg ? "true" : "false");
  };
  return {
    el, error,
    setLocal(msg) {
      local = msg;
      show();
      inputErrors.set(el, msg ? { label: labelText, message: msg, focus: () => control.focus() } : null);
    },
    setServerError(msg) { server = msg || ""; show(); },
  };
}

/** Range text for the help line: "1 – 10000", "> 0", ... */
export function rangeText(spec) {
  const lo = spec.minimum, hi = spec.maximum;
  const min = lo === null || lo === undefined ? "" : `${spec.exclusive_minimum ? ">" : "≥"} ${bound(lo)}`;
  const max = hi === null || hi === undefined || hi > 1e15 ? "" : `≤ ${num(hi)}`;
  return [min, max].filter(Boolean).join(", ");
}

function placeholderFor(spec) {
  if (spec.default === null || spec.default === undefined) {
    return spec.nullable ? "none" : spec.required ? "required" : "";
  }
  return `${typeof spec.default === "number" ? num(spec.default) : spec.default} (default)`;
}

/**
 * A number field. spec: {name, type int|float, unit, minimum, maximum, exclusive_minimum,
 * default, required, nullable, help}. value: the set value or undefined (default).
 * onCommit(value | undefined): undefined = back to the default (or none).
 */
export function numberField({ spec, value, onCommit, label, testid, disabled = false }) {
  const input = h("input", { type: "text", inputmode: spec.type === "int" ? "numeric" : "decimal",
                             autocomplete: "off", spellcheck: "false", class: "input",
                             placeholder: placeholderFor(spec), disabled });
  let current = value;
  const show = (v) => { input.value = v === undefined || v === null ? "" : String(v); };
  show(value);
  const range = rangeText(spec);
  const help = [spec.help, range && `Range ${range}.`].filter(Boolean).join(" ");
  const f = shell({ name: spec.name, label: label || paramLabel(spec.name), help, testid: testid ?? `field-${spec.name}`,
                    control: input, suffix: spec.unit || "", required: spec.required });
  const check = () => {
    const r = parseNumber(spec, input.value);
    if (r.error) return r;
    if (r.value === null && spec.required) return { error: "is required" };
    return r;
  };
  input.addEventListener("input", () => f.setLocal(check().error || ""));
  const commit = () => {
    const r = check();
    if (r.error) {
      f.setLocal(r.error);
      return;
    }
    f.setLocal("");
    const next = r.value === null ? undefined : r.value;
    if (next === current) return;
    current = next;
    onCommit(next);
  };
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      commit();
    } else if (e.key === "Escape") {
      show(current);
      f.setLocal("");
      e.stopPropagation();
      input.blur();
    }
  });
  return {
    ...f, input,
    setValue(v) {
      current = v;
      if (document.activeElement !== input) {
        show(v);
        f.setLocal("");
      }
    },
    setDisabled(d) { input.disabled = d; },
  };
}

/** A choice as a <select>. value undefined = default. */
export function choiceField({ spec, value, onCommit, label, testid, disabled = false, labels = {} }) {
  const select = h("select", { class: "input select", disabled },
    spec.choices.map((c) => h("option", { value: c,
      text: `${labels[c] || words(c)}${c === spec.default ? " (default)" : ""}` })));
  let current = value;
  select.value = value ?? spec.default ?? spec.choices[0];
  const f = shell({ name: spec.name, label: label || paramLabel(spec.name), help: spec.help,
                    testid: testid ?? `field-${spec.name}`, control: select });
  select.addEventListener("change", () => {
    const v = select.value;
    const err = checkValue(spec, v);
    if (err) return f.setLocal(err);
    f.setLocal("");
    if (v === current || (current === undefined && v === spec.default)) return;
    current = v;
    onCommit(v);
  });
  return {
    ...f, input: select,
    setValue(v) { current = v; select.value = v ?? spec.default ?? spec.choices[0]; },
    setDisabled(d) { select.disabled = d; },
  };
}

/** A boolean as a switch. */
export function toggleField({ spec, value, onCommit, label, testid, disabled = false }) {
  const input = h("input", { type: "checkbox", class: "switch", role: "switch", disabled });
  let current = value;
  input.checked = value ?? spec.default ?? false;
  const f = shell({ name: spec.name, label: label || paramLabel(spec.name), help: spec.help,
                    testid: testid ?? `field-${spec.name}`, control: input });
  f.el.classList.add("field-toggle");
  input.addEventListener("change", () => {
    current = input.checked;
    onCommit(input.checked);
  });
  return {
    ...f, input,
    setValue(v) { current = v; input.checked = v ?? spec.default ?? false; },
    setDisabled(d) { input.disabled = d; },
  };
}

/** Free text (labels, ids, names). check(text) -> message or "". */
export function textField({ name, label, value, onCommit, check = () => "", help = "", testid,
                            placeholder = "", multiline = false, maxLength, disabled = false }) {
  const input = multiline
    ? h("textarea", { class: "input textarea", rows: 3, placeholder, maxlength: maxLength, disabled })
    : h("input", { type: "text", class: "input", autocomplete: "off", spellcheck: "false",
                   placeholder, maxlength: maxLength, disabled });
  let current = value ?? "";
  input.value = current;
  const f = shell({ name, label, help, testid: testid ?? `field-${name}`, control: input });
  input.addEventListener("input", () => f.setLocal(check(input.value)));
  const commit = () => {
    const msg = check(input.value);
    f.setLocal(msg);
    if (msg || input.value === current) return;
    current = input.value;
    onCommit(input.value);
  };
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !multiline) {
      e.preventDefault();
      commit();
    } else if (e.key === "Escape") {
      input.value = current;
      f.setLocal("");
      e.stopPropagation();
      input.blur();
    }
  });
  return {
    ...f, input,
    setValue(v) {
      current = v ?? "";
      if (document.activeElement !== input) {
        input.value = current;
        f.setLocal("");
      }
    },
    setDisabled(d) { input.disabled = d; },
  };
}

// Scenario settings, shown in the inspector when nothing is selected: name, description,
// duration, warm-up and seed, the scheduled events (fail/recover/slow/cut/heal at a time),
// and the list of problems the validator found in the whole design.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { numberField, textField } from "./fields.js";
import { checkValue } from "./registry.js";
import { addEvent, removeEvent, setScenario } from "./commands.js";
import { clock, num, plural } from "./format.js";

const ACTIONS = ["fail", "recover", "slow", "partition", "heal"];
const ACTION_TEXT = { fail: "fail", recover: "recover", slow: "slow down", partition: "cut link",
                      heal: "heal link", set: "set" };

export function describeEvent(ev) {
  const target = Array.isArray(ev.target) ? `${ev.target[0]} → ${ev.target[1]}` : ev.target;
  let extra = "";
  if (ev.action === "slow") extra = ` ×${num(ev.params?.factor ?? 1)}`;
  if (ev.action === "set") extra = ` ${Object.entries(ev.params || {}).map(([k, v]) => `${k}=${v === null ? "none" : v}`).join(", ")}`;
  return `${ACTION_TEXT[ev.action] || ev.action} ${target}${extra}`;
}

export class ScenarioPanel {
  constructor({ bus, store, registry, player, validator }) {
    Object.assign(this, { bus, store, registry, player, validator });
    this.fields = new Map();
  }

  render() {
    const doc = this.store.doc;
    const locked = this.store.locked;
    this.fields = new Map();
    const root = h("div", { class: "scenario-panel" });
    root.append(h("header", { class: "panel-header" },
      h("span", { class: "kind-tile link-tile" }, icon("sliders", { size: 20 })),
      h("div", { class: "panel-titles" },
        h("h2", { class: "panel-title", text: "Scenario" }),
        h("p", { class: "panel-subtitle", text: `${plural(doc.components.length, "component")} · ${plural(doc.links.length, "link")}` }))));
    this.subtitle = root.querySelector(".panel-subtitle");
    this.problemsBox = h("div", { class: "scenario-problems" });
    root.append(this.problemsBox);
    const main = h("section", { class: "panel-section" });
    const fieldSpec = (name) => this.registry.field("scenario", name);
    const name = textField({
      name: "name", label: "Name", value: doc.name, maxLength: fieldSpec("name").max_length,
      check: (v) => checkValue(fieldSpec("name"), v),
      onCommit: (v) => this.store.exec(setScenario(this.store.doc, { name: v })),
    });
    const description = textField({
      name: "description", label: "Description", value: doc.description || "", multiline: true,
      maxLength: fieldSpec("description").max_length, placeholder: "What this design shows, what to try…",
      onCommit: (v) => this.store.exec(setScenario(this.store.doc, { description: v || undefined })),
    });
    this.fields.set("name", name);
    this.fields.set("description", description);
    main.append(name.el, description.el);
    const timing = h("section", { class: "panel-section panel-grid" },
      h("h3", { class: "section-title", text: "Run" }));
    for (const spec of this.registry.fields.scenario.filter((f) => f.type !== "text")) {
      const field = numberField({
        spec, value: doc[spec.name], disabled: locked,
        label: { duration_s: "Duration", warmup_s: "Warm-up", seed: "Seed" }[spec.name],
        onCommit: (v) => this.store.exec(setScenario(this.store.doc, { [spec.name]: v })),
      });
      this.fields.set(spec.name, field);
      timing.append(field.el);
    }
    this.events = this.eventsSection(locked);
    this.eventsKey = this.eventsSignature();
    root.append(main, timing, this.events);
    if (locked) {
      root.append(h("p", { class: "muted small", text: "Run settings and scheduled events are fixed while a run plays." }));
    }
    this.showProblems(this.validator.problems);
    return root;
  }

  eventsSection(locked) {
    const doc = this.store.doc;
    const section = h("section", { class: "panel-section" },
      h("h3", { class: "section-title", text: "Scheduled events" }));
    const events = doc.events || [];
    if (!events.length) {
      section.append(h("p", { class: "muted small", text: "None. Schedule a failure to see how the design copes." }));
    }
    const list = h("ol", { class: "event-list" });
    events.forEach((ev, i) => {
      list.append(h("li", { class: "event-item", "data-index": i },
        h("span", { class: "event-time", text: clock(ev.at_s) }),
        h("span", { class: `event-action action-${ev.action}`, text: describeEvent(ev) }),
        locked ? null : h("button", { type: "button", class: "icon-button", "aria-label": `Remove: ${describeEvent(ev)}`,
                                      title: "Remove", onclick: () => this.store.exec(removeEvent(this.store.doc, i)) },
          icon("close", { size: 14 }))));
    });
    section.append(list);
    if (!locked && doc.components.length) section.append(this.eventForm());
    return section;
  }

  eventForm() {
    const doc = this.store.doc;
    const at = h("input", { type: "text", inputmode: "decimal", class: "input input-narrow",
                            "aria-label": "At second", placeholder: "at s", "data-testid": "event-at" });
    const action = h("select", { class: "input select", "aria-label": "Action", "data-testid": "event-action" },
      ACTIONS.map((a) => h("option", { value: a, text: ACTION_TEXT[a] })));
    const target = h("select", { class: "input select", "aria-label": "Target", "data-testid": "event-target" });
    const factor = h("input", { type: "text", inputmode: "decimal", class: "input input-narrow", value: "3",
                                "aria-label": "Slow-down factor", title: "Slow-down factor" });
    const error = h("p", { class: "field-error", hidden: true, role: "alert" });
    const fillTargets = () => {
      const onLink = action.value === "partition" || action.value === "heal";
      const options = onLink
        ? doc.links.map((l) => [`${l.from}>${l.to}`, `${l.from} → ${l.to}`])
        : doc.components.map((c) => [c.id, c.label ? `${c.label} (${c.id})` : c.id]);
      target.replaceChildren(...options.map(([v, t]) => h("option", { value: v, text: t })));
      factor.hidden = action.value !== "slow";
    };
    action.addEventListener("change", fillTargets);
    fillTargets();
    const add = () => {
      const t = Number(at.value);
      const fail = (msg) => { error.textContent = msg; error.hidden = false; };
      if (at.value.trim() === "" || !Number.isFinite(t)) return fail("at_s: must be a number");
      if (t < 0) return fail("at_s: must be >= 0");
      if (t > this.store.doc.duration_s) return fail(`at_s: must be <= duration_s (${this.store.doc.duration_s})`);
      if (!target.value) return fail("target: pick a component or link");
      const ev = { at_s: t, action: action.value,
                   target: action.value === "partition" || action.value === "heal" ? target.value.split(">") : target.value };
      if (action.value === "slow") {
        const f = Number(factor.value);
        if (!(f > 0 && f <= 1000)) return fail("factor: must be a number in (0, 1000]");
        ev.params = { factor: f };
      }
      error.hidden = true;
      this.store.exec(addEvent(ev));
    };
    return h("div", { class: "event-form" },
      h("div", { class: "event-form-row" }, at, action, factor),
      h("div", { class: "event-form-row" }, target,
        h("button", { type: "button", class: "button button-small", onclick: add, "data-testid": "event-add" },
          icon("plus", { size: 14 }), "Schedule")),
      error);
  }

  /** What the events section shows: the events, and the targets its form offers. */
  eventsSignature() {
    const doc = this.store.doc;
    return JSON.stringify([doc.events || [], doc.components.map((c) => [c.id, c.label]),
                           doc.links.map((l) => [l.from, l.to]), this.store.locked]);
  }

  refresh() {
    const doc = this.store.doc;
    if (this.subtitle) this.subtitle.textContent = `${plural(doc.components.length, "component")} · ${plural(doc.links.length, "link")}`;
    for (const [name, field] of this.fields) field.setValue(doc[name] ?? (name === "description" ? "" : undefined));
    // an import, an undo or the form itself changed the events: the list shows the design's
    const key = this.eventsSignature();
    if (this.events?.isConnected && key !== this.eventsKey) {
      const next = this.eventsSection(this.store.locked);
      this.events.replaceWith(next);
      this.events = next;
      this.eventsKey = key;
    }
  }

  showProblems(problems) {
    for (const [name, field] of this.fields) {
      field.setServerError(problems.forScenario(name)[0]?.message || "");
    }
    if (!this.problemsBox) return;
    const items = problems.items.filter((p) => p.kind !== "scenario");
    if (!items.length) {
      this.problemsBox.replaceChildren();
      this.problemsBox.hidden = true;
      return;
    }
    this.problemsBox.hidden = false;
    this.problemsBox.replaceChildren(
      h("h3", { class: "section-title danger" }, icon("alert", { size: 14 }),
        ` ${plural(items.length, "problem")} to fix before playing`),
      h("ul", { class: "problem-list" }, items.map((p) => h("li", {},
        h("button", {
          type: "button", class: "problem-item",
          onclick: () => {
            if (p.kind === "component" && p.id) this.store.select({ components: [p.id] });
            else if (p.kind === "link" && p.key) this.store.select({ links: [p.key] });
          },
        }, p.where ? h("b", { text: p.where }) : null, p.where ? " " : null,
        h("span", { text: p.field ? `${p.field}: ${p.message}` : p.message }))))));
  }
}

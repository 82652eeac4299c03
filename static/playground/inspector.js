// The inspector (right side), generated from the registry: the selected component (label,
// id, every parameter), the selected link (latency, route, weight, kind, replication
// fields), several selected things, or, with nothing selected, the scenario settings.
// While a run is live, parameter edits go to the run as `set` commands instead.

import { h, clear } from "./dom.js";
import { icon, kindTile } from "./icons.js";
import { choiceField, numberField, textField, toggleField } from "./fields.js";
import { scheduleField } from "./schedule-field.js";
import { classLinesField, linkClassesField } from "./classes-field.js";
import { classNames } from "./classes.js";
import { ID_MESSAGE, ID_PATTERN, checkValue } from "./registry.js";
import { renameComponent, setLabel, setLink, setParams } from "./commands.js";
import { linkKey } from "./topology.js";
import { ScenarioPanel } from "./scenario-panel.js";

const FAILURE_PARAMS = new Set(["mtbf_s", "mttr_s"]);

export class Inspector {
  constructor(root, { bus, store, registry, player, validator, actions, connector, toaster }) {
    Object.assign(this, { root, bus, store, registry, player, validator, actions, connector, toaster });
    this.fields = new Map(); // name -> field
    this.key = "";
    this.scenarioPanel = new ScenarioPanel({ bus, store, registry, player, validator });
    bus.on("selection:changed", () => this.render());
    bus.on("doc:changed", () => this.render());
    bus.on("lock:changed", () => this.render(true));
    bus.on("run:changed", () => this.render());
    bus.on("run:command", () => this.refresh());
    bus.on("run:snapshot", () => this.refresh());
    bus.on("validation:changed", () => this.showProblems());
    bus.on("inspector:focus", ({ id, field }) => {
      if (id) this.store.select({ components: [id] });
      this.render();
      const f = this.fields.get(field);
      f?.input?.focus();
      f?.input?.select?.();
    });
    this.render(true);
  }

  get liveEdit() {
    return this.player.live && this.store.locked;
  }

  signature() {
    const single = this.store.single();
    const lock = `${this.store.locked}|${this.player.live}|${this.player.owner}`;
    if (!single) {
      const { components, links } = this.store.selection;
      if (!components.size && !links.size) return `scenario|${lock}`;
      return `multi|${components.size}|${links.size}|${lock}`;
    }
    if (single.type === "component") {
      const c = this.store.component(single.id);
      return `c|${single.id}|${c?.kind}|${lock}`;
    }
    const l = this.store.link(single.key);
    return `l|${single.key}|${l?.kind || "call"}|${lock}`;
  }

  render(force = false) {
    const sig = this.signature();
    if (!force && sig === this.key) {
      this.refresh();
      return;
    }
    this.key = sig;
    this.fields = new Map();
    this.refreshers = [];
    const keepScroll = this.root.scrollTop;
    clear(this.root);
    const single = this.store.single();
    if (!single) {
      const { components, links } = this.store.selection;
      if (!components.size && !links.size) this.root.append(this.scenarioPanel.render());
      else this.renderMulti(components.size, links.size);
    } else if (single.type === "component") {
      this.renderComponent(single.id);
    } else {
      this.renderLink(single.key);
    }
    this.root.scrollTop = sig.startsWith("scenario") ? keepScroll : 0;
    this.showProblems();
    if (this.store.readOnly) {
      for (const el of this.root.querySelectorAll("input, select, textarea")) el.disabled = true;
    }
  }

  refresh() {
    if (this.key.startsWith("scenario")) {
      this.scenarioPanel.refresh();
      return;
    }
    for (const fn of this.refreshers || []) fn();
  }

  // -- component -----------------------------------------------------------------------
  renderComponent(id) {
    const c = this.store.component(id);
    if (!c) return;
    const k = this.registry.kind(c.kind);
    const live = this.liveEdit;
    const canLive = live && this.player.canCommand;
    const header = h("header", { class: "panel-header" },
      kindTile(c.kind, 40),
      h("div", { class: "panel-titles" },
        h("h2", { class: "panel-title", text: c.label || c.id }),
        h("p", { class: "panel-subtitle", text: `${k.title}${this.registry.has(c.kind) ? "" : " (unknown kind)"}` })));
    const titleEl = header.querySelector(".panel-title");
    this.refreshers.push(() => { const cc = this.store.component(id); if (cc) titleEl.textContent = cc.label || cc.id; });
    this.root.append(header);
    if (k.help) this.root.append(h("p", { class: "panel-help", text: k.help }));
    if (live) {
      this.root.append(h("div", { class: "live-note" }, icon("bolt", { size: 14 }),
        h("span", { text: canLive
          ? "Live: a change here applies to the running simulation at its current time. The design keeps its own values."
          : "You are watching this run: parameters are read-only." })));
    }

    const identity = h("section", { class: "panel-section" });
    const labelSpec = this.registry.field("component", "label");
    const label = textField({
      name: "label", label: "Label", value: c.label || "", placeholder: c.id, maxLength: labelSpec.max_length,
      help: "Shown on the canvas; the id is used when none is set.",
      check: (v) => checkValue(labelSpec, v),
      onCommit: (v) => this.store.exec(setLabel(this.store.doc, id, v.trim())),
    });
    const idField = textField({
      name: "id", label: "ID", value: c.id, disabled: this.store.locked,
      help: this.store.locked ? "Stop the run to rename." : "Links and scheduled events follow a rename.",
      check: (v) => {
        if (!ID_PATTERN.test(v)) return ID_MESSAGE;
        if (v !== id && this.store.ids().has(v)) return `duplicate id '${v}'`;
        return "";
      },
      onCommit: (v) => this.store.exec(renameComponent(id, v)),
    });
    this.fields.set("label", label);
    this.fields.set("id", idField);
    this.refreshers.push(() => {
      const cc = this.store.component(id);
      if (cc) { label.setValue(cc.label || ""); label.input.placeholder = cc.id; }
    });
    identity.append(label.el, idField.el);
    this.root.append(identity);

    const main = h("section", { class: "panel-section" }, h("h3", { class: "section-title", text: "Parameters" }));
    const failures = h("details", { class: "panel-section panel-details" },
      h("summary", { class: "section-title", text: "Failures" }));
    const values = () => (live ? this.player.paramsNow(id) || this.store.component(id)?.params || {}
      : this.store.component(id)?.params || {});
    for (const spec of k.params) {
      const current = values();
      const value = Object.hasOwn(current, spec.name) ? current[spec.name] : undefined;
      const onCommit = (v) => this.commitParam(id, spec, v);
      const opts = { spec, value, onCommit, disabled: live && !canLive };
      const field = spec.type === "choice" ? choiceField(opts)
        : spec.type === "bool" ? toggleField(opts)
          : spec.type === "schedule" ? scheduleField({ ...opts, context: () => ({
            base: values().rate_rps ?? 0, duration: this.store.doc.duration_s || 60 }) })
            : spec.type === "classes" || spec.type === "class_times" ? classLinesField(opts)
              : numberField(opts);
      this.fields.set(spec.name, field);
      this.refreshers.push(() => {
        const now = values();
        field.setValue(Object.hasOwn(now, spec.name) ? now[spec.name] : undefined);
        if (live) {
          const design = this.store.component(id)?.params || {};
          field.el.classList.toggle("field-live-changed",
            JSON.stringify(now[spec.name]) !== JSON.stringify(design[spec.name]));
        }
      });
      (FAILURE_PARAMS.has(spec.name) ? failures : main).append(field.el);
      if (FAILURE_PARAMS.has(spec.name) && value !== undefined && value !== null) failures.open = true;
    }
    this.root.append(main);
    if (failures.children.length > 1) this.root.append(failures);

    this.root.append(this.linksOf(id));
    if (!this.store.locked) {
      this.root.append(h("div", { class: "panel-actions" },
        h("button", { type: "button", class: "button", onclick: () => this.connector.start(id, "click") },
          icon("link", { size: 15 }), "Connect…"),
        h("button", { type: "button", class: "button", onclick: () => this.actions.duplicate() },
          icon("copy", { size: 15 }), "Duplicate"),
        h("button", { type: "button", class: "button button-danger", onclick: () => this.actions.deleteSelection() },
          icon("trash", { size: 15 }), "Delete")));
    }
    this.refresh();
  }

  commitParam(id, spec, v) {
    if (this.liveEdit) {
      if (!this.player.owner) return;
      const value = v === undefined ? spec.default : v;
      this.player.command({ action: "set", target: id, params: { [spec.name]: value } });
      return;
    }
    this.store.exec(setParams(this.store.doc, id, { [spec.name]: v }));
  }

  linksOf(id) {
    const doc = this.store.doc;
    const out = doc.links.filter((l) => l.from === id);
    const inc = doc.links.filter((l) => l.to === id);
    const chip = (l, other, dir) => h("button", {
      type: "button", class: "link-chip",
      title: `Select the link ${l.from} → ${l.to}`,
      onclick: () => this.store.select({ links: [linkKey(l)] }),
    }, dir === "out" ? "→ " : "← ", other, l.kind === "replication" ? h("span", { class: "chip-tag", text: "replica" }) : null);
    const section = h("section", { class: "panel-section" }, h("h3", { class: "section-title", text: "Links" }));
    if (!out.length && !inc.length) {
      section.append(h("p", { class: "muted small", text: "Not linked yet. Drag from the round handle on its right edge, or press L." }));
    } else {
      if (inc.length) section.append(h("div", { class: "chip-row" }, h("span", { class: "chip-row-label", text: "From" }), inc.map((l) => chip(l, l.from, "in"))));
      if (out.length) section.append(h("div", { class: "chip-row" }, h("span", { class: "chip-row-label", text: "To" }), out.map((l) => chip(l, l.to, "out"))));
    }
    return section;
  }

  // -- link ----------------------------------------------------------------------------
  renderLink(key) {
    const l = this.store.link(key);
    if (!l) return;
    const locked = this.store.locked;
    const replication = l.kind === "replication";
    this.root.append(h("header", { class: "panel-header" },
      h("span", { class: "kind-tile link-tile" }, icon("link", { size: 22 })),
      h("div", { class: "panel-titles" },
        h("h2", { class: "panel-title", text: `${l.from} → ${l.to}` }),
        h("p", { class: "panel-subtitle", text: replication ? "Replication link" : "Call link" }))));
    if (locked) {
      this.root.append(h("div", { class: "live-note" }, icon("alert", { size: 14 }),
        h("span", { text: "Link settings are fixed while a run plays. Cut or heal it from the run panel above or the right-click menu; stop the run to edit." })));
    }
    const section = h("section", { class: "panel-section" });
    const { link, replication: replicationFields, network, exchange } = this.registry.fields;
    // a replication link copies every write: it carries no classes, no payloads; a link out
    // of an exchange is a binding, with its key or pattern
    const fromExchange = this.store.doc.components.find((c) => c.id === l.from)?.kind === "exchange";
    const specs = replication ? [...link.filter((s) => s.type !== "names"), ...replicationFields]
      : [...(fromExchange ? exchange ?? [] : []), ...link, ...network];
    for (const spec of specs) {
      const value = Object.hasOwn(l, spec.name) ? l[spec.name] : undefined;
      const onCommit = (v) => this.commitLink(key, spec.name, v);
      const opts = { spec, value, onCommit, disabled: locked };
      const field = spec.type === "choice" ? choiceField(opts)
        : spec.type === "text" ? textField({
          name: spec.name, label: "Binding", value, help: spec.help, disabled: locked,
          maxLength: spec.max_length, onCommit: (v) => onCommit(v.trim() || undefined) })
        : spec.type === "names" ? linkClassesField({ ...opts, names: classNames(this.store.doc) })
          : spec.type === "bool" ? toggleField(opts) : numberField(opts);
      this.fields.set(spec.name, field);
      this.refreshers.push(() => {
        const now = this.store.link(key);
        if (now) field.setValue(Object.hasOwn(now, spec.name) ? now[spec.name] : undefined);
      });
      section.append(field.el);
    }
    this.root.append(section);
    if (!locked) {
      this.root.append(h("div", { class: "panel-actions" },
        h("button", { type: "button", class: "button", onclick: () => this.swap(key) },
          icon("swap", { size: 15 }), "Reverse"),
        h("button", { type: "button", class: "button button-danger", onclick: () => this.actions.deleteSelection() },
          icon("trash", { size: 15 }), "Delete link")));
    }
  }

  commitLink(key, name, v) {
    const l = this.store.link(key);
    if (!l) return;
    const changes = { [name]: v };
    if (name === "kind") {
      if (v === "call" || v === undefined) {
        for (const extra of ["mode", "lag_ms", "lag_dist"]) if (Object.hasOwn(l, extra)) changes[extra] = undefined;
        changes.kind = undefined;
      } else { // a replication link carries no payloads or protocols
        for (const spec of this.registry.fields.network) if (Object.hasOwn(l, spec.name)) changes[spec.name] = undefined;
      }
    }
    this.store.exec(setLink(this.store.doc, key, changes));
  }

  swap(key) {
    const l = this.store.link(key);
    if (!l) return;
    if (this.store.link(`${l.to}>${l.from}`)) {
      this.toaster.show({ title: "Cannot reverse", message: "a link already goes the other way", tone: "warn" });
      return;
    }
    this.store.exec(setLink(this.store.doc, key, { from: l.to, to: l.from }));
    this.store.select({ links: [`${l.to}>${l.from}`] });
  }

  // -- several -------------------------------------------------------------------------
  renderMulti(nc, nl) {
    const parts = [nc && `${nc} component${nc > 1 ? "s" : ""}`, nl && `${nl} link${nl > 1 ? "s" : ""}`].filter(Boolean);
    this.root.append(h("header", { class: "panel-header" },
      h("span", { class: "kind-tile link-tile" }, icon("copy", { size: 20 })),
      h("div", { class: "panel-titles" },
        h("h2", { class: "panel-title panel-title-wrap", text: `${parts.join(" and ")} selected` }),
        h("p", { class: "panel-subtitle", text: "Drag any of them to move them together." }))));
    if (!this.store.locked) {
      this.root.append(h("div", { class: "panel-actions" },
        nc ? h("button", { type: "button", class: "button", onclick: () => this.actions.duplicate() },
          icon("copy", { size: 15 }), "Duplicate") : null,
        h("button", { type: "button", class: "button button-danger", onclick: () => this.actions.deleteSelection() },
          icon("trash", { size: 15 }), "Delete")));
    }
  }

  // -- problems from the server validator ----------------------------------------------
  showProblems() {
    const problems = this.validator.problems;
    const single = this.store.single();
    if (this.key.startsWith("scenario")) {
      this.scenarioPanel.showProblems(problems);
      return;
    }
    if (!single) return;
    const list = single.type === "component" ? problems.forComponent(single.id) : problems.forLink(single.key);
    for (const [name, field] of this.fields) {
      field.setServerError(problems.fieldMessage(list, name));
    }
    let box = this.root.querySelector(".panel-problems");
    const general = list.filter((p) => !p.field || !this.fields.has(p.field));
    if (!general.length) {
      box?.remove();
      return;
    }
    if (!box) {
      box = h("div", { class: "panel-problems", role: "alert" });
      this.root.querySelector(".panel-header")?.after(box);
    }
    box.replaceChildren(icon("alert", { size: 15 }),
      h("ul", {}, general.map((p) => h("li", { text: p.field ? `${p.field}: ${p.message}` : p.message }))));
  }
}

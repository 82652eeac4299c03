// The live panel of the selected component or link while a run exists: its numbers now
// next to the analytic prediction (theory-rows.js: the same figure under one name and unit,
// and why a side has none), what that prediction is for once a `set` changed the run's
// parameters, its state, and buttons to fail/recover/slow it or cut/heal a link.

import { h, clear } from "./dom.js";
import { icon } from "./icons.js";
import { compact, ms, num, percent } from "./format.js";
import { componentRows, theoryBasis } from "./theory-rows.js";

const REFRESH_MS = 250;
const SLOW_FACTORS = [1, 2, 3, 5, 10];

export class Details {
  constructor(root, { bus, store, registry, player, toaster }) {
    Object.assign(this, { root, bus, store, registry, player, toaster });
    this.timer = 0;
    this.key = "";
    bus.on("selection:changed", () => this.render(true));
    bus.on("run:changed", () => this.render(true));
    bus.on("run:snapshot", () => this.render(true));
    bus.on("run:command", () => this.render(true));
    bus.on("run:predictions", () => this.render());
    bus.on("run:frame", () => this.schedule());
    this.render(true);
  }

  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.render();
    }, REFRESH_MS);
  }

  render(force = false) {
    const run = this.player.run;
    this.root.hidden = !run;
    if (!run) {
      clear(this.root);
      this.key = "";
      return;
    }
    const single = this.store.single();
    const key = single ? `${single.type}|${single.id || single.key}` : "run";
    if (!force && key === this.key && this.update) {
      this.update();
      return;
    }
    this.key = key;
    clear(this.root);
    if (single?.type === "component") this.renderComponent(single.id, run);
    else if (single?.type === "link") this.renderLink(single.key, run);
    else this.renderRun(run);
  }

  canControl() {
    return this.player.canCommand;
  }

  renderComponent(id, run) {
    const c = run.scenario?.components?.find((x) => x.id === id);
    if (!c) {
      this.root.append(h("p", { class: "muted small", text: `${id} is not part of the running scenario.` }));
      this.update = null;
      return;
    }
    const pill = h("span", { class: "pill" });
    const head = h("header", { class: "details-head" },
      h("h3", { class: "details-title" }, icon("bolt", { size: 14 }), run.replay ? " Replay" : " Live"), pill);
    const body = h("tbody");
    const table = h("table", { class: "metrics", "data-testid": "live-metrics" },
      h("thead", {}, h("tr", {}, h("th", { text: "" }), h("th", { text: "now" }), h("th", { text: "theory" }))),
      body);
    const note = h("p", { class: "details-note" });
    const basis = h("p", { class: "details-note theory-basis", "data-testid": "theory-basis", hidden: true });
    const actions = h("div", { class: "details-actions" });
    this.root.append(head, basis, table, note, actions);
    const rows = new Map();
    // the figures the design's view names for this component (a lesson is about them)
    const watched = new Set(this.store.doc.view?.watch?.[id] || []);
    const row = (key, figure, label) => {
      if (rows.has(key)) return rows.get(key);
      const now = h("td", { class: "num" });
      const theory = h("td", { class: "num theory" });
      const bar = h("div", { class: "mini-bar" }, h("i"), h("b"));
      const tr = h("tr", { "data-metric": key, "data-figure": figure, class: watched.has(figure) ? "watched" : null,
                           title: watched.has(figure) ? "This lesson is about this figure" : null },
        h("th", { scope: "row" }, label, bar), now, theory);
      bar.hidden = true;
      body.append(tr);
      const r = { tr, now, theory, bar };
      rows.set(key, r);
      return r;
    };
    const update = () => {
      const r = this.player.run;
      if (!r) return;
      const s = r.components[id] || {};
      const pred = r.predictions?.components?.[id] || {};
      const slow = this.player.slowFactor(id);
      pill.textContent = s.up === false ? "Down" : slow !== 1 ? `Slowed ×${num(slow)}` : "Up";
      pill.className = `pill ${s.up === false ? "pill-danger" : slow !== 1 ? "pill-warn" : "pill-ok"}`;
      basis.textContent = theoryBasis(r, id);
      basis.hidden = !basis.textContent;
      const shown = new Set();
      for (const f of componentRows(r, id, c.kind)) {
        shown.add(f.key);
        const rr = row(f.key, f.figure, f.label);
        rr.now.textContent = f.now === undefined || f.now === null ? "—" : f.fmt(f.now);
        rr.now.title = f.nowWhy || "";
        const noTheory = f.theory === undefined || f.theory === null;
        rr.theory.textContent = noTheory ? "—" : f.fmt(f.theory);
        rr.theory.title = noTheory ? f.theoryWhy || "No analytic prediction for this figure of this component." : "";
        if (f.bar) {
          rr.bar.hidden = false;
          const [fill, mark] = rr.bar.children;
          const v = typeof f.now === "number" ? f.now : 0;
          fill.style.width = `${Math.min(100, v * 100)}%`;
          fill.style.background = v >= 0.9 ? "#dc2626" : v >= 0.7 ? "#f59e0b" : "#10b981";
          mark.hidden = noTheory;
          if (!noTheory) mark.style.left = `${Math.min(100, f.theory * 100)}%`;
        }
      }
      for (const [key, rr] of rows) {
        if (!shown.has(key)) rr.now.textContent = rr.theory.textContent = "—";
      }
      const bits = [];
      if (pred.saturated) bits.push("Theory says this pool is saturated: its queue grows without bound.");
      if (pred.model) bits.push(`Model: ${pred.model}.`);
      if (pred.error) bits.push(String(pred.error));
      if (!Object.keys(pred).length) bits.push("No analytic prediction for this component.");
      note.textContent = bits.join(" ");
      note.classList.toggle("details-warn", !!pred.saturated);
    };
    let wasDown = null;
    this.update = () => {
      update();
      const down = this.player.run?.components[id]?.up === false;
      if (down !== wasDown) {
        wasDown = down;
        actions.replaceChildren();
        this.renderComponentActions(actions, id);
      }
    };
    this.update();
  }

  renderComponentActions(box, id) {
    if (!this.canControl()) {
      if (!this.player.owner) box.append(h("p", { class: "muted small", text: `Watching: only ${this.player.steeredBy} can change the run.` }));
      return;
    }
    const s = this.player.run.components[id] || {};
    const down = s.up === false;
    const send = (command) => this.player.command(command);
    const slow = h("select", { class: "input select input-compact", "aria-label": "Slow-down factor", "data-testid": "slow-factor" },
      SLOW_FACTORS.map((f) => h("option", { value: f, text: f === 1 ? "normal speed" : `slow ×${f}` })));
    slow.value = String(this.player.slowFactor(id));
    slow.addEventListener("change", () => send({ action: "slow", target: id, params: { factor: Number(slow.value) } }));
    box.append(
      down
        ? h("button", { type: "button", class: "button button-small", "data-testid": "recover",
                        onclick: () => send({ action: "recover", target: id }) }, icon("power", { size: 14 }), "Recover")
        : h("button", { type: "button", class: "button button-small button-danger", "data-testid": "fail",
                        onclick: () => send({ action: "fail", target: id }) }, icon("power", { size: 14 }), "Fail"),
      slow);
  }

  renderLink(key, run) {
    const idx = run.linkKeys.indexOf(key);
    const spec = run.scenario?.links?.[idx];
    if (!spec) {
      this.root.append(h("p", { class: "muted small", text: "This link is not part of the running scenario." }));
      this.update = null;
      return;
    }
    const pill = h("span", { class: "pill" });
    const rps = h("td", { class: "num" });
    const err = h("td", { class: "num" });
    // A link with a bandwidth is a FIFO each way: how busy, and how many messages queue.
    const bandwidth = spec.bandwidth_mbps != null;
    const busy = h("td", { class: "num", "data-testid": "link-busy" });
    const queue = h("td", { class: "num", "data-testid": "link-queue" });
    this.root.append(
      h("header", { class: "details-head" }, h("h3", { class: "details-title" }, icon("bolt", { size: 14 }), run.replay ? " Replay" : " Live"), pill),
      h("table", { class: "metrics" }, h("tbody", {},
        h("tr", {}, h("th", { scope: "row", text: "Requests" }), rps),
        h("tr", {}, h("th", { scope: "row", text: "Failed answers" }), err),
        bandwidth ? h("tr", {}, h("th", { scope: "row", text: "Busy (there · back)" }), busy) : null,
        bandwidth ? h("tr", {}, h("th", { scope: "row", text: "Queue (there · back)" }), queue) : null)));
    const actions = h("div", { class: "details-actions" });
    this.root.append(actions);
    let wasCut = null;
    const update = () => {
      const r = this.player.run;
      if (!r) return;
      const cut = this.player.cutLinks().has(key);
      if (cut !== wasCut) { // cut or healed from here, the context menu or a scheduled event
        wasCut = cut;
        actions.replaceChildren();
        this.renderLinkActions(actions, spec, cut);
      }
      const v = r.links[key];
      pill.textContent = cut ? "Cut" : "Connected";
      pill.className = `pill ${cut ? "pill-danger" : "pill-ok"}`;
      rps.textContent = spec.kind === "replication" ? "—" : `${compact(v?.[0] ?? 0)} rps`;
      err.textContent = spec.kind === "replication" ? "—" : `${compact(v?.[1] ?? 0)}/s`;
      const net = v?.[2];
      busy.textContent = net ? net.utilisation.map((u) => percent(u, 0)).join(" · ") : "—";
      queue.textContent = net ? net.queue.map((q) => compact(q)).join(" · ") : "—";
    };
    this.update = update;
    update();
  }

  renderLinkActions(box, spec, cut) {
    if (!this.canControl()) return;
    const target = [spec.from, spec.to];
    box.append(cut
      ? h("button", { type: "button", class: "button button-small", "data-testid": "heal",
                      onclick: () => this.player.command({ action: "heal", target }) }, icon("heal", { size: 14 }), "Heal link")
      : h("button", { type: "button", class: "button button-small button-danger", "data-testid": "cut",
                      onclick: () => this.player.command({ action: "partition", target }) }, icon("scissors", { size: 14 }), "Cut link"));
  }

  renderRun(run) {
    const rows = h("tbody");
    this.root.append(
      h("header", { class: "details-head" }, h("h3", { class: "details-title" }, icon("bolt", { size: 14 }),
                                                 run.replay ? " Replay of a shared run" : " Live run")),
      h("table", { class: "metrics" }, rows),
      h("p", { class: "muted small", text: `Select a component to compare its numbers with queueing theory${this.canControl() ? ", or to fail, slow or recover it" : ""}.` }));
    const bottleneck = h("button", { type: "button", class: "link-button" });
    bottleneck.addEventListener("click", () => {
      const id = this.player.run?.bottleneck;
      if (id) this.store.select({ components: [id] });
    });
    const cells = {};
    for (const [k, label] of [["p50", "Latency p50"], ["p99", "Latency p99"], ["ok", "Throughput"], ["err", "Errors"], ["bn", "Bottleneck"], ["sat", "Saturates at"]]) {
      cells[k] = h("td", { class: "num" });
      rows.append(h("tr", {}, h("th", { scope: "row", text: label }), cells[k]));
    }
    cells.bn.append(bottleneck);
    const update = () => {
      const r = this.player.run;
      if (!r) return;
      const s = r.summary || {};
      const warming = r.t < (r.scenario?.warmup_s || 0) && (s.p50 === null || s.p50 === undefined);
      cells.p50.textContent = warming ? "warming up" : ms(s.p50);
      cells.p99.textContent = warming ? "warming up" : ms(s.p99);
      cells.ok.textContent = `${compact(s.ok_rps ?? 0)} rps`;
      cells.err.textContent = percent(s.error_ratio ?? 0, 1);
      const b = r.bottleneck;
      const util = b ? r.smooth[b]?.util : undefined;
      bottleneck.textContent = b ? `${b}${util !== undefined ? ` (${percent(util)})` : ""}` : "—";
      bottleneck.disabled = !b;
      const sat = r.predictions?.saturation;
      cells.sat.textContent = sat?.client_rate_rps
        ? `${compact(sat.client_rate_rps)} rps${sat.component ? ` (${sat.component})` : ""}` : "—";
      cells.sat.title = sat?.headroom ? `Theory: the clients could send ×${num(sat.headroom)} what they send now before ${sat.component} saturates.` : "";
    };
    this.update = update;
    update();
  }
}

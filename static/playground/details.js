// The live panel of the selected component or link while a run exists: its numbers now
// next to the analytic prediction from the snapshot (utilisation 41% (theory 40%)), its
// state, and buttons to fail/recover/slow it or cut/heal a link at the current time.

import { h, clear } from "./dom.js";
import { icon } from "./icons.js";
import { compact, ms, num, percent, words } from "./format.js";

const REFRESH_MS = 250;
const SLOW_FACTORS = [1, 2, 3, 5, 10];

function formatTheory(key, v) {
  if (typeof v !== "number") return String(v);
  if (/_ms$/.test(key)) return ms(v);
  if (/ratio|utilisation|probability/.test(key)) return percent(v, 1);
  if (/_rps$/.test(key)) return `${compact(v)} rps`;
  if (/_s$/.test(key)) return `${num(v)} s`;
  return num(v);
}

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
    const actions = h("div", { class: "details-actions" });
    this.root.append(head, table, note, actions);
    const rows = new Map();
    // the figures the design's view names for this component (a lesson is about them)
    const watched = new Set(this.store.doc.view?.watch?.[id] || []);
    const row = (key, label) => {
      if (rows.has(key)) return rows.get(key);
      const now = h("td", { class: "num" });
      const theory = h("td", { class: "num theory" });
      const bar = h("div", { class: "mini-bar" }, h("i"), h("b"));
      const figure = key.replace(/^p:/, "");
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
      const used = new Set(["model", "saturated", "error"]);
      const show = (key, label, live, theory, fmt, bar = false) => {
        if ((live === undefined || live === null) && (theory === undefined || theory === null)) return;
        const rr = row(key, label);
        rr.now.textContent = live === undefined || live === null ? "—" : fmt(live);
        rr.theory.textContent = theory === undefined || theory === null ? "—" : fmt(theory);
        if (bar) {
          rr.bar.hidden = false;
          const [fill, mark] = rr.bar.children;
          const v = typeof live === "number" ? live : 0;
          fill.style.width = `${Math.min(100, v * 100)}%`;
          fill.style.background = v >= 0.9 ? "#dc2626" : v >= 0.7 ? "#f59e0b" : "#10b981";
          mark.hidden = typeof theory !== "number";
          if (typeof theory === "number") mark.style.left = `${Math.min(100, theory * 100)}%`;
        }
      };
      const take = (key) => { used.add(key); return pred[key]; };
      if (s.util !== undefined || "utilisation" in pred) {
        show("util", "Utilisation", r.smooth[id]?.util ?? s.util, take("utilisation"), (v) => percent(v), true);
      }
      if (c.kind === "client") {
        // a client receives nothing (its rps is 0): what it sends is on its links
        const sent = Object.entries(r.links).filter(([k]) => k.startsWith(`${id}>`))
          .reduce((sum, [, [rps]]) => sum + rps, 0);
        show("rps", "Sent", sent, take("offered_rps"), (v) => `${compact(v)} rps`);
      } else {
        show("rps", "Arrivals", s.rps, take("offered_rps"), (v) => `${compact(v)} rps`);
      }
      if (s.queue !== undefined) show("queue", "Queue", s.queue, take("mean_queue"), (v) => num(v, 1));
      show("wait", "Mean wait", undefined, take("mean_wait_ms"), ms);
      const lat = take("latency_ms");
      // a client carries its own requests' latency, answers and errors (the engine's frames)
      show("latency", "Mean latency", s.mean, typeof lat === "object" && lat ? lat.mean : lat, ms);
      if (c.kind === "client") show("p99", "Latency p99", s.p99, lat?.p99, ms);
      show("ok", "Answered", s.ok_rps, undefined, (v) => `${compact(v)} ok rps`);
      show("errors", "Error ratio", s.error_ratio, undefined, (v) => percent(v, v > 0 && v < 0.1 ? 1 : 0));
      show("in_flight", "In flight", s.in_flight, undefined, (v) => num(v, 0));
      show("err", "Failures", s.err_rps, undefined, (v) => `${compact(v)}/s`);
      show("hit", "Hit ratio", s.hit_ratio, take("hit_ratio"), (v) => percent(v, 1));
      show("role", "Role", s.role, undefined, String);
      show("entries", "Entries", s.entries, undefined, (v) => compact(v));
      show("dirty", "Dirty", s.dirty, undefined, (v) => compact(v));
      show("availability", "Availability", undefined, take("availability"), (v) => percent(v, v < 1 ? 2 : 0));
      const split = take("per_target_rps");
      if (split && typeof split === "object") {
        const rr = row("split", "Split");
        rr.now.textContent = "";
        rr.theory.textContent = Object.entries(split).map(([k, v]) => `${k} ${compact(v)}`).join(" · ");
      }
      show("lost_writes", "Lost writes", s.lost_writes, undefined, (v) => compact(v));
      for (const [k, v] of Object.entries(pred)) {
        if (used.has(k) || typeof v !== "number") continue;
        // a live figure the frames carry under the prediction's name goes beside it
        show(`p:${k}`, words(k).replace(/ (ms|rps|s)$/, ""), s[k], v, (x) => formatTheory(k, x));
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
      if (!this.player.owner) box.append(h("p", { class: "muted small", text: "Watching: only the person who started the run can change it." }));
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
    this.root.append(
      h("header", { class: "details-head" }, h("h3", { class: "details-title" }, icon("bolt", { size: 14 }), run.replay ? " Replay" : " Live"), pill),
      h("table", { class: "metrics" }, h("tbody", {},
        h("tr", {}, h("th", { scope: "row", text: "Requests" }), rps),
        h("tr", {}, h("th", { scope: "row", text: "Failed answers" }), err))));
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
      h("p", { class: "muted small", text: "Select a component to compare its numbers with queueing theory, or to fail, slow or recover it." }));
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

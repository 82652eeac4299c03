// The lesson beside the canvas: the open scenario's description, as readable text. It is
// someone else's text, so it is only ever built as DOM nodes: blank lines make paragraphs,
// lines starting with "- " make lists, **bold** and `code` become <strong> and <code>.
// Nothing else is interpreted.

import { h } from "./dom.js";
import { words } from "./format.js";
import { icon } from "./icons.js";

/** The live panel's rows as a lesson's `view.watch` names them (details.js `data-figure`). */
const FIGURE_NAMES = {
  util: "utilisation", queue: "queue", rps: "arrivals", err: "failures", wait: "mean wait",
  latency: "mean latency", p99: "latency p99", ok: "answered", errors: "error ratio",
  split: "split per target", hit: "hit ratio", availability: "availability",
  stale_read_ratio: "stale-read ratio", conflict_ratio: "conflict ratio", stale_reads: "stale reads",
  refusals: "refusals", keys_per_target: "keys per target", keys_moved: "keys moved", lag: "lag",
  role: "role", failover: "failover timeline", lost_writes: "lost writes", breaker: "breaker state",
};

const INLINE = /(\*\*[^*\n]+\*\*|`[^`\n]+`)/;

/** One line's text with **bold** and `code` as nodes. */
export function inline(text) {
  return text.split(INLINE).filter(Boolean).map((part) => {
    if (part.length > 4 && part.startsWith("**") && part.endsWith("**")) return h("strong", { text: part.slice(2, -2) });
    if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) return h("code", { text: part.slice(1, -1) });
    return part;
  });
}

/** Paragraphs and "- " lists from plain text. */
export function richText(text) {
  const blocks = String(text || "").replace(/\r\n?/g, "\n").split(/\n\s*\n/);
  const out = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim());
    let para = [], list = [];
    const flushPara = () => {
      if (para.length) out.push(h("p", {}, inline(para.join(" "))));
      para = [];
    };
    const flushList = () => {
      if (list.length) out.push(h("ul", {}, list.map((item) => h("li", {}, inline(item)))));
      list = [];
    };
    for (const line of lines) {
      const item = line.match(/^\s*[-*]\s+(.*)$/);
      if (item) {
        flushPara();
        list.push(item[1]);
      } else if (list.length && /^\s+\S/.test(line)) {
        list[list.length - 1] += ` ${line.trim()}`; // an indented line continues the item
      } else {
        flushList();
        para.push(line.trim());
      }
    }
    flushPara();
    flushList();
  }
  return out;
}

export class LessonPanel {
  /** host: the stage, whose left side the panel takes (class has-lesson; collapsed, it
   * floats as a small tab); shown while visible() and the design has a description.
   * onLayout(): the canvas beside it changed size. */
  constructor(host, { bus, store, isLesson, visible, onLayout }) {
    Object.assign(this, { host, store, isLesson, visible, onLayout });
    this.body = h("div", { class: "lesson-body", id: "lesson-body" });
    this.toggle = h("button", { type: "button", class: "lesson-toggle", "aria-expanded": "true",
                                "aria-controls": "lesson-body", "data-testid": "lesson-toggle" },
      h("span", { class: "lesson-kicker" }, icon("file", { size: 14 }), h("span", { class: "lesson-kind" })),
      h("span", { class: "lesson-title" }),
      h("span", { class: "lesson-chev" }, icon("chevronRight", { size: 16 })));
    this.el = h("aside", { class: "lesson-panel", "data-testid": "lesson-panel", "aria-label": "About this design",
                           hidden: true }, this.toggle, this.body);
    this.toggle.addEventListener("click", () => this.setOpen(this.el.classList.contains("collapsed")));
    host.append(this.el);
    this.text = null;
    bus.on("doc:changed", () => this.render());
    this.render();
  }

  setOpen(open) {
    this.el.classList.toggle("collapsed", !open);
    this.host.classList.toggle("lesson-collapsed", !open);
    this.toggle.setAttribute("aria-expanded", String(open));
    this.body.hidden = !open;
    this.onLayout();
  }

  render() {
    const doc = this.store.doc;
    const text = (doc.description || "").trim();
    const shown = !!text && this.visible();
    if (shown !== !this.el.hidden) {
      this.el.hidden = !shown;
      this.host.classList.toggle("has-lesson", shown);
      this.onLayout();
    }
    this.el.querySelector(".lesson-kind").textContent = this.isLesson() ? "Lesson" : "About this design";
    this.el.querySelector(".lesson-title").textContent = doc.name || "";
    const watch = Object.entries(doc.view?.watch || {})
      .filter(([id]) => doc.components.some((c) => c.id === id));
    const key = `${text}\n${JSON.stringify(watch)}`;
    if (key === this.text) return;
    this.text = key;
    const nodes = richText(text);
    // right after the lesson's "Look at" list, where the reader is told what to look at
    const at = nodes.findIndex((n) => n.tagName === "P" && n.textContent.trim() === "Look at");
    const after = at >= 0 && nodes[at + 1]?.tagName === "UL" ? at + 2 : nodes.length;
    nodes.splice(after, 0, ...this.watchList(doc, watch));
    this.body.replaceChildren(...nodes);
  }

  /** The components and figures the lesson is about, each a button that selects the
   * component (its live panel then shows those rows highlighted). */
  watchList(doc, watch) {
    if (!watch.length) return [];
    const label = (id) => doc.components.find((c) => c.id === id)?.label || id;
    return [
      h("h3", { class: "lesson-watch-title", text: "Figures to watch" }),
      h("p", { class: "lesson-watch-hint", text: "Play, then pick one: its live panel shows them beside theory." }),
      h("ul", { class: "lesson-watch", "data-testid": "lesson-watch" }, watch.map(([id, figures]) => h("li", {},
        h("button", { type: "button", class: "lesson-watch-item", "data-component": id,
                      onclick: () => this.store.select({ components: [id] }) },
          h("span", { class: "lesson-watch-name", text: label(id) }),
          h("span", { class: "lesson-watch-figures", text: figures.map((f) => FIGURE_NAMES[f] || words(f)).join(", ") }))))),
    ];
  }
}

// Who is editing which field while co-editing (coedit.js). This tab says which inspector
// field of which component it has the focus in (`editing`, sent with its presence); the
// others' show as a ring in their colour with their name on that field, when this tab's
// inspector shows the same component, and as a tag with their name and the field above
// the component's card on the canvas.

import { h } from "./dom.js";
import { paramLabel } from "./format.js";

/** The peers editing a field of component `id`: field name -> [peer], in the room's order. */
export function editorsOf(peers, id) {
  const out = new Map();
  for (const peer of peers) {
    if (peer.editing?.component !== id) continue;
    const name = peer.editing.field;
    out.set(name, [...(out.get(name) || []), peer]);
  }
  return out;
}

/** The text over a field being edited: "Ada is editing", "Ada and Bob are editing". */
export function editingText(people) {
  const names = people.map((p) => p.name);
  const who = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
  return `${who} ${names.length > 1 ? "are" : "is"} editing`;
}

/** The field `el` is in, as the inspector names it (a schedule's points are its field's). */
function outermostField(el) {
  let field = el.closest("[data-field]");
  while (field?.parentElement?.closest("[data-field]")) field = field.parentElement.closest("[data-field]");
  return field;
}

export class FieldPresence {
  /** peers: the room's Map of id -> peer; changed(): this tab's own field changed. */
  constructor({ root, bus, store, canvas, peers, changed }) {
    Object.assign(this, { root, store, canvas, peers });
    this.mine = null; // {component, field} this tab edits, or null
    const update = () => {
      const single = store.single();
      const focused = root.contains(document.activeElement) ? outermostField(document.activeElement) : null;
      const next = single?.type === "component" && focused ? { component: single.id, field: focused.dataset.field } : null;
      if (next?.component === this.mine?.component && next?.field === this.mine?.field) return;
      this.mine = next;
      changed();
    };
    root.addEventListener("focusin", update);
    root.addEventListener("focusout", update);
    bus.on("selection:changed", update);
    // the inspector redraws its panel (another selection, a run): mark the new fields
    new MutationObserver(() => this.markFields()).observe(root, { childList: true });
    this.layer = h("div", { class: "coedit-tags", "aria-hidden": "true" });
    canvas.container.parentElement.append(this.layer);
    this.frame = 0;
    canvas.cy.on("render", () => {
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.placeTags(); });
    });
  }

  /** The others' fields, again: after a presence, a leave, a redraw of the inspector. */
  paint() {
    this.markFields();
    this.drawTags();
  }

  markFields() {
    for (const el of this.root.querySelectorAll(".coedit-editing")) {
      el.classList.remove("coedit-editing");
      delete el.dataset.editors;
    }
    const single = this.store.single();
    if (single?.type !== "component") return;
    for (const [field, people] of editorsOf(this.peers.values(), single.id)) {
      const el = this.root.querySelector(`.field[data-field="${CSS.escape(field)}"]`);
      if (!el) continue;
      el.classList.add("coedit-editing");
      el.style.setProperty("--peer", people[0].colour);
      el.dataset.editors = editingText(people);
    }
  }

  drawTags() {
    this.layer.replaceChildren();
    const ids = new Set([...this.peers.values()].map((p) => p.editing?.component).filter(Boolean));
    for (const id of ids) {
      const box = h("div", { class: "coedit-tag-group", "data-component": id });
      for (const [field, people] of editorsOf(this.peers.values(), id)) {
        for (const peer of people) {
          const tag = h("span", { class: "coedit-tag", "data-testid": "coedit-tag", title: `${peer.name} is editing ${paramLabel(field)}` },
            h("span", { class: "coedit-tag-name", text: peer.name }), ` · ${paramLabel(field)}`);
          tag.style.setProperty("--peer", peer.colour);
          box.append(tag);
        }
      }
      this.layer.append(box);
    }
    this.placeTags();
  }

  /** Each group of tags just above its component's card (hidden while the card is not drawn). */
  placeTags() {
    for (const box of this.layer.children) {
      const node = this.canvas.cy.getElementById(box.dataset.component);
      box.hidden = !node.length;
      if (!node.length) continue;
      const bb = node.renderedBoundingBox({ includeLabels: false, includeOverlays: false });
      box.style.transform = `translate(${bb.x1}px, ${bb.y1}px) translateY(-100%)`;
    }
  }
}

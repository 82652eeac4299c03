// Others' mouse pointers on the canvas while co-editing (coedit.js): an arrow in each
// person's colour with their name, at a point of the design (model coordinates), so it
// lands on the same spot whatever each person's pan and zoom. This tab sends its own while
// the mouse moves over the canvas, at most 10 times a second, and a pointer message without
// coordinates when the mouse leaves it; another's pointer hides after IDLE_MS without a
// move, when the mouse leaves their canvas, and when they leave.

import { h } from "./dom.js";
import { toScreen } from "./geometry.js";

export const SEND_MS = 100;
export const IDLE_MS = 4000;
const SVG = "http://www.w3.org/2000/svg";

/** `send(value)` at most once per `ms`: the first at once, the latest of those meanwhile at
 * the end of the window (so the last position always goes). */
export function throttle(send, ms) {
  let waiting = false;
  let pending = false;
  let latest;
  const fire = () => {
    if (!pending) {
      waiting = false;
      return;
    }
    pending = false;
    send(latest);
    setTimeout(fire, ms);
  };
  return (value) => {
    latest = value;
    pending = true;
    if (!waiting) {
      waiting = true;
      fire();
    }
  };
}

/** The pointer message for a model point (a tenth of a unit is plenty), or none: gone. */
export const pointerMessage = (at) => (at ? { type: "pointer", x: Math.round(at.x * 10) / 10, y: Math.round(at.y * 10) / 10 }
  : { type: "pointer" });

function arrow() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 20");
  svg.setAttribute("class", "coedit-pointer-arrow");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M1 1 L1 16 L5 12 L8 19 L11 17.5 L8 11 L14 11 Z");
  svg.append(path);
  return svg;
}

export class Pointers {
  /** peers: the room's Map of id -> {name, colour, ...} (coedit.js keeps it). */
  constructor({ canvas, peers, send }) {
    this.canvas = canvas;
    this.peers = peers;
    this.shown = new Map(); // peer id -> {el, name, at, timer}
    this.layer = h("div", { class: "coedit-pointers", "aria-hidden": "true" });
    canvas.container.parentElement.append(this.layer);
    const out = throttle((at) => send(pointerMessage(at)), SEND_MS);
    canvas.container.addEventListener("pointermove", (e) => out(canvas.toModel(e.clientX, e.clientY)));
    canvas.container.addEventListener("pointerleave", () => out(null));
    canvas.cy.on("viewport", () => { for (const p of this.shown.values()) this.place(p); });
  }

  /** A `pointer` message from the room. */
  show({ peer, x, y }) {
    const who = this.peers.get(peer);
    if (!who || x === undefined) {
      this.forget(peer);
      return;
    }
    let p = this.shown.get(peer);
    if (!p) {
      p = { name: h("span", { class: "coedit-pointer-name" }) };
      p.el = h("div", { class: "coedit-pointer", "data-testid": "coedit-pointer", "data-peer": peer }, arrow(), p.name);
      this.shown.set(peer, p);
      this.layer.append(p.el);
    }
    p.name.textContent = who.name;
    p.el.style.setProperty("--peer", who.colour);
    p.at = { x, y };
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.forget(peer), IDLE_MS);
    this.place(p);
  }

  place(p) {
    const { cy } = this.canvas;
    const s = toScreen(p.at, cy.pan(), cy.zoom());
    p.el.style.transform = `translate(${s.x}px, ${s.y}px)`;
  }

  forget(peer) {
    const p = this.shown.get(peer);
    if (!p) return;
    clearTimeout(p.timer);
    p.el.remove();
    this.shown.delete(peer);
  }

  clear() {
    for (const peer of [...this.shown.keys()]) this.forget(peer);
  }
}

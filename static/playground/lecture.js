// Lecture mode (docs/classrooms.md, "Lecture mode"): in a lecture's co-editing room the
// presenter's view leads: its viewport (the model point at the centre of the view, and the
// zoom) and its selection. A student follows them until they pan, zoom or select on their
// own, and "Follow" brings them back; the room says who follows (the instructor's dashboard
// shows it). The room itself (the design, presence, the pen changing their role) is
// coedit.js's; this adds what a lecture says on top of it.
// The run: the room's shared run (coedit-run.js) is everyone's, the presenter's included;
// a student who left it comes back to it with Follow.

import { $, h } from "./dom.js";

const VIEW_MS = 100; // the presenter's view goes out at most 10 times a second
const OWN_INPUT_MS = 800; // a view or selection change this soon after one's own input is one's own

export function attend(coedit, lecture) {
  return lecture.presenter ? new Presenter(coedit, lecture) : new Follower(coedit, lecture);
}

function lectureBar(lecture, ...children) {
  const bar = h("div", { class: "lecture-bar", "data-testid": "lecture-bar", role: "status" },
    h("strong", { class: "lecture-class", text: lecture.classroom }), ...children,
    h("a", { class: "lecture-back", href: lecture.back, text: lecture.presenter ? "Dashboard" : "Classroom" }));
  $("#stage-canvas").append(bar);
  return bar;
}

/** The instructor: sends their view as it changes; sees how many students follow it. */
class Presenter {
  constructor(coedit, lecture) {
    this.coedit = coedit;
    this.state = h("span", { class: "lecture-state", "data-testid": "lecture-state" });
    lectureBar(lecture, this.state);
    coedit.canvas.cy.on("viewport", () => coedit.later("view", VIEW_MS, () => this.sendView()));
    coedit.bus.on("coedit:message", (msg) => {
      if (msg.type === "welcome") queueMicrotask(() => this.sendView());
      if (msg.type === "error" && msg.ref === "lecture") this.ended = true;
      if (["welcome", "presence", "left", "error"].includes(msg.type)) queueMicrotask(() => this.render());
    });
    this.render();
  }

  sendView() {
    const { cy } = this.coedit.canvas;
    const e = cy.extent();
    this.coedit.send({ type: "viewport", x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2, zoom: cy.zoom() });
  }

  render() {
    // the lecture's other tabs (someone watching the design by its share link is in the room too)
    const students = [...this.coedit.peers.values()].filter((p) => !p.presenter && typeof p.following === "boolean");
    const following = students.filter((p) => p.following).length;
    this.state.textContent = this.ended ? "The lecture is over" : !this.coedit.synced ? "Connecting…"
      : students.length ? `Presenting: ${following} of ${students.length} following`
        : "Presenting: nobody has joined yet";
  }
}

/** A student (or another instructor): follows the presenter's view until they look around. */
class Follower {
  constructor(coedit, lecture) {
    Object.assign(this, { coedit, following: true, view: null, selection: [], applying: false, ended: false,
                          presenter: null }); // the presenter's peer id while they are in the room
    this.lastInput = -Infinity;
    const mark = () => { this.lastInput = performance.now(); };
    for (const type of ["pointerdown", "wheel", "keydown"]) document.addEventListener(type, mark, { capture: true, passive: true });
    this.state = h("span", { class: "lecture-state", "data-testid": "lecture-state" });
    this.button = h("button", { type: "button", class: "button button-primary button-small", "data-testid": "lecture-follow",
                                text: "Follow", title: "Follow the presenter's view again" });
    this.button.addEventListener("click", () => this.setFollowing(true));
    this.bar = lectureBar(lecture, this.state, this.button);
    coedit.canvas.cy.on("viewport", () => { if (!this.applying && this.own()) this.setFollowing(false); });
    coedit.bus.on("selection:changed", ({ origin }) => { if (origin !== "lecture" && this.own()) this.setFollowing(false); });
    coedit.bus.on("coedit:message", (msg) => this.receive(msg));
    this.render();
  }

  own() {
    return performance.now() - this.lastInput < OWN_INPUT_MS;
  }

  receive(msg) {
    switch (msg.type) {
      case "welcome": // (again, after a reconnect) those here announce themselves anew
        this.presenter = null;
        if (!this.following) queueMicrotask(() => this.coedit.send({ type: "follow", following: false }));
        this.render();
        break;
      case "viewport":
        this.view = msg;
        if (this.following) this.applyView();
        break;
      case "presence":
        if (!msg.peer.presenter) break;
        this.presenter = msg.peer.id;
        this.selection = msg.peer.selection || [];
        if (this.following) this.applySelection();
        this.render();
        break;
      case "left":
        if (msg.peer === this.presenter) this.presenter = null;
        this.render();
        break;
      case "error":
        if (msg.ref === "lecture" || (msg.code === "not_found" && msg.ref === "connect")) {
          this.ended = true;
          this.render();
        }
        break;
      default:
        break;
    }
  }

  setFollowing(following) {
    if (following === this.following || this.ended) return;
    this.following = following;
    this.coedit.send({ type: "follow", following });
    if (following) {
      this.applyView();
      this.applySelection();
      this.coedit.bus.emit("coedit:rejoin-run"); // back on the room's run (coedit-run.js)
    }
    this.render();
  }

  applyView() {
    const { cy } = this.coedit.canvas;
    const v = this.view;
    if (!v) return;
    this.applying = true;
    try {
      cy.viewport({ zoom: v.zoom, pan: { x: cy.width() / 2 - v.x * v.zoom, y: cy.height() / 2 - v.y * v.zoom } });
    } finally {
      this.applying = false;
    }
  }

  applySelection() {
    const { store } = this.coedit;
    const ids = store.ids();
    store.select({ components: this.selection.filter((id) => ids.has(id)) }, { origin: "lecture" });
  }

  render() {
    this.bar.dataset.following = String(this.following && !this.ended);
    this.state.textContent = this.ended ? "The lecture is over"
      : !this.following ? "Looking around on your own"
        : this.presenter ? "Following the presenter's view" : "Following: the presenter is not here yet";
    this.button.hidden = this.following || this.ended;
  }
}

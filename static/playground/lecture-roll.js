// The instructor's dashboard, lecture part: who is in the classroom's lecture (each tab of a
// student is a peer of its room), whether they follow the presenter's view, and the pen:
// hand it to a student, take it back. Names are other people's text: set as text.

import { clear, h } from "./dom.js";

export class LectureRoll {
  constructor(list, send) {
    Object.assign(this, { list, send });
    this.peers = new Map(); // peer id -> {student, name, role, following}
  }

  /** The dashboard (re)connected: the lecture's students answer its roll call again. */
  reset() {
    this.peers.clear();
    this.render();
  }

  update(msg) {
    if (msg.present) this.peers.set(msg.peer, { student: msg.student, name: msg.name, role: msg.role, following: msg.following });
    else this.peers.delete(msg.peer);
    this.render();
  }

  /** One row a student, whatever the number of their tabs: following if one of them does. */
  students() {
    const byStudent = new Map();
    for (const p of this.peers.values()) {
      const s = byStudent.get(p.student) || { id: p.student, name: p.name, pen: false, following: false, tabs: 0 };
      Object.assign(s, { pen: s.pen || p.role === "editor", following: s.following || p.following, tabs: s.tabs + 1 });
      byStudent.set(p.student, s);
    }
    return [...byStudent.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  render() {
    if (!this.list) return;
    clear(this.list);
    const students = this.students();
    if (!students.length) this.list.append(h("li", { class: "muted", text: "No student has opened it yet." }));
    for (const s of students) {
      const pen = h("button", { type: "button", class: `button button-small${s.pen ? " button-danger" : ""}`,
                                "data-testid": "lecture-pen", text: s.pen ? "Take the pen back" : "Hand the pen",
                                "aria-label": `${s.pen ? "Take the pen back from" : "Hand the pen to"} ${s.name}` });
      pen.addEventListener("click", () => this.send({ type: "pen", student: s.id, pen: !s.pen }));
      this.list.append(h("li", { "data-testid": "lecture-person", "data-student": s.id,
                                 "data-following": String(s.following), "data-pen": String(s.pen) },
        h("span", { text: s.name }),
        h("span", { class: "lecture-person-state" },
          h("span", { class: `pill ${s.following ? "pill-ok" : "pill-muted"}`, "data-testid": "lecture-following",
                      text: s.following ? "Following" : "Looking around" }),
          h("span", { class: "muted small", text: s.pen ? "has the pen" : "watching" }),
          pen)));
    }
  }
}

// A student's assignment beside the canvas: the instructions, the goals with a live
// indicator of which ones the running design meets, Save / Submit, the graded submissions,
// and the classroom's seat socket (presence for the instructor's dashboard; the chaos drill,
// applied to this tab's own run like any live command).

import { ApiError, request } from "./api.js";
import { clear, h } from "./dom.js";
import { icon } from "./icons.js";
import { richText } from "./lesson.js";
import { money, ms, percent } from "./format.js";
import { drafts } from "./persistence.js";

const POLL_MS = 1500; // while a submission is being graded
const PING_MS = 20000; // presence: the server forgets a seat after 60 s of silence
const SAVE_AFTER_MS = 1500;

/** Live figures for each goal from a frame summary (the same figures grading uses). */
export function liveFigures(summary) {
  if (!summary) return {};
  return {
    p99_ms: summary.p99 ?? null,
    success_ratio: summary.error_ratio == null ? null : 1 - summary.error_ratio,
    cost_per_hour: summary.cost_per_hour ?? null,
  };
}

export function meets(goal, value) {
  if (value == null) return null;
  return goal.goal === "success_ratio" ? value >= goal.target : value <= goal.target;
}

const SHOW = {
  p99_ms: (v) => ms(v),
  success_ratio: (v) => percent(v, 2),
  cost_per_hour: money,
};

export class AssignmentPanel {
  constructor(host, { bus, store, player, toaster, actions, assignment, onLayout }) {
    Object.assign(this, { bus, store, player, toaster, actions, assignment, onLayout });
    this.draftScope = `assignment:${assignment.id}`;
    this.submissions = assignment.submissions || [];
    this.goalRows = new Map();
    this.el = h("aside", { class: "lesson-panel assignment-panel", "data-testid": "assignment-panel",
                           "aria-label": "Assignment" });
    this.build();
    host.append(this.el);
    host.classList.add("has-lesson");
    onLayout?.();
    this.saveTimer = 0;
    this.savedJson = JSON.stringify(assignment.document);
    bus.on("doc:changed", () => this.scheduleSave());
    // Closing the tab before the next save: keep the edits in this browser.
    window.addEventListener("pagehide", () => {
      if (JSON.stringify(this.store.doc) !== this.savedJson) drafts.save(this.draftScope, this.store.doc);
    });
    bus.on("run:frame", ({ run }) => this.showLive(run.summary));
    bus.on("run:snapshot", ({ run }) => { this.showLive(run.summary); this.watching(run.id); });
    bus.on("run:ended", () => { this.showLive(null); this.watching(null); });
    this.connect();
    if (this.submissions.some(pending)) this.poll();
    this.restoreDraft();
  }

  /** Work the server would not take yet (a design in progress that is not valid) is kept
   * in this browser: bring it back. */
  restoreDraft() {
    const draft = drafts.load(this.draftScope);
    if (!draft || JSON.stringify(draft.doc) === this.savedJson) return;
    if (this.actions.loadDocument(draft.doc, "Restore unsaved work")) {
      this.toaster.show({ title: "Your unsaved work is back", tone: "info", key: "draft",
                          message: "This browser kept edits the server had not saved. Undo (Ctrl+Z) goes back to the saved copy." });
    }
  }

  build() {
    const a = this.assignment;
    const goals = h("ul", { class: "goals", "data-testid": "goals" });
    for (const goal of a.goals) {
      const value = h("span", { class: "goal-value", text: "–" });
      const row = h("li", { class: "goal", "data-testid": `goal-${goal.goal}`, "data-state": "idle" },
        h("span", { class: "goal-dot", "aria-hidden": "true" }), h("span", { class: "goal-text", text: goal.text }), value);
      this.goalRows.set(goal.goal, { row, value, goal });
      goals.append(row);
    }
    const drill = (a.faults || []).map((f) => h("li", { class: "small muted", text: `Graded with ${f.target} failing at ${f.at_s} s` }));
    this.submitButton = h("button", { type: "button", class: "button button-primary", "data-testid": "submit-assignment",
                                      disabled: a.closed, onclick: () => this.submit() },
      h("span", { text: a.closed ? "Submissions closed" : "Submit for grading" }));
    this.list = h("ol", { class: "submissions", "data-testid": "submissions" });
    this.el.append(
      h("div", { class: "lesson-body assignment-body" },
        h("p", { class: "lesson-kicker" }, icon("file", { size: 14 }),
          h("a", { href: a.classroom.url, text: a.classroom.name })),
        h("h2", { class: "assignment-title", text: a.title }),
        h("p", { class: "small muted", text: `You: ${a.student.name}${a.deadline ? ` · due ${new Date(a.deadline).toLocaleString()}` : ""}` }),
        ...richText(a.instructions),
        h("h3", { class: "section-title", text: "Goals" }), goals,
        drill.length ? h("ul", { class: "goal-notes" }, drill) : null,
        h("p", { class: "small muted", text: "Live: the running design against each goal. Grading runs it headless with several seeds." }),
        this.submitButton,
        h("h3", { class: "section-title", text: "Your submissions" }), this.list));
    this.renderSubmissions();
  }

  showLive(summary) {
    const figures = liveFigures(summary);
    for (const { row, value, goal } of this.goalRows.values()) {
      const v = figures[goal.goal];
      const ok = meets(goal, v);
      row.dataset.state = ok === null ? "idle" : ok ? "met" : "missed";
      value.textContent = v == null ? "–" : SHOW[goal.goal](v);
    }
  }

  // -- saving and submitting ---------------------------------------------------------
  url(rest) {
    return `/api/assignments/${encodeURIComponent(this.assignment.id)}/${rest}`;
  }

  scheduleSave() {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_AFTER_MS);
  }

  async save() {
    const json = JSON.stringify(this.store.doc);
    if (json === this.savedJson) return true;
    try {
      await request("PUT", this.url("work"), { document: this.store.doc });
      this.savedJson = json;
      drafts.remove(this.draftScope);
      return true;
    } catch (err) {
      drafts.save(this.draftScope, this.store.doc);
      // An invalid design in progress is normal; it is kept in this browser's draft.
      if (!(err instanceof ApiError) || err.status !== 400) {
        this.toaster.show({ title: "Your work could not be saved", message: err.message, tone: "warn", key: "work-save" });
      }
      return false;
    }
  }

  async submit() {
    this.submitButton.disabled = true;
    try {
      const sub = await request("POST", this.url("submissions"), { document: this.store.doc });
      this.savedJson = JSON.stringify(this.store.doc);
      this.submissions = [sub, ...this.submissions];
      this.renderSubmissions();
      this.toaster.show({ title: "Submitted", message: "Grading runs in the background: the result appears here.", tone: "success" });
      this.poll();
    } catch (err) {
      this.toaster.show({ title: "Not submitted", message: err.message, items: err.errors?.slice(1) || [], tone: "error" });
    } finally {
      this.submitButton.disabled = this.assignment.closed;
    }
  }

  async poll() {
    clearTimeout(this.pollTimer);
    try {
      this.submissions = (await request("GET", this.url("submissions"))).results;
      this.renderSubmissions();
    } catch { /* try again on the next tick */ }
    if (this.submissions.some(pending)) this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
  }

  renderSubmissions() {
    clear(this.list);
    if (!this.submissions.length) this.list.append(h("li", { class: "small muted", text: "None yet." }));
    for (const sub of this.submissions) {
      const state = pending(sub) ? "grading" : sub.state === "done" ? (sub.met ? "met" : "missed") : "failed";
      const head = pending(sub) ? "Grading…" : sub.state === "done" ? `${sub.score} of ${sub.out_of} goals met` : "Could not be graded";
      const goals = (sub.result?.goals || []).map((g) => h("li", { "data-state": g.met ? "met" : "missed" },
        `${g.met ? "✓" : "✗"} ${g.text}: `, h("strong", { text: g.measured == null ? "no answer" : SHOW[g.goal](g.measured) })));
      const errors = (sub.result?.errors || []).map((e) => h("li", { class: "field-error", text: e }));
      this.list.append(h("li", { class: "submission", "data-testid": "submission", "data-state": state },
        h("div", { class: "submission-head" }, h("strong", { text: head }),
          h("span", { class: "small muted", text: new Date(sub.created_at).toLocaleTimeString() })),
        goals.length || errors.length ? h("ul", { class: "submission-goals" }, goals, errors) : null));
    }
  }

  // -- the seat socket ---------------------------------------------------------------
  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/seat/${encodeURIComponent(this.assignment.id)}/`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retry = 0;
      this.watching(this.player.run?.id || null);
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
    });
    socket.addEventListener("message", (e) => this.received(JSON.parse(e.data)));
    socket.addEventListener("close", (e) => {
      clearInterval(this.pinger);
      if (e.code === 4003) return;
      setTimeout(() => this.connect(), Math.min(1000 * 2 ** (this.retry = (this.retry || 0) + 1), 15000));
    });
  }

  send(msg) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(msg));
  }

  watching(runId) {
    this.send({ type: "watching", run_id: runId });
  }

  received(msg) {
    if (msg.type !== "drill") return;
    const c = msg.command;
    const what = `${c.action} ${Array.isArray(c.target) ? c.target.join(" → ") : c.target}`;
    if (this.player.owner && this.player.run && !this.player.run.status?.ended) {
      this.player.command(c);
      this.toaster.show({ title: "Chaos drill", message: `${msg.from} injected: ${what}`, tone: "warn", key: "drill" });
    } else {
      this.toaster.show({ title: "Chaos drill missed", message: `${msg.from} injected ${what}, but your design is not running.`, tone: "info", key: "drill" });
    }
  }
}

function pending(sub) {
  return sub.state === "queued" || sub.state === "running";
}

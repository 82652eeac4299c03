// A student's assignment beside the canvas: the instructions, the goals with a live
// indicator of which ones the running design meets, Submit, the graded submissions, and the
// classroom's seat socket (presence for the instructor's dashboard; the chaos drill, applied
// to this tab's own run like any live command). The work is saved as it changes by
// work-saver.js.

import { request } from "./api.js";
import { clear, h } from "./dom.js";
import { icon } from "./icons.js";
import { richText } from "./lesson.js";
import { money, ms, percent } from "./format.js";
import { Problems } from "./validation.js";

const POLL_MS = 1500; // while a submission is being graded
const PING_MS = 20000; // presence: the server forgets a seat after 60 s of silence

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
  constructor(host, { bus, store, player, toaster, actions, assignment, work, onLayout }) {
    Object.assign(this, { bus, store, player, toaster, actions, assignment, work, onLayout });
    this.submissions = assignment.submissions || [];
    this.goalRows = new Map();
    this.el = h("aside", { class: "lesson-panel assignment-panel", "data-testid": "assignment-panel",
                           "aria-label": "Assignment" });
    this.build();
    host.append(this.el);
    host.classList.add("has-lesson");
    onLayout?.();
    bus.on("run:frame", ({ run }) => this.showLive(run.summary));
    bus.on("run:snapshot", ({ run }) => { this.showLive(run.summary); this.watching(run.id); });
    bus.on("run:ended", () => { this.showLive(null); this.watching(null); });
    this.connect();
    if (this.submissions.some(pending)) this.poll();
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

  // -- submitting ----------------------------------------------------------------------
  url(rest) {
    return `/api/assignments/${encodeURIComponent(this.assignment.id)}/${rest}`;
  }

  /** Hand in the design as it is now (saved first: what is graded is the work). */
  async submit() {
    this.submitButton.disabled = true;
    const doc = structuredClone(this.store.doc);
    try {
      // a save that met a newer one from elsewhere waits for the person's choice
      if (!(await this.work.save()) && this.work.problem?.state === "conflict") return;
      const sub = await request("POST", this.url("submissions"), { document: doc });
      this.submissions = [sub, ...this.submissions];
      this.renderSubmissions();
      this.toaster.show({ title: "Submitted", message: "Grading runs in the background: the result appears here.", tone: "success" });
      this.poll();
    } catch (err) {
      this.refused(err, doc);
    } finally {
      this.submitButton.disabled = this.assignment.closed;
    }
  }

  /** A design that cannot run yet is not submitted: its problems go on the canvas, as a
   * refused Play's do, and the toast says where they are. */
  refused(err, doc) {
    const lines = err.status === 400 && err.errors.every((e) => e.startsWith("document"))
      ? err.errors.map((e) => e.replace(/^document\.?/, "")) : null;
    if (!lines) {
      this.toaster.show({ title: "Not submitted", message: err.message, tone: "error", key: "submit" });
      return;
    }
    const problems = new Problems(lines, doc);
    this.bus.emit("problems:found", { lines, doc });
    const first = problems.items.find((p) => p.kind === "component" && p.id);
    if (first) this.store.select({ components: [first.id] });
    this.toaster.show({
      title: "Not submitted: the design cannot run yet", tone: "error", key: "submit",
      message: "Your work is saved as it is. Fix these, then submit again:",
      items: problems.items.map((p) => (p.where ? `${p.where}: ${p.message}` : p.message)),
    });
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

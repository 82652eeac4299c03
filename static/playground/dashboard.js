// The instructor's live dashboard: the roster of a class with each student's running design
// (digests, at most two a second per student), their best grade, a leaderboard, and the chaos
// drill. Student names and labels are other people's text: always set as text.

import { $, clear, h } from "./dom.js";
import { compact, money, ms, percent } from "./format.js";
import { LectureRoll } from "./lecture-roll.js";

const STALE_S = 10; // a digest older than this means the run stopped reporting

const config = JSON.parse($("#dashboard-data").textContent);
const state = { classroom: null, assignments: [], students: new Map(), assignment: null };
const view = {
  roster: $("#roster"), board: $("#dash-leaderboard"), status: $("#dashboard-status"),
  online: $("#dash-online"), select: $("#dash-assignment"), links: $("#dash-links"),
  results: $("#dash-results"), csv: $("#dash-csv"), log: $("#dash-log"),
  drillAction: $("#drill-action"), drillTarget: $("#drill-target"), drillSend: $("#drill-send"),
};
const LINK_ACTIONS = new Set(["partition", "heal"]);
const DRILL_WORDS = { fail: "fail", recover: "recover", slow: "slow down ×5", partition: "cut", heal: "heal" };
let socket = null;
let retry = 0;
const lecture = new LectureRoll($("#lecture-people"), (msg) => {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
});

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/dashboard/${encodeURIComponent(config.join_id)}/`);
  socket.addEventListener("open", () => { retry = 0; setStatus("Live", "ok"); });
  socket.addEventListener("message", (e) => handle(JSON.parse(e.data)));
  socket.addEventListener("close", (e) => {
    if (e.code === 4003) return setStatus("Not allowed", "warn");
    setStatus("Reconnecting…", "warn");
    setTimeout(connect, Math.min(1000 * 2 ** retry++, 15000));
  });
}

function setStatus(text, kind) {
  view.status.textContent = text;
  view.status.className = `pill pill-${kind}`;
}

const handlers = {
  roster(msg) {
    state.classroom = msg.classroom;
    state.assignments = msg.assignments;
    state.students = new Map(msg.students.map((s) => [s.id, s]));
    fillAssignments();
    renderAll();
    lecture.reset();
  },
  lecture(msg) {
    lecture.update(msg);
  },
  presence(msg) {
    const s = student(msg);
    Object.assign(s, { online: msg.online, run_id: msg.run_id });
    renderStudent(s);
    renderOnline();
  },
  work(msg) {
    const s = student(msg);
    s.design = msg.design;
    renderStudent(s);
  },
  digests(msg) {
    for (const d of msg.digests) {
      const s = state.students.get(d.student);
      if (!s) continue;
      s.digest = { ...d, received: Date.now() };
      renderStudent(s);
    }
  },
  graded(msg) {
    const s = student(msg);
    let a = state.assignments.find((x) => x.id === msg.assignment);
    if (!a) { // made since the roster came
      a = { id: msg.assignment, title: msg.title };
      state.assignments.push(a);
      fillAssignments();
    }
    const mine = { score: msg.score, out_of: msg.out_of, met: msg.met, cost_per_hour: msg.cost_per_hour };
    if (better(mine, s.grades[a.id])) s.grades[a.id] = mine;
    note(`${s.name}: ${msg.score} / ${msg.out_of} goals`);
    renderStudent(s);
    renderBoard();
  },
  drill_sent(msg) {
    const { action, target } = msg.command;
    note(`Drill sent: ${DRILL_WORDS[action] || action} ${Array.isArray(target) ? target.join(" → ") : target}`);
  },
  error(msg) {
    note(msg.message);
  },
};

// The leaderboard's order (services.leaderboard): most goals met, then the cheaper design.
function compareGrades(a, b) {
  return b.score - a.score || (a.cost_per_hour ?? Infinity) - (b.cost_per_hour ?? Infinity);
}

function better(grade, best) {
  return !best || compareGrades(grade, best) < 0;
}

/** The roster's entry for a message's student; one who joined since the roster came is
 * added. */
function student(msg) {
  if (!state.students.has(msg.student)) {
    view.roster.querySelector(".roster-empty")?.remove();
    state.students.set(msg.student, { id: msg.student, name: msg.name, online: false,
                                      run_id: null, digest: null, design: null, grades: {} });
  }
  return state.students.get(msg.student);
}

function handle(msg) {
  handlers[msg.type]?.(msg);
}

function fillAssignments() {
  clear(view.select);
  for (const a of state.assignments) view.select.append(h("option", { value: a.id, text: a.title }));
  if (!state.assignments.length) view.select.append(h("option", { value: "", text: "No assignments yet" }));
  state.assignment = state.assignment && state.assignments.some((a) => a.id === state.assignment)
    ? state.assignment : state.assignments[0]?.id || null;
  view.select.value = state.assignment || "";
  view.links.hidden = !state.assignment;
  if (state.assignment) {
    const base = `/classes/${encodeURIComponent(config.join_id)}/assignments/${encodeURIComponent(state.assignment)}`;
    view.results.href = base;
    view.csv.href = `${base}/grades.csv`;
  }
  fillDrillTargets();
}

/** The drill's targets: the selected assignment's brief (every student's design starts
 * with it), its components for fail / recover / slow, its links for cut / heal. */
function fillDrillTargets() {
  const brief = config.drill[state.assignment] || { components: [], links: [] };
  const onLinks = LINK_ACTIONS.has(view.drillAction.value);
  const before = view.drillTarget.value;
  clear(view.drillTarget);
  const options = onLinks
    ? brief.links.map(([from, to]) => h("option", { value: JSON.stringify([from, to]), text: `${from} → ${to}` }))
    : brief.components.map((c) => h("option", { value: JSON.stringify(c.id), "data-kind": c.kind,
                                                 text: c.label === c.id ? `${c.id} (${c.kind})` : `${c.label} · ${c.id} (${c.kind})` }));
  view.drillTarget.append(...options);
  if (!options.length) {
    const why = !state.classroom ? "Loading…" : !state.assignment ? "No assignment yet"
      : !(state.assignment in config.drill) ? "Reload the page to drill this assignment"
      : onLinks ? "The brief has no links" : "The brief has no components";
    view.drillTarget.append(h("option", { value: "", text: why }));
  }
  // the same target as before if it is still there, else the first that is not the traffic
  const kept = options.find((o) => o.value === before) || options.find((o) => o.dataset.kind !== "client");
  if (kept) view.drillTarget.value = kept.value;
  view.drillTarget.disabled = view.drillSend.disabled = !options.length;
}

function running(s) {
  const d = s.digest;
  return Boolean(d && d.playing !== undefined && !d.ended && (Date.now() - d.received) / 1000 < STALE_S);
}

function figure(label, value) {
  return h("span", { class: "figure" }, h("small", { text: label }), value);
}

function studentCard(s) {
  const card = h("article", { class: "student", "data-testid": "roster-card", "data-student": s.id });
  card.dataset.online = String(Boolean(s.online));
  const d = s.digest;
  const live = running(s);
  const grade = state.assignment ? s.grades?.[state.assignment] : null;
  const thumb = s.design
    ? h("img", { class: "thumb", src: `${s.design.preview}?v=${encodeURIComponent(s.design.updated_at)}`, alt: `${s.name}'s design`, loading: "lazy" })
    : h("div", { class: "thumb thumb-empty", text: "no design yet" });
  card.append(
    h("div", { class: "student-head" },
      h("span", { class: "online-dot", title: s.online ? "has an assignment open" : "no assignment open" }),
      h("span", { class: "student-name", text: s.name, title: s.name }),
      grade ? h("span", { class: `pill ${grade.met ? "pill-ok" : "pill-warn"}`, "data-testid": "grade", text: `${grade.score}/${grade.out_of}` }) : null),
    thumb,
    h("div", { class: "figures", "data-testid": "figures", "data-running": String(live) },
      figure("req/s", live ? compact(d.throughput_rps) : "–"),
      figure("p99", live && d.p99_ms != null ? ms(d.p99_ms) : "–"),
      figure("errors", live ? percent(d.error_ratio, 1) : "–"),
      figure("cost/h", money(d?.cost_per_hour))),
    h("div", { class: "student-actions" },
      live && d.run_id ? h("a", { href: `/w/${encodeURIComponent(d.run_id)}`, target: "_blank", rel: "noopener", "data-testid": "watch-run", text: "Watch run" }) : null,
      s.design ? h("a", { href: s.design.preview, target: "_blank", rel: "noopener", text: "Picture",
                          title: "The latest saved design, as a picture (opens in a new tab)" }) : null));
  return card;
}

function renderStudent(s) {
  const old = view.roster.querySelector(`[data-student="${CSS.escape(String(s.id))}"]`);
  const card = studentCard(s);
  if (old) old.replaceWith(card);
  else view.roster.append(card);
}

function renderOnline() {
  const online = [...state.students.values()].filter((s) => s.online).length;
  // a seat socket is an assignment open in an editor (a lecture's room is not one: its
  // students show in the lecture's card)
  view.online.textContent = `${online} of ${state.students.size} with an assignment open`;
}

function renderBoard() {
  clear(view.board);
  const rows = [...state.students.values()]
    .map((s) => ({ s, g: state.assignment ? s.grades?.[state.assignment] : null }))
    .filter((r) => r.g)
    .sort((a, b) => compareGrades(a.g, b.g));
  rows.forEach(({ s, g }, i) => view.board.append(h("tr", {},
    h("td", { text: String(i + 1) }), h("td", { text: s.name }),
    h("td", {}, h("span", { class: `pill ${g.met ? "pill-ok" : "pill-warn"}`, text: `${g.score}/${g.out_of}` })),
    h("td", { text: money(g.cost_per_hour) }))));
  if (!rows.length) view.board.append(h("tr", {}, h("td", { colspan: 4, class: "muted", text: "No grades yet." })));
}

function renderAll() {
  clear(view.roster);
  for (const s of state.students.values()) renderStudent(s);
  if (!state.students.size) view.roster.append(h("p", { class: "muted roster-empty", text: "Nobody has joined yet." }));
  renderOnline();
  renderBoard();
}

function note(text) {
  const el = h("div", { class: "note", text });
  view.log.append(el);
  setTimeout(() => el.remove(), 5000);
}

view.select.addEventListener("change", () => {
  state.assignment = view.select.value || null;
  fillAssignments();
  renderAll();
});

view.drillAction.addEventListener("change", fillDrillTargets);

$("#drill").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!view.drillTarget.value) return;
  const action = view.drillAction.value;
  const target = JSON.parse(view.drillTarget.value);
  const command = action === "slow" ? { action, target, params: { factor: 5 } } : { action, target };
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "drill", command }));
});

// Stale digests fade to "not running" even when nothing new arrives.
setInterval(() => { for (const s of state.students.values()) if (s.digest) renderStudent(s); }, 2000);

window.dashboard = { state };
fillDrillTargets();
connect();

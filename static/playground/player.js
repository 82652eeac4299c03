// Comms and run state: the play websocket (docs/protocol.md). Connects, reconnects with
// backoff and re-joins its run; applies snapshots and frames in seq order (a gap waits for
// the next snapshot); keeps the live state the views draw. Emits on the bus:
//   conn:changed {state: "connecting"|"online"|"offline", retryIn, latency}
//   run:changed  (phase, status or run replaced)   run:snapshot {run, reset, fresh, started}
//   run:frame {run, frame, history}   run:command {command}   run:predictions {run}
//   run:ended {reason}   server:error {msg}
//   server:notice {message} (a run moved to another worker; the service is away a moment)

import { edgeId, linkKey } from "./topology.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const PING_MS = 20000;
const SMOOTH_S = 2.5; // time constant of the smoothed utilisation shown on cards
// Frames received are acked at most this often, the latest seq: a viewer that falls ~2 s
// behind (unacked frames) gets only the newest state (docs/protocol.md, "ack").
const ACK_MS = 250;

export class Player {
  constructor(bus, { url, runMemory } = {}) {
    this.bus = bus;
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/play/`;
    this.runMemory = runMemory;
    this.ws = null;
    this.state = "connecting";
    this.attempt = 0;
    this.retryTimer = 0;
    this.retryAt = 0;
    this.pingTimer = 0;
    this.pingId = 0;
    this.pings = new Map();
    this.latency = null;
    this.run = null;
    this.starting = null; // the start message waiting for its snapshot
    this.speed = 1;
    this.stats = { dotsDrawn: 0, framesApplied: 0, snapshots: 0, framesSkipped: 0,
                   lastT: null, lastSeq: null };
    this.forgotten = new Set(); // runs we stopped or left: their late messages are ignored
    this.ackTimer = 0;
    this.ackedAt = 0;
    this.toAck = null; // {run_id, seq} of the latest frame received, not yet acked
    this.steer = null; // a co-edited design's shared run: {runId, control, send} (coedit-run.js)
  }

  // -- connection ----------------------------------------------------------------------
  connect() {
    clearTimeout(this.retryTimer);
    if (this.ws && this.ws.readyState <= 1) return;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => this.opened());
    ws.addEventListener("message", (e) => this.received(e.data));
    ws.addEventListener("close", (e) => this.closed(e));
  }

  reconnectNow() {
    this.attempt = 0;
    this.connect();
  }

  /** The page is shown again (the back-forward cache): reconnect at once if the socket went. */
  resume() {
    if (!this.ws || this.ws.readyState > 1) this.reconnectNow();
  }

  setState(state) {
    this.state = state;
    const retryIn = state === "offline" ? Math.max(0, this.retryAt - Date.now()) : 0;
    this.bus.emit("conn:changed", { state, retryIn, latency: this.latency, attempt: this.attempt });
  }

  opened() {
    this.attempt = 0;
    this.setState("online");
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
    this.ping();
    const remembered = !this.starting && !this.run
      ? (this.watchId ? { id: this.watchId } : this.runMemory?.get()) : null;
    const rejoin = this.run ? { id: this.run.id, token: this.run.token } : remembered;
    if (rejoin?.id && !(this.run?.status?.ended)) {
      this.send({ type: "join", run_id: rejoin.id, ...(rejoin.token ? { token: rejoin.token } : {}) });
    }
    if (this.starting && !this.starting.sent) {
      this.starting.sent = true;
      this.send(this.starting.msg);
    }
  }

  closed(e) {
    clearInterval(this.pingTimer);
    this.ws = null;
    if (this.starting?.sent) {
      // it may or may not have started; a join after reconnect cannot know the id
      this.starting = null;
      this.bus.emit("run:changed", this.view());
    }
    if (e.code === 4008) {
      this.bus.emit("server:error", { msg: { type: "error", code: "closed_by_server",
        message: e.reason || "the server closed the connection (policy: too large or too many messages)" } });
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (1 + Math.random() * 0.3));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setState("offline");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  get online() {
    return this.ws?.readyState === 1;
  }

  send(msg) {
    if (!this.online) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  ping() {
    const id = ++this.pingId;
    this.pings.set(id, performance.now());
    this.send({ type: "ping", id });
  }

  // -- run lifecycle -------------------------------------------------------------------
  /** idle | starting | playing | paused | ended */
  get phase() {
    if (this.starting) return "starting";
    if (!this.run) return "idle";
    if (this.run.status?.ended) return "ended";
    return this.run.status?.playing ? "playing" : "paused";
  }

  /** Paused where the run was meant to stop: a live run at its duration (it can play on
   * past it), a replay at the end of the recording. */
  get finished() {
    const run = this.run;
    if (!run || this.phase !== "paused") return false;
    const end = run.replay?.until_s ?? run.status?.duration_s ?? run.scenario?.duration_s;
    return typeof end === "number" && Math.abs(run.t - end) < 0.05;
  }

  get live() {
    return !!this.run && !this.run.status?.ended;
  }

  /** May this tab steer the run? A co-edited design's shared run: if the room says so. */
  get owner() {
    return this.steering ? this.steer.control : !!this.run?.owner;
  }

  /** Is the run the room's shared one, steered through the room (who did what is told)? */
  get steering() {
    return !!this.run && this.steer?.runId === this.run.id;
  }

  /** Who may change the run, for a viewer's notes. */
  get steeredBy() {
    return this.steering ? "the design's editors" : "the person who started it";
  }

  /** The room's shared run: steered through `steer.send` while it is the one watched. */
  steerThrough(steer) {
    this.steer = steer;
    this.bus.emit("run:changed", this.view());
  }

  /** May this tab change the running system (fail, set...)? Not in a replay: it is fixed. */
  get canCommand() {
    return this.owner && this.live && !this.run.replay;
  }

  view() {
    return { phase: this.phase, run: this.run, state: this.state };
  }

  /** Run a design; `assignment` (its id) marks a student's run, whose digests reach the
   * classroom's dashboard. */
  start(doc, { paused = false, assignment = null } = {}) {
    this.sendStart({ type: "start", scenario: doc, speed: this.speed, paused,
                     ...(assignment ? { assignment } : {}) });
  }

  /** Watch someone else's live run (its id is the link's secret), read-only. */
  watch(runId) {
    this.watchId = runId;
    if (this.online) this.send({ type: "join", run_id: runId });
  }

  /** Watch the run a co-edited design's room shares (coedit-run.js). It replaces the run
   * this tab watched: left, or stopped if this tab started it. Not while this tab starts
   * one: shared as it starts, that one replaces the room's run in turn. */
  attach(runId) {
    if (this.run?.id === runId || this.starting) return;
    if (this.run) this.forget(this.run.id, this.run.owner && !this.run.status?.ended ? "stop" : "leave");
    this.forgotten.delete(runId);
    this.watch(runId);
    this.bus.emit("run:changed", this.view());
  }

  /** Replay a run link (its share id): a run of the recorded commands that can seek. */
  replay(runLink, { paused = false } = {}) {
    this.sendStart({ type: "replay", run_link: runLink, speed: this.speed, paused });
  }

  sendStart(msg) {
    if (this.run) this.forget(this.run.id, this.run.owner ? "stop" : "leave");
    this.starting = { msg, sent: false, paused: msg.paused };
    if (this.online) {
      this.starting.sent = true;
      this.send(msg);
    } else {
      this.connect();
    }
    this.bus.emit("run:changed", this.view());
  }

  forget(runId, how) {
    this.forgotten.add(runId);
    this.send({ type: how, run_id: runId });
    if (this.run?.id === runId) {
      this.run = null;
      this.runMemory?.set(null);
    }
  }

  control(action, extra = {}) {
    if (!this.run) return false;
    if (action === "speed") this.speed = extra.speed;
    if (this.steering) return this.steer.send({ type: "run_control", action, ...extra });
    return this.send({ type: "control", run_id: this.run.id, action, ...extra });
  }

  /** Go to simulated time `t` (replays only; the server answers with a keyframe). */
  seek(t) {
    return this.control("seek", { t });
  }

  setSpeed(speed) {
    this.speed = speed;
    if (this.run && !this.run.status?.ended) this.control("speed", { speed });
  }

  /** A live change: {action, target, params?}. */
  command(command) {
    if (!this.run) return false;
    if (this.steering) return this.steer.send({ type: "run_command", command });
    return this.send({ type: "command", run_id: this.run.id, command });
  }

  stop() {
    if (this.starting && !this.run) {
      this.starting = null;
      this.bus.emit("run:changed", this.view());
      return;
    }
    if (!this.run) return;
    if (this.run.status?.ended || !this.owner) {
      // a finished run, or someone else's (a viewer cannot end it: Stop leaves it)
      const left = !this.owner && !this.run.status?.ended;
      this.forget(this.run.id, this.run.owner && !this.steering ? "stop" : "leave");
      this.bus.emit("run:ended", { reason: left ? "left" : "stopped" });
      this.bus.emit("run:changed", this.view());
      return;
    }
    this.control("stop");
  }

  // -- messages ------------------------------------------------------------------------
  received(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.run_id && this.forgotten.has(msg.run_id) && msg.type !== "error") return;
    switch (msg.type) {
      case "snapshot": return this.snapshot(msg);
      case "frame": return this.frame(msg);
      case "status": return this.status(msg);
      case "command": return this.commandLogged(msg);
      case "ended": return this.ended(msg);
      case "error": return this.error(msg);
      case "pong": return this.pong(msg);
      case "notice": return this.bus.emit("server:notice", { message: msg.message });
      case "predictions": return this.predictions(msg);
      default: return undefined;
    }
  }

  snapshot(msg) {
    const prev = this.run && this.run.id === msg.run_id ? this.run : null;
    const scenario = msg.scenario || prev?.scenario;
    const f = msg.frame || {};
    const reset = !prev || (prev.t ?? 0) > (f.t ?? 0) + 1e-9;
    const run = {
      id: msg.run_id,
      owner: msg.owner ?? prev?.owner ?? false,
      token: msg.token || prev?.token || (this.runMemory?.get()?.id === msg.run_id ? this.runMemory.get().token : null),
      status: msg.status || {},
      scenario,
      seed: msg.seed,
      predictions: msg.predictions || { components: {} },
      // a replay knows its whole log up front: commands count from their time on
      replay: msg.replay || prev?.replay || null,
      commands: msg.replay?.commands || prev?.replay?.commands || msg.commands || [],
      seq: msg.seq,
      t: f.t ?? msg.status?.t ?? 0,
      components: structuredClone(f.components || {}),
      links: {},
      summary: f.summary || null,
      bottleneck: null,
      linkKeys: (scenario?.links || []).map((l) => linkKey(l)),
      edgeIds: (scenario?.links || []).map((l) => edgeId(l.from, l.to)),
      smooth: reset ? {} : prev?.smooth || {},
      waiting: false,
    };
    this.applyLinks(run, f.links);
    this.smoothen(run, f.components || {}, reset ? 0 : (run.t - (prev?.t ?? run.t)));
    if (reset) {
      for (const [id, s] of Object.entries(run.components)) {
        if (s.util !== undefined) run.smooth[id] = { util: s.util };
      }
    }
    run.bottleneck = "bottleneck" in f ? f.bottleneck : this.busiest(run);
    const fresh = !prev;
    const started = !!this.starting && fresh; // this tab's start, answered
    this.run = run;
    this.starting = null;
    this.runMemory?.set({ id: run.id, token: run.token });
    this.stats.snapshots += 1;
    this.stats.framesApplied += 1;
    this.stats.lastT = run.t;
    this.stats.lastSeq = run.seq;
    this.bus.emit("run:snapshot", { run, reset, fresh, started, frame: f });
    this.bus.emit("run:changed", this.view());
  }

  /** Ack the latest frame received (applied or not), throttled, the last one always. */
  ack(msg) {
    this.toAck = { run_id: msg.run_id, seq: msg.seq };
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = 0;
      this.ackedAt = performance.now();
      if (this.toAck) this.send({ type: "ack", ...this.toAck });
      this.toAck = null;
    }, Math.max(0, this.ackedAt + ACK_MS - performance.now()));
  }

  frame(msg) {
    const run = this.run;
    if (!run || run.id !== msg.run_id) return;
    this.ack(msg);
    if (msg.seq !== run.seq + 1 && !msg.full) {
      run.waiting = true;
      this.stats.framesSkipped += 1;
      return;
    }
    const f = msg.frame || {};
    const wasFinished = this.finished;
    // a new object per frame: the views hold the previous one until they redraw, so a
    // card never shows this frame's component numbers next to last frame's link rates
    run.components = msg.full ? {} : { ...run.components };
    run.seq = msg.seq;
    run.waiting = false;
    const dt = (f.t ?? run.t) - run.t;
    run.t = f.t ?? run.t;
    const wasPlaying = run.status?.playing, wasEnded = run.status?.ended;
    if (msg.status) run.status = msg.status;
    for (const [id, changed] of Object.entries(f.components || {})) {
      run.components[id] = { ...(run.components[id] || {}), ...changed };
    }
    this.smoothen(run, f.components || {}, dt);
    this.applyLinks(run, f.links);
    if (f.summary) run.summary = f.summary;
    run.bottleneck = "bottleneck" in f ? f.bottleneck : this.busiest(run);
    this.stats.framesApplied += 1;
    this.stats.lastT = run.t;
    this.stats.lastSeq = run.seq;
    // after a seek: the run's summaries before this time, for the charts (docs/protocol.md)
    this.bus.emit("run:frame", { run, frame: f, history: msg.history || null });
    if (run.status?.playing !== wasPlaying || run.status?.ended !== wasEnded || this.finished !== wasFinished) {
      this.bus.emit("run:changed", this.view());
    }
  }

  applyLinks(run, links) {
    if (!links) return;
    run.links = {};
    for (const [i, rps, err, net] of links) {
      const key = run.linkKeys[i];
      // net: a link with a bandwidth, {utilisation: [there, back], queue: [there, back]}
      if (key) run.links[key] = net ? [rps, err, net] : [rps, err];
    }
  }

  smoothen(run, changed, dt) {
    const alpha = dt > 0 ? 1 - Math.exp(-dt / SMOOTH_S) : 1;
    for (const [id, s] of Object.entries(run.components)) {
      if (s.util === undefined) continue;
      const prev = run.smooth[id]?.util;
      run.smooth[id] = { util: prev === undefined ? s.util : prev + alpha * (s.util - prev) };
    }
  }

  /** The most utilised pool by smoothed utilisation (when frames do not name one); sticky
   * so it does not flicker between two pools that are about as busy. */
  busiest(run) {
    let best = null, top = 0.5;
    for (const [id, sm] of Object.entries(run.smooth)) {
      if (run.components[id]?.up === false) continue;
      if (sm.util > top) {
        best = id;
        top = sm.util;
      }
    }
    const cur = run.bottleneck;
    const curUtil = cur ? run.smooth[cur]?.util ?? 0 : 0;
    if (cur && best && best !== cur && curUtil > 0.5 && top - curUtil < 0.05) return cur;
    return best;
  }

  status(msg) {
    if (!this.run || this.run.id !== msg.run_id) return;
    this.run.status = msg.status;
    if (msg.status?.t !== undefined && msg.status.t > this.run.t) this.run.t = msg.status.t;
    this.bus.emit("run:changed", this.view());
  }

  commandLogged(msg) {
    if (!this.run || this.run.id !== msg.run_id) return;
    this.run.commands.push(msg.command);
    this.bus.emit("run:command", { command: msg.command, run: this.run });
  }

  ended(msg) {
    if (!this.run || (msg.run_id && this.run.id !== msg.run_id)) return;
    const last = this.run;
    this.run = null;
    this.runMemory?.set(null);
    this.lastRun = last;
    this.bus.emit("run:ended", { reason: msg.reason || "stopped", run: last });
    this.bus.emit("run:changed", this.view());
  }

  error(msg) {
    if ((msg.ref === "start" || msg.ref === "replay") && this.starting) {
      this.starting = null;
      this.bus.emit("run:changed", this.view());
    }
    if (msg.code === "unknown_run") {
      const hadRun = !!this.run;
      this.run = null;
      this.runMemory?.set(null);
      this.bus.emit("run:changed", this.view());
      if (!hadRun) return; // a remembered run from before a reload that is gone: nothing to say
    }
    this.bus.emit("server:error", { msg });
  }

  predictions(msg) {
    if (!this.run || this.run.id !== msg.run_id) return;
    this.run.predictions = msg.predictions || { components: {} };
    this.bus.emit("run:predictions", { run: this.run });
  }

  pong(msg) {
    const sent = this.pings.get(msg.id);
    this.pings.delete(msg.id);
    if (sent !== undefined) {
      this.latency = Math.round(performance.now() - sent);
      this.bus.emit("conn:changed", { state: this.state, latency: this.latency, retryIn: 0 });
    }
  }

  // -- what the views draw -------------------------------------------------------------
  /** Scenario events and commands in effect now, in time order: the one source of what is
   * cut, slowed or set, for every view (details, context menu, cards). A live run's logged
   * commands are in effect as soon as they are logged (the server applied them at its own
   * time, which may be ahead of the last frame's); a replay knows its commands up front and
   * they count from their time on. */
  inEffect(run = this.run) {
    if (!run) return [];
    const done = (e) => e.at_s <= run.t + 1e-9;
    return [...(run.scenario?.events || []).filter(done), ...run.commands.filter((c) => !run.replay || done(c))]
      .sort((a, b) => a.at_s - b.at_s);
  }

  /** Links cut now: scenario events and commands, in time order. */
  cutLinks(run = this.run) {
    const cut = new Set();
    if (!run) return cut;
    const events = this.inEffect(run).filter((e) => e.action === "partition" || e.action === "heal");
    for (const e of events) {
      const key = `${e.target[0]}>${e.target[1]}`;
      if (e.action === "partition") cut.add(key);
      else cut.delete(key);
    }
    return cut;
  }

  /** Slow-down factor of a component now (1 = normal). */
  slowFactor(id, run = this.run) {
    if (!run) return 1;
    let factor = 1;
    const events = this.inEffect(run).filter((e) => e.action === "slow" && e.target === id);
    for (const e of events) factor = e.params?.factor ?? 1;
    return factor;
  }

  /** Parameters of a component in the run now: scenario params with `set` applied. */
  paramsNow(id, run = this.run) {
    if (!run) return null;
    const c = run.scenario?.components?.find((x) => x.id === id);
    if (!c) return null;
    const params = { ...(c.params || {}) };
    const sets = this.inEffect(run).filter((e) => e.action === "set" && e.target === id);
    for (const e of sets) Object.assign(params, e.params || {});
    return params;
  }

  liveView() {
    const run = this.run;
    if (!run) return null;
    const sent = {};
    for (const [key, [rps]] of Object.entries(run.links)) {
      const from = key.slice(0, key.indexOf(">"));
      sent[from] = (sent[from] || 0) + rps;
    }
    return { components: run.components, links: run.links, bottleneck: run.bottleneck,
             cut: this.cutLinks(run), smooth: run.smooth, sent };
  }
}

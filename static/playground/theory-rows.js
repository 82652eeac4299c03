// The figures of one component in the details panel: each live figure beside its prediction
// under one name and unit, and where only one side has a figure, why the other has none
// (shown as the cell's tooltip). Pure: the panel draws the rows this returns.

import { clock, compact, ms, num, percent, words } from "./format.js";

const rps = (v) => `${compact(v)} rps`;
const ratio = (v) => percent(v, 1);
const ratio2 = (v) => percent(v, v < 1 ? 2 : 0);

// Why theory gives no figure for what the run measures.
const NO_THEORY = {
  in_flight: "Theory gives means over time, not the count at one instant (on average it is arrivals × mean latency, Little's law).",
  err: "Theory assumes every component stays up and each request is offered once: failures enter availability only.",
  entries: "Theory treats caches as warm: it does not count their entries.",
  dirty: "Theory does not count the writes a write-behind cache holds.",
  tokens: "Theory models the bucket's admitted rate, not its tokens at one instant.",
  answers: "Theory models the share of lookups, not how many callers hold an answer now.",
  breakers: "Theory ignores circuit breakers (each request is offered once).",
  retries: "Theory ignores retries: each request is offered once.",
  partitioned: "Theory predicts the store without a partition.",
  targets_up: "Theory assumes every target is up.",
  role: "Theory predicts the steady state, not who is primary now.",
};

// Why the run shows no live figure for what theory predicts.
const NOT_LIVE = {
  offered_utilisation: "The work offered, rejected requests included; the run measures the work it served (Utilisation).",
  blocking_probability: "The share turned away by a full queue; live, rejections count among Failures.",
  admitted_rps: "The rate let through; live, see Arrivals less Failures.",
  limited_rps: "The rate answered 429; live, 429s count among Failures.",
  rate_limited_rps: "The rate answered 429; live, 429s count among Failures.",
  blocked_ratio: "The share blocked; live, blocked requests count among Failures.",
  flush_rps: "The rate of write-behind flushes; live, see the database's arrivals.",
  lookup_ratio: "The share of requests that make a lookup; not counted live.",
  write_downtime_per_failover_s: "Per failover, from the heartbeat and promotion times; the run's own failovers show on the timeline.",
  lost_writes_per_failover: "Per failover, on average; not counted live.",
};

const NOT_PREDICTED = "No analytic prediction for this figure of this component.";

// Why theory gives no figure for a client's own answers.
const CLIENT_NO_THEORY = {
  ok: "Theory gives the rate offered (Sent); answers fall short of it only by failures, which theory leaves out.",
  errors: "Theory assumes every component stays up and each request is offered once: failures enter availability only.",
};

/** Why a live cell is empty now: warm-up, or nothing of that kind happened in the window. */
function emptyNow(run, what, span = "the last simulated second") {
  const warm = run.scenario?.warmup_s || 0;
  if (run.t < warm) return `Warming up: live figures count from ${clock(warm)}.`;
  return `${what} in ${span}.`;
}

/**
 * The rows for component `id` of kind `kind`: {key, figure, label, now, theory, fmt, bar,
 * nowWhy, theoryWhy}; `now` or `theory` undefined when that side has none (then `*Why` says
 * why). `figure` names what the row shows as a lesson's `view.watch` does (docs/lessons.md):
 * the key, or for one row among several (per target, group, side, step) their common name.
 */
export function componentRows(run, id, kind) {
  const s = run.components[id] || {};
  const pred = run.predictions?.components?.[id] || {};
  const rows = [];
  const used = new Set(["model", "saturated", "error", "notes", "availability"]);
  const take = (key) => { used.add(key); return pred[key]; };
  const add = (key, label, now, theory, fmt, extra = {}) => {
    if (now === undefined && theory === undefined && !extra.always) return;
    rows.push({ key, figure: key, label, now, theory, fmt, ...extra });
  };

  if (s.util !== undefined || "utilisation" in pred) {
    add("util", "Utilisation", run.smooth[id]?.util ?? s.util, take("utilisation"), (v) => percent(v),
        { bar: true, nowWhy: "Busy workers over workers, in the last simulated second." });
  }
  if (kind === "client") {
    // a client receives nothing (its rps is 0): what it sends is on its links
    const sent = Object.entries(run.links).filter(([k]) => k.startsWith(`${id}>`))
      .reduce((sum, [, [r]]) => sum + r, 0);
    add("rps", "Sent", sent, take("offered_rps"), rps);
    add("target", "Scheduled rate", s.target_rps, undefined, rps,
        { figure: "target_rps", nowWhy: "What its schedule asks for at this moment (Sent: what it sent in the last simulated second).",
          theoryWhy: "Theory takes a schedule at its mean rate over the run (Sent)." });
  } else {
    add("rps", "Arrivals", s.rps, take("offered_rps"), rps);
  }
  const latency = take("latency_ms");
  const lat = latency && typeof latency === "object" ? latency : {};
  if (s.queue !== undefined || "mean_queue" in pred) {
    add("queue", "Queue", s.queue, take("mean_queue"), (v) => num(v, 1),
        { nowWhy: "Waiting at this instant; theory gives the mean.", theoryWhy: NOT_PREDICTED });
  }
  const pool = s.util !== undefined || "mean_wait_ms" in pred;
  if (pool) {
    add("wait", "Mean wait", s.wait_ms, take("mean_wait_ms"), ms,
        { always: true, nowWhy: s.wait_ms === undefined ? emptyNow(run, "No request started service here") : "",
          theoryWhy: kind === "worker" ? "A worker's messages wait in their queue: see the queue's mean wait." : NOT_PREDICTED });
  }
  add("latency", "Mean latency", s.latency_ms, lat.mean, ms,
      { always: true, nowWhy: s.latency_ms === undefined ? emptyNow(run, "No request was answered OK here") : "",
        theoryWhy: NOT_PREDICTED });
  // a pool's over the last whole block of 5 s after warm-up; a client's over the last 5 s
  const span = kind === "client" ? "the last 5 simulated seconds" : "the last whole 5 simulated seconds";
  for (const p of ["p95", "p99"]) {
    const now = s[p] ?? undefined;
    if (lat[p] !== undefined || now !== undefined || (kind === "client" && p === "p99")) {
      add(p, `Latency ${p}`, now, lat[p], ms,
          { always: true, nowWhy: now === undefined ? emptyNow(run, "No request was answered OK here", span) : `Over ${span}.`,
            theoryWhy: NOT_PREDICTED });
    }
  }
  if (kind === "client") {
    add("ok", "Answered", s.ok_rps, undefined, (v) => `${compact(v)} ok rps`,
        { nowWhy: "Its requests answered OK per second, in the last simulated second.", theoryWhy: CLIENT_NO_THEORY.ok });
    add("errors", "Error ratio", s.error_ratio, undefined, (v) => percent(v, v > 0 && v < 0.1 ? 1 : 0),
        { nowWhy: "Its requests that failed, of those finished in the last simulated second.", theoryWhy: CLIENT_NO_THEORY.errors });
  }
  if (s.hit_ratio !== undefined || "hit_ratio" in pred) {
    add("hit", "Hit ratio", s.hit_ratio, take("hit_ratio"), ratio,
        { nowWhy: s.hit_ratio === undefined ? emptyNow(run, "Nothing was looked up here") : "" });
  }
  if (s.sides && s.partitioned) {
    // a quorum store while partitioned: what each side gets (theory assumes no partition)
    const why = NO_THEORY.partitioned;
    s.sides.forEach(([requests, refused, stale], i) => {
      const side = i ? "cut-off side" : "majority side";
      add(`side${i}:refused`, `Refused, ${side}`, requests ? refused / requests : undefined, undefined, ratio,
          { figure: "refusals", theoryWhy: why,
            nowWhy: `${compact(refused)} of ${compact(requests)} requests/s refused (no quorum), in the last simulated second.` });
      add(`side${i}:stale`, `Stale reads, ${side}`, stale ?? undefined, undefined, ratio,
          { always: true, figure: "stale_reads", theoryWhy: why,
            nowWhy: stale === null ? "No read was served on this side in the last simulated second." : "Share of the reads served on this side, in the last simulated second." });
    });
  }
  if (s.miss_rps) {
    const why = "Theory (Che, TTL) gives the hit ratio, not why each miss happened.";
    [["expired", "Misses: expired", "Its entry's TTL had run out."],
     ["evicted", "Misses: evicted", "It was cached once and pushed out for room (or lost when this failed)."],
     ["first", "Misses: first time", "Never cached here before (or, in push mode, not pushed)."]]
      .forEach(([k, label, what], i) => add(`miss:${k}`, label, s.miss_rps[i], undefined, rps,
                                            { nowWhy: `${what} Per second, in the last simulated second.`, theoryWhy: why }));
  }
  if (s.stale_read_ratio !== undefined || "stale_read_ratio" in pred) {
    add("stale_read_ratio", "Stale-read ratio", s.stale_read_ratio, take("stale_read_ratio"), ratio,
        { nowWhy: s.stale_read_ratio === undefined ? emptyNow(run, "No read was served here") : "",
          theoryWhy: pred.stale_read_model ? "" : "Not predicted: sync replicas, a store partitioned from the start, or a load theory does not know." });
    used.add("stale_read_model");
  }
  add("availability", "Availability", s.available ?? (s.up === undefined ? undefined : 1), pred.availability, ratio2,
      { nowWhy: "Share of the time up since warm-up." });
  add("in_flight", "In flight", s.in_flight, undefined, (v) => num(v, 0), { theoryWhy: NO_THEORY.in_flight });
  add("err", "Failures", s.err_rps, undefined, (v) => `${compact(v)}/s`, { theoryWhy: NO_THEORY.err });
  for (const key of ["entries", "dirty", "tokens", "answers", "targets_up"]) {
    add(key, words(key).replace(/^./, (c) => c.toUpperCase()), s[key], undefined, (v) => compact(v), { theoryWhy: NO_THEORY[key] });
  }
  if (s.role !== undefined) add("role", "Role", s.role, undefined, String, { theoryWhy: NO_THEORY.role });
  if (s.partitioned !== undefined) {
    add("partitioned", "Replicas cut off", s.partitioned, undefined, (v) => num(v, 0), { theoryWhy: NO_THEORY.partitioned });
  }
  if (s.lost_writes !== undefined) {
    add("lost_writes", "Lost writes so far", s.lost_writes, undefined, (v) => compact(v),
        { nowWhy: kind === "cache" ? "Writes it held unflushed when it failed, so far." : "Writes lost by its failovers so far.",
          theoryWhy: kind === "cache" ? "Theory does not count the writes a write-behind cache loses when it fails."
            : "Theory gives the writes lost per failover, not the run's total." });
  }
  for (const [key, label] of EXCHANGE_COUNTERS) { // an exchange's messages and copies
    if (s[key] !== undefined) add(key, label, s[key], undefined, (v) => compact(v), { theoryWhy: EXCHANGE_THEORY });
  }
  if (s.breakers_open !== undefined) add("breakers", "Breakers open", s.breakers_open, undefined, (v) => num(v, 0), { theoryWhy: NO_THEORY.breakers });

  const out = (run.scenario?.links || []).filter((l) => l.from === id && (l.kind || "call") === "call");
  // shares per target: what each outgoing link carries now against the predicted split
  const split = take("per_target_rps");
  if (split && typeof split === "object") {
    const now = out.map((l) => run.links[`${id}>${l.to}`]?.[0] ?? 0);
    out.forEach((l, i) => add(`to:${l.to}`, `→ ${l.to}`, now[i], split[l.to] ?? 0, rps, { figure: "split" }));
    if (kind === "shard_router") shardRows(add, take, s, out, now);
  }
  callerRows(add, s, run, id, out);
  classRows(add, take, s, run, kind);
  fleetRows(add, take, s);
  groupRows(add, take, s, run, id);
  deliveryRows(add, s);
  failoverRows(add, take, s, run, id);
  // what theory predicts and the run does not measure live
  for (const [k, v] of Object.entries(pred)) {
    if (used.has(k) || typeof v !== "number" || /_model$/.test(k)) continue;
    // a live figure the frames carry under the prediction's name goes beside it
    const now = typeof s[k] === "number" ? s[k] : undefined;
    add(`p:${k}`, words(k).replace(/ (ms|rps|s)$/, "").replace(/^./, (c) => c.toUpperCase()), now, v,
        (x) => formatTheory(k, x), { figure: k, nowWhy: now !== undefined ? "" : NOT_LIVE[k] || "Not measured live for this component." });
  }
  return rows;
}

/** A shard router: how unevenly requests spread, keys per shard, keys the last change moved. */
function shardRows(add, take, s, out, now) {
  const mean = now.reduce((a, b) => a + b, 0) / (now.length || 1);
  const sd = Math.sqrt(now.reduce((a, b) => a + (b - mean) ** 2, 0) / (now.length || 1));
  add("max_over_mean", "Max over mean", mean > 0 ? Math.max(...now) / mean : undefined, take("max_over_mean"), (v) => `×${num(v)}`,
      { nowWhy: "The busiest target's requests over the mean, in the last simulated second." });
  add("load_cv", "Load CV", mean > 0 ? sd / mean : undefined, take("load_cv"), (v) => num(v),
      { nowWhy: "Standard deviation of the targets' requests over their mean, in the last simulated second." });
  const keysWhy = "Theory predicts the requests per target (the → rows), not the keys each one owns.";
  (s.keys || []).forEach((n, i) => add(`keys:${out[i]?.to}`, `Keys on ${out[i]?.to}`, n, undefined, (v) => compact(v),
                                       { figure: "keys_per_target", theoryWhy: keysWhy,
                                         nowWhy: "Distinct keys seen so far that map to it now." }));
  if (s.moved) {
    const [at, keys, share] = s.moved;
    add("keys_moved", "Keys moved", keys, undefined, (v) => `${compact(v)} (${percent(share, 1)})`,
        { nowWhy: `By the last change of the targets, at ${clock(at)}.`,
          theoryWhy: "Not predicted here: a ring moves about 1/N of the keys when one of N nodes joins or leaves, hash mod N about (N-1)/N." });
  }
}

/** Request classes: per class its rate and mean latency (live at its clients, which count
 * per class) beside theory's offered rate and response time at this component. */
function classRows(add, take, s, run, kind) {
  const pred = take("classes") || {};
  const live = s.classes || {};
  const nowWhy = kind === "client" ? "" : "Counted per class at the clients only.";
  for (const name of new Set([...Object.keys(live), ...Object.keys(pred)])) {
    const now = live[name] || {};
    add(`class:${name}:rps`, `${name}: ${kind === "client" ? "answered" : "arrivals"}`, now.ok_rps, pred[name]?.offered_rps, rps,
        { figure: "classes", always: true, nowWhy: nowWhy || "Its requests answered OK per second, in the last simulated second (theory: the rate offered)." });
    add(`class:${name}:latency`, `${name}: mean latency`, now.latency_ms, pred[name]?.response_ms, ms,
        { figure: "classes", always: true, nowWhy: nowWhy || emptyNow(run, `No ${name} was answered OK`),
          theoryWhy: "Not predicted: it passes a component whose time theory does not know." });
    if (kind === "client") {
      add(`class:${name}:errors`, `${name}: error ratio`, now.error_ratio, undefined, (v) => percent(v, v > 0 && v < 0.1 ? 1 : 0),
          { figure: "classes", theoryWhy: CLIENT_NO_THEORY.errors });
    }
  }
}

/** A service run as instances: how many by state, and what they cost now. */
function fleetRows(add, take, s) {
  const fleet = take("instances");
  if (!s.instances && !fleet) return;
  const count = (state) => (s.instances || []).filter((i) => i.state === state).length;
  const [serving, booting, draining] = ["serving", "booting", "draining"].map(count);
  const present = s.instances?.length;
  add("instances", "Instances", s.instances ? [serving, booting && `${booting} booting`, draining && `${draining} draining`]
    .filter(Boolean).join(" + ") : undefined, fleet?.count, (v) => num(v, 0),
      { nowWhy: "Serving now, and those booting (paid, not serving yet) or draining (no new work).",
        theoryWhy: fleet ? fleet.model : NOT_PREDICTED });
  // a size's price is per instance present, whatever its state
  const price = fleet?.count ? fleet.cost_per_hour / fleet.count : undefined;
  add("cost_per_hour", "Cost per hour", present !== undefined && price !== undefined ? present * price : undefined,
      fleet?.cost_per_hour, (v) => num(v, 2),
      { nowWhy: "Its instances present now (booting, serving, draining) at their size's price.",
        theoryWhy: "At the instance count theory predicts." });
  const step = fleet?.step;
  if (step) {
    const why = "Predicted only: the fluid model of the step from the clients' starting rate to their peak.";
    add("step_reaction", "Reaction time", undefined, step.reaction_s, (v) => `${num(v)} s`,
        { figure: "reaction_s", nowWhy: why, theoryWhy: "Evaluation period + scale-out cooldown + boot + health check." });
    add("step_backlog", "Backlog at the peak", undefined, step.backlog, (v) => num(v, 0),
        { figure: "step_backlog", nowWhy: `${why} Live: the queue.`, theoryWhy: "(Peak rate - capacity before) x reaction time." });
    add("step_drain", "Drained in", undefined, step.drain_s, (v) => `${num(v)} s`,
        { figure: "step_drain_s", nowWhy: why, theoryWhy: `At ${num(step.count, 0)} instances' capacity less the peak rate.` });
  }
  if (s.relogins !== undefined || fleet?.session_miss_ratio !== undefined) {
    add("relogins", "Re-logins so far", s.relogins, undefined, (v) => compact(v),
        { nowWhy: "Requests that found no session on their instance (local sessions), since warm-up.",
          theoryWhy: fleet?.session_miss_ratio !== undefined
            ? `Theory gives the share of a user's later requests that miss: ${percent(fleet.session_miss_ratio, 1)}.`
            : "With a shared store nobody signs in again." });
    add("sessions_lost", "Sessions lost so far", s.sessions_lost, undefined, (v) => compact(v),
        { nowWhy: "Sessions held by instances that failed, drained or were dropped.",
          theoryWhy: fleet?.sessions_lost_share_per_failure !== undefined
            ? `An instance failure loses about ${percent(fleet.sessions_lost_share_per_failure, 0)} of the active sessions.`
            : "A shared store loses no session when an instance goes." });
  }
}

/** A caller with retries or breakers: attempts per request, each link's breaker. */
function callerRows(add, s, run, id, out) {
  if (s.retries_rps !== undefined) {
    const sent = out.reduce((sum, l) => sum + (run.links[`${id}>${l.to}`]?.[0] ?? 0), 0);
    add("attempts", "Attempts per request", sent > s.retries_rps ? sent / (sent - s.retries_rps) : undefined, undefined,
        (v) => `×${num(v)}`, { nowWhy: `Calls sent over calls less retries (${compact(s.retries_rps)} retries/s), in the last simulated second.`,
                                 theoryWhy: NO_THEORY.retries });
  }
  if (s.breakers) {
    for (const l of out) {
      const state = s.breakers[l.to] || "closed";
      add(`breaker:${l.to}`, `Breaker → ${l.to}`, state, undefined, (v) => v.replace("_", "-"),
          { figure: "breaker", theoryWhy: NO_THEORY.breakers });
    }
  }
}

/** A topic: lag per consumer group, and per partition with the worker that owns it. */
function groupRows(add, take, s, run, id) {
  const groups = take("groups") || {};
  const lag = s.lag || {};
  const byPart = s.partition_lag || {};
  for (const g of new Set([...Object.keys(lag), ...Object.keys(groups)])) {
    add(`lag:${g}`, `Lag ${g}`, lag[g], groups[g]?.mean_lag, (v) => num(v, 1),
        { figure: "lag", theoryWhy: groups[g]?.note || NOT_PREDICTED, nowWhy: "Messages appended and not yet processed, at this instant (theory: the mean)." });
    const parts = byPart[g];
    if (!parts) continue;
    // partitions are dealt round-robin over the group's links, in the order listed
    const workers = (run.scenario?.links || []).filter((l) => l.from === id && (l.group || "default") === g).map((l) => l.to);
    add(`parts:${g}`, `${g} by partition`, parts, undefined, (v) => v.join(" · "),
        { figure: "lag", nowWhy: parts.map((n, p) => `p${p} → ${workers[p % workers.length] || "?"}: ${n}`).join("\n"),
          theoryWhy: "Theory gives the group's mean lag (the sum over its partitions)." });
  }
}

const EXCHANGE_COUNTERS = [["published", "Published so far"], ["routed", "Copies routed so far"],
  ["unroutable", "Unroutable so far"]];
const EXCHANGE_THEORY = "Theory gives rates (per target, routed and unroutable per second), not counts so far.";

// At-least-once delivery, rebalancing, ephemeral subscriptions: counters since warm-up.
const DELIVERY_COUNTERS = [
  ["redelivered", "Redelivered so far", "Deliveries after a message's first (its work failed or timed out)."],
  ["dead_lettered", "Dead-lettered so far", "Messages that failed max_deliveries times, sent to the dead-letter queue."],
  ["lost", "Lost so far", "Messages it will never deliver (a failure, or an ephemeral subscription away)."],
  ["rebalances", "Rebalances so far", "Times the group stopped to deal its partitions again."],
];
const DELIVERY_THEORY = "Theory gives shares per message (deliveries per message, dead-letter share), not counts so far.";

/** A queue's (or each topic group's) delivery counters, when it delivers at least once. */
function deliveryRows(add, s) {
  const sets = s.delivery ? Object.entries(s.delivery) : [["", s]];
  for (const [g, counters] of sets) {
    for (const [key, label, why] of DELIVERY_COUNTERS) {
      if (counters[key] === undefined || (!s.delivery && key === "lost")) continue;
      add(g ? `${key}:${g}` : key, g ? `${label} (${g})` : label, counters[key], undefined, (v) => compact(v),
          { figure: key, nowWhy: why, theoryWhy: DELIVERY_THEORY });
    }
  }
}

/** The endpoint of an active-passive cluster: its last failover, step by step. */
function failoverRows(addRow, take, s, run, id) {
  const add = (key, label, now, theory, fmt, extra) => addRow(key, label, now, theory, fmt, { figure: "failover", ...extra });
  const downtime = take("write_downtime_per_failover_s");
  const lostTheory = take("lost_writes_per_failover");
  if (!s.failover) {
    if (downtime !== undefined) {
      add("downtime", "Write downtime per failover", undefined, downtime, (v) => `${num(v)} s`,
          { nowWhy: "No failover yet in this run: fail the primary to see one." });
    }
    return;
  }
  const [failed, detected, promoted, primary, lost] = s.failover;
  const params = run.scenario?.components?.find((c) => c.id === id)?.params || {};
  const hb = params.heartbeat_s, promo = params.promotion_s;
  const at = (v) => clock(v);
  add("failed_at", "Primary failed", failed, undefined, at, { theoryWhy: "When it failed: the run's event." });
  add("detected_at", "Failure detected", detected ?? undefined, hb === undefined ? undefined : failed + hb, at,
      { always: true, nowWhy: "Not yet, or the primary came back before the heartbeat missed it.", theoryWhy: NOT_PREDICTED });
  add("promoted_at", primary ? `Promoted ${primary}` : "Replica promoted", promoted ?? undefined,
      hb === undefined || promo === undefined ? undefined : failed + hb + promo, at,
      { always: true, nowWhy: "Not yet, or no replica was up to take over.", theoryWhy: NOT_PREDICTED });
  add("downtime", "Write downtime", promoted === null ? undefined : promoted - failed, downtime, (v) => `${num(v)} s`,
      { nowWhy: "Of the last failover, once a replica is promoted." });
  add("lost", "Writes lost", promoted === null ? undefined : lost, lostTheory, (v) => num(v, 1),
      { nowWhy: "Of the last failover: writes the promoted replica had not applied.", theoryWhy: "Not predicted with more than one replica, or sync replication loses none." });
}

function formatTheory(key, v) {
  if (typeof v !== "number") return String(v);
  if (/_ms$/.test(key)) return ms(v);
  if (/ratio|utilisation|probability/.test(key)) return percent(v, 1);
  if (/_rps$/.test(key)) return rps(v);
  if (/_s$/.test(key)) return `${num(v)} s`;
  return num(v);
}

/** What the predictions are for: the design's parameters, or those the run has now. */
export function theoryBasis(run, id) {
  const re = run.predictions?.recomputed;
  if (!re) return "";
  const design = run.scenario?.components?.find((c) => c.id === id)?.params || {};
  const mine = re.params?.[id];
  const others = Object.entries(re.params || {}).filter(([cid]) => cid !== id)
    .map(([cid, p]) => `${cid} ${describe(p)}`);
  const parts = [];
  if (mine) {
    parts.push(Object.entries(mine).map(([k, v]) => `${words(k)} ${fmtParam(v)}${k in design ? ` (design ${fmtParam(design[k])})` : ""}`).join(", "));
  }
  if (others.length) parts.push(`${mine ? "and " : ""}${others.join("; ")}`);
  const error = run.predictions.error ? ` ${run.predictions.error}.` : "";
  return `Theory recomputed at ${clock(re.at_s)} for the run's parameters now: ${parts.join(" ")}.${error}`;
}

function fmtParam(v) {
  return v === null ? "none" : typeof v === "number" ? num(v) : String(v);
}

function describe(params) {
  return Object.entries(params).map(([k, v]) => `${words(k)} ${fmtParam(v)}`).join(", ");
}

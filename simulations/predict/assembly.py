"""The predictions put together: per component its load, pool, cache and latency figures,
replica and quorum staleness, topics' lags and failover figures; then saturation,
availability, per-client latency and cost (package docstring: simulations/predict)."""

from __future__ import annotations

import copy
import logging
import math
import weakref
from collections import defaultdict
from typing import Any

from .. import theory as qt
from ..components.sharding import imbalance
from ..registry import hourly_cost
from ..scenario import Scenario, validate
from ..theory.quorum import stale_read_probability
from ..theory.replication import apply_delays, stale_read_ratio_shared_log
from .availability import _Availability
from .design import MS, NO_TIME, POOLS, _Design, _topic_groups
from .load import _Load, _Shared
from .moments import Moments
from .pools import _PoolFit
from .saturation import _saturation
from .timing import _Timing

log = logging.getLogger(__name__)


ASSUMPTIONS = [
    "Steady state of the design as written: scenario events, live commands and the warm-up "
    "are ignored; failures (mtbf_s/mttr_s) enter availability only.",
    "Requests that fail or are rejected still count as offered load downstream.",
    "Arrivals at a pool are Poisson unless a client with arrival_cv != 1 feeds it (then "
    "Allen-Cunneen with a superposition-of-thinned-streams arrival cv); round robin makes "
    "arrivals more regular than Poisson, so waits behind it are slightly over-predicted.",
    "A worker held during downstream calls (blocking) is busy for its own work plus the mean "
    "downstream time; its holding time is then not exponential and its pool is approximate. "
    "Its callees never see more requests at once than it has workers, which open models "
    "ignore: near saturation their waits are over-predicted and the saturation point is "
    "conservative.",
    "Caches are warm: compulsory misses and the delay between a miss and its fill are ignored.",
    "Availability treats component failures as independent, ignores health-check delays, "
    "timeouts and retries, and uses each cache's average hit ratio.",
    "Each request is offered once: retries (which multiply the attempts of failing requests) "
    "and circuit breakers (which turn calls away) are ignored.",
]


# --- the prediction ------------------------------------------------------------------------

def _component(design: _Design, load: _Load, timing: _Timing, cid: str) -> dict[str, Any]:
    kind = design.kind[cid]
    out: dict[str, Any] = {"availability": design.availability(cid)}
    if cid in load.unknown:
        out["notes"] = ["not predicted: its load depends on a hit ratio or a key split that "
                        "is not predicted"]
        return out
    out["offered_rps"] = load.rate(cid)
    notes = _warnings(design, load, cid)
    if cid in timing.fits:
        out.update(_pool_fields(timing.fits[cid], kind))
        notes += [timing.fits[cid].note] if timing.fits[cid].note else []
    if kind == "cache":
        out.update(_cache_fields(load, cid))
    if kind in ("cdn", "reverse_proxy") and cid in load.caches:
        fields = _cache_fields(load, cid)  # a proxy's `model` is its connections'
        out["cache_model" if kind == "reverse_proxy" else "model"] = fields.pop("model")
        out.update(fields)
    out.update(load.edge.get(cid, {}))
    if kind in ("load_balancer", "shard_router", "dns"):
        per_target: dict[str, float] = defaultdict(float)
        for link, _, r in load.waited[cid]:
            per_target[link.to] += r
        out["per_target_rps"] = dict(per_target)
        if kind == "shard_router":
            out.update(imbalance([per_target[link.to] for link in design.calls[cid]]))
    latency = timing.latency(cid)
    if latency is not None:
        out["latency_ms"] = {"mean": latency.mean * MS}
        if cid in timing.percentiles:  # exact: M/M/c with nothing after the service
            p95, p99 = timing.percentiles[cid]
            out["latency_ms"].update(p95=p95 * MS, p99=p99 * MS)
    if notes:
        out["notes"] = notes
    return out


def _pool_fields(fit: _PoolFit, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"model": fit.model, "saturated": fit.saturated}
    if kind != "queue" and fit.utilisation is not None:  # a queue's workers are the pool
        out["utilisation"] = fit.utilisation
    if fit.offered is not None and (fit.saturated or fit.p_block is not None):
        out["offered_utilisation"] = fit.offered
    if fit.wait is not None and kind != "worker":  # a worker's messages wait in the queue
        out["mean_wait_ms"] = fit.wait.mean * MS
        if fit.mean_queue is not None:
            out["mean_queue"] = fit.mean_queue
    if fit.p_block is not None:
        out.update(blocking_probability=fit.p_block, admitted_rps=fit.admitted_rps)
    return out


def _cache_fields(load: _Load, cid: str) -> dict[str, Any]:
    cache = load.caches[cid]
    out: dict[str, Any] = {"model": cache.model}
    if cache.hit is not None:
        out["hit_ratio"] = cache.hit
    if cid in load.flush_rps:  # coalesced, so at most the write rate
        out["flush_rps"] = load.flush_rps[cid]
    return out


def _warnings(design: _Design, load: _Load, cid: str) -> list[str]:
    """Known ways the engine departs from the model at this component."""
    notes = []
    if design.kind[cid] in POOLS + ("queue",) and any(
            design.kind[origin] == "cache" for origin, _, _ in load.flows[cid]):
        notes.append("write-behind flushes arrive in bursts every flush_ms: waits here are "
                     "under-predicted")
    if any(link.from_ == cid and link.mode == "sync" for link in design.replication.values()):
        notes.append("sync writes: a slow apply holds back later writes, so the apply delays "
                     "of consecutive writes are correlated and callers that hold a worker "
                     "meanwhile wait longer than predicted")
    return notes


def _quorum_stale_reads(design: _Design, load: _Load) -> dict[str, float]:
    """Stale-read ratio of each kv_store not partitioned from the start, key by key."""
    out = {}
    for cid, kind in design.kind.items():
        s = design.settings[cid]
        if kind != "kv_store" or s["partitioned_replicas"] or cid in load.unknown \
                or load.rate(cid, "read") <= 0:
            continue
        n, m = s["replicas_n"], s["replica_ms"] / MS
        r, w = min(s["read_quorum"], n), min(s["write_quorum"], n)
        out[cid] = math.fsum(q * stale_read_probability(n, r, w, m, rate) for q, rate in zip(
            load.key_shape(cid, "read"), load.key_rates(cid, "write"), strict=False))
    return out


def _stale_reads(design: _Design, load: _Load) -> dict[str, float]:
    out = {}
    for replica, link in design.replication.items():
        # Sync replicas are left out: whether a write counts before its apply is unsettled.
        if link.mode != "async" or {replica, link.from_} & load.unknown \
                or load.rate(replica, "read") <= 0:
            continue
        writes = load.key_rates(link.from_, "write")
        out[replica] = stale_read_ratio_shared_log(load.key_shape(replica, "read"), writes,
                                        link.lag_ms / MS, link.lag_dist)
    return out


# --- topics and failover -------------------------------------------------------------------

TOPIC_MODEL = ("each partition a FIFO queue at the worker it is dealt to, at the rate of its "
               "keys (by the key hash): M/G/1 (Pollaczek-Khinchine; M/M/1 for exponential "
               "service) per partition when the worker has a slot for each, one M/G/1 for all "
               "its partitions when it has one slot; lag = messages waiting + in service")


def _topic_lags(design: _Design, load: _Load, timing: _Timing, cid: str) -> dict[str, Any]:
    """Mean lag and wait of each consumer group. Exact for Poisson arrivals when every worker
    takes messages from this group only and has a slot per partition (independent queues)
    or a single slot (a work-conserving server: its number in system does not depend on the
    order it serves partitions in); other slot counts are not predicted."""
    n = design.settings[cid]["partitions"]
    rates = [0.0] * n
    for (origin, op, via), rate in load.flows[cid].items():
        for j in range(n):
            rates[j] += rate * load.shape((origin, op, via + (("shard", n, j),)))[1]
    total = math.fsum(rates)
    out: dict[str, Any] = {}
    for name, links in _topic_groups(design.calls[cid]).items():
        lag = waiting = 0.0
        note = None
        for k, link in enumerate(links):
            w, parts = link.to, rates[k::len(links)]
            hold, slots = timing.holding.get(w, (None, False))[0], design.settings[w]["workers"]
            if not math.fsum(parts):
                continue
            if design.graph.in_degree(w) > 1:
                note = f"not predicted: worker '{w}' also takes messages from elsewhere"
            elif hold is None:
                note = f"not predicted: the time of worker '{w}' is not predicted"
            elif 1 < slots < len(parts):
                note = f"not predicted: worker '{w}' has fewer slots than partitions, but more " \
                       "than one"
            elif hold.mean > NO_TIME:
                for lam in (parts if slots >= len(parts) else [math.fsum(parts)]):
                    if lam * hold.mean >= 1.0:
                        note = f"saturated at worker '{w}': the lag grows without bound"
                    elif lam > 0:
                        m = qt.mg1(lam, hold.mean, hold.cv)
                        lag, waiting = lag + m.mean_in_system, waiting + m.mean_queue
        out[name] = {"note": note} if note else {
            "mean_lag": lag, "mean_wait_ms": waiting / total * MS if total > 0 else 0.0,
            "model": TOPIC_MODEL + ("" if load.arrival_cv([cid]) == 1.0 else
                                    " (arrivals are not Poisson here: approximate)")}
    return out


def _failover(design: _Design, load: _Load) -> dict[str, dict[str, Any]]:
    """Per failover: writes fail for heartbeat + promotion, and the writes in flight to the
    promoted replica are lost: by Little's law, on average the write rate times the mean
    apply delay. Between multi-primary peers a write conflicts when a write of its key from
    the peer is in flight: the stale-read formula with the peer's writes."""
    out = {}
    for cid, s in design.settings.items():
        if design.kind[cid] != "database" or cid in load.unknown:
            continue
        links = [link for link in design.replication.values() if link.from_ == cid]
        writes = load.rate(cid, "write")
        if s["failover"] == "active_passive":
            fields: dict[str, Any] = {
                "write_downtime_per_failover_s": s["heartbeat_s"] + s["promotion_s"]}
            if len(links) == 1:  # with more, the most up-to-date replica is promoted
                link = links[0]
                delay = Moments.of(apply_delays(writes, link.lag_ms / MS, link.lag_dist))
                fields["lost_writes_per_failover"] = 0.0 if link.mode == "sync" else \
                    writes * delay.mean
            out[cid] = fields
        elif s["failover"] == "multi_primary" and writes > 0:
            link = design.replication[cid]  # from the peer
            out[cid] = {"conflict_ratio": stale_read_ratio_shared_log(
                load.key_shape(cid, "write"), load.key_rates(link.from_, "write"),
                link.lag_ms / MS, link.lag_dist),
                "conflict_model": "Poisson writes per key on each side: a write conflicts "
                                  "when a write of its key from the peer is not applied yet"}
    return out


def _predict(scenario: Scenario) -> dict[str, Any]:
    design = _Design(scenario)
    shared = _Shared()
    load = _Load(design, 1.0, shared)
    timing = _Timing(design, load)
    components = {cid: _component(design, load, timing, cid) for cid in design.kind}
    for cid, ratio in _quorum_stale_reads(design, load).items():
        components[cid]["stale_read_ratio"] = ratio
        components[cid]["stale_read_model"] = (
            "quorum store, Poisson writes per key, no partition: C(N-W, R)/C(N, R) "
            "w m/(w m + R); writes still in flight ignored (exact as w m -> 0)")
    for replica, ratio in _stale_reads(design, load).items():
        components[replica]["stale_read_ratio"] = ratio
        components[replica]["stale_read_model"] = (
            "async replication of Poisson writes, applied in commit order: a write also "
            "waits for every earlier write still in flight")
    for cid, fields in _failover(design, load).items():
        components[cid].update(fields)
    for cid, kind in design.kind.items():
        if kind == "topic" and cid not in load.unknown:
            components[cid]["groups"] = _topic_lags(design, load, timing, cid)
    out: dict[str, Any] = {"components": components, "assumptions": ASSUMPTIONS}
    saturation = _saturation(design, shared, timing)
    if saturation:
        out["saturation"] = saturation
    avail = _Availability(design, load)
    clients = {c: a for c in design.clients if (a := avail.of_client(c)) is not None}
    if clients:
        rates = {c: load.rate(c) for c in clients}
        out["availability"] = {
            "overall": math.fsum(rates[c] * a for c, a in clients.items())
            / math.fsum(rates.values()),
            "clients": clients,
            "model": "series along a service's calls, any up target of a load balancer, "
                     "hit or downstream at a cache" + (" (partly approximate: too many "
                                                       "shared paths)" if avail.approximate
                                                       else "")}
    out["clients"] = {c: {"mean_latency_ms": m.mean * MS} for c in design.clients
                      if (m := timing.latency(c)) is not None}
    out["cost"] = _cost(design, load)
    return _finite(out)


def _cost(design: _Design, load: _Load) -> dict[str, Any]:
    """The design's running cost, and per million requests if every offered one succeeds."""
    per_hour = math.fsum(hourly_cost(s) for s in design.settings.values())
    out = {"cost_per_hour": per_hour}
    offered = math.fsum(load.origin_rate.values())
    if offered > 0:
        out["cost_per_million_requests"] = per_hour / (offered * 3600.0) * 1e6
    return out


def _finite(value: Any) -> Any:
    """Drop NaN and infinities (there should be none) so the output is valid JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()
                if not (isinstance(v, float) and not math.isfinite(v))}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


_memo: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def predict(scenario: Scenario | dict[str, Any]) -> dict[str, Any]:
    """Analytic predictions for a scenario (JSON-ready; cached per Scenario object)."""
    scenario = validate(scenario)
    key = id(scenario)
    cached = _memo.get(key)
    if cached is None or cached[0]() is not scenario:
        try:
            result = _predict(scenario)
        except Exception as exc:  # predictions are an extra: never lose the report for them
            log.exception("predictions failed for %r", scenario.name)
            result = {"error": f"predictions failed: {exc}"}
        _memo[key] = (weakref.ref(scenario, lambda _, key=key: _memo.pop(key, None)), result)
        cached = _memo[key]
    return copy.deepcopy(cached[1])

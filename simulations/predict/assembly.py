"""The predictions put together: per component its load, pool, cache and latency figures,
staleness, topics' lags and failover figures; then saturation, availability, per-client
latency and cost (the package's docstring says where each comes from)."""

from __future__ import annotations

import copy
import logging
import math
import weakref
from collections import defaultdict
from typing import Any

from ..components.sharding import imbalance
from ..registry import hourly_cost, instance_cost
from ..scenario import Scenario, validate
from .availability import _Availability
from .delivery import delivery_fields
from .design import MS, POOLS, _Design
from .fleets import fleet_fields
from .load import _Load, _Shared
from .pools import _PoolFit
from .replicas import _failover, _quorum_stale_reads, _stale_reads
from .saturation import _saturation
from .schedules import SCHEDULE_ASSUMPTION, schedule_figures
from .timing import _Timing
from .topics import _topic_lags

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

def _component(design: _Design, load: _Load, timing: _Timing, steps: dict[str, Any],
               cid: str) -> dict[str, Any]:
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
    if cid in timing.counts:
        out["instances"] = _group_fields(design, load, timing, steps[cid], cid)
    if kind == "cache":
        out.update(_cache_fields(load, cid))
    if kind in ("cdn", "reverse_proxy") and cid in load.caches:
        fields = _cache_fields(load, cid)  # a proxy's `model` is its connections'
        out["cache_model" if kind == "reverse_proxy" else "model"] = fields.pop("model")
        out.update(fields)
    out.update(load.edge.get(cid, {}))
    if design.classed and (classes := timing.class_figures(cid)):
        out["classes"] = classes
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
        if (percentiles := timing.percentiles(cid)) is not None:
            p95, p99 = percentiles
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


def _group_fields(design: _Design, load: _Load, timing: _Timing, step: tuple[float, float],
                  cid: str) -> dict[str, Any]:
    """A service run as instances: their count, cost, a step's backlog, session misses."""
    hold = timing.holding[cid][0]
    callers = set(design.graph.predecessors(cid))
    # The engine's instances follow the first balancer in front (components in order).
    lb = next((design.settings[c] for c, kind in design.kind.items()
               if c in callers and kind == "load_balancer"), None)
    return fleet_fields(design.settings[cid], load.rate(cid), hold.mean if hold else 0.0,
                        timing.counts[cid], step, lb, consumer=design.kind[cid] == "worker")


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


def _steps(design: _Design, timing: _Timing) -> dict[str, tuple[float, float]]:
    """Each group of instances' offered rate with the clients at their starting rates and
    at their highest: the step an autoscaled group must follow."""
    if not timing.counts:
        return {}
    start = _Load(design, 1.0, _Shared(), rates=design.start_rates)
    high = _Load(design, 1.0, _Shared(), rates=design.peak_rates)
    return {cid: (start.rate(cid), high.rate(cid)) for cid in timing.counts}


def _predict(scenario: Scenario) -> dict[str, Any]:
    design = _Design(scenario)
    shared = _Shared()
    load = _Load(design, 1.0, shared)
    timing = _Timing(design, load)
    steps = _steps(design, timing)
    components = {cid: _component(design, load, timing, steps, cid) for cid in design.kind}
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
        if kind in ("queue", "topic") and cid not in load.unknown:
            components[cid].update(delivery_fields(design, load.rate(cid), cid))
    out: dict[str, Any] = {"components": components, "assumptions": ASSUMPTIONS}
    if timing.links:  # absent without payloads or protocols, as before them
        out["links"] = {f"{a}->{b}": fit.fields() for (a, b), fit in timing.links.items()}
    scheduled: dict[str, dict[str, Any]] = {}
    if design.schedules:
        scheduled, peaks = schedule_figures(design, load, timing)
        for cid, fields in peaks.items():
            components[cid].update(fields)
        out["assumptions"] = ASSUMPTIONS + [SCHEDULE_ASSUMPTION]
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
    for c, fields in scheduled.items():
        out["clients"].setdefault(c, {})["schedule"] = fields
    out["cost"] = _cost(design, load, timing)
    return _finite(out)


def _cost(design: _Design, load: _Load, timing: _Timing) -> dict[str, Any]:
    """The design's running cost, and per million requests if every offered one succeeds
    (a group of instances at the count it runs at the design's rate)."""
    per_hour = math.fsum(instance_cost(s) * timing.counts[cid] if cid in timing.counts
                         else hourly_cost(s) for cid, s in design.settings.items())
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

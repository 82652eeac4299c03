"""Analytic predictions for a scenario, from the scenario alone (never from simulated results).

`predict(scenario)` propagates the clients' read and write rates along the call links, predicts
each cache's hit ratio, fits a queueing model to every pool of workers, and derives replica
staleness, the saturation point, availability and mean end-to-end latency. Each number names
the model it comes from (the formulas live in `queueing`); approximations say so. The report
prints these beside the simulated values, so that each checks the other.

Traffic is followed as *streams*: (origin, op, via), where origin is a client (or a
write-behind cache, whose flushes are new writes), and via lists the key filters the stream
went through: ("miss", cache) keeps the keys a cache missed, ("shard", n, j) the keys an
ip_hash balancer sends to its j-th of n targets. A stream's per-key popularity (its *shape*)
is computed only where keys matter: caches, replicas and ip_hash balancers.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import math
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import queueing as qt
from ..components.quorum import contact_moments, stale_read_probability
from ..components.sharding import imbalance
from ..registry import hourly_cost
from ..scenario import Link, Scenario, validate
from ..theory.replication import apply_delays, stale_read_ratio
from .design import MS, NO_TIME, OPS, POOLS, _Design, _topic_groups
from .load import _Load, _Shared, dns_split
from .moments import Moments, _add, _mix
from .pools import NOT_PREDICTED, _PoolFit, queue_model

log = logging.getLogger(__name__)

MAX_SCALE = 1e12  # the saturation search gives up beyond this many times the client rates

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


# --- response times and pools --------------------------------------------------------------

class _Timing:
    """Response times (Moments, seconds) per component and op, and the pools' models."""

    def __init__(self, design: _Design, load: _Load):
        self.d, self.load = design, load
        self.R: dict[str, dict[str, Moments | None]] = {c: dict.fromkeys(OPS) for c in design.kind}
        self.fits: dict[str, _PoolFit] = {}
        self.holding: dict[str, tuple[Moments | None, bool]] = {}
        self.percentiles: dict[str, tuple[float, float]] = {}
        for cid in reversed(design.order):
            if cid not in load.unknown:
                getattr(self, f"_time_{design.kind[cid]}")(cid)
        for queues, workers in design.groups:
            self._consumer_group(queues, workers)

    def _call(self, link: Link, op: str) -> Moments | None:
        """One call along a link: there, the callee's response, and back."""
        return _add(self.R[link.to][op], Moments(2 * link.latency_ms / MS))

    def _choice(self, cid: str, op: str, wait: Moments | None = None) -> Moments | None:
        """Time downstream of a component that sends a request along at most one link (after
        `wait`, for a connection), over the requests it does not refuse."""
        inflow = self.load.rate(cid, op)
        if inflow <= 0:
            return None
        return _mix([(self.load.answered_here(cid, op), Moments())]  # hits, write-behind
                    + [(r / inflow, _add(wait or Moments(), self._call(link, op)))
                       for link, r in self.load.sent(cid, op)])

    def _calls(self, cid: str, op: str) -> Moments | None:
        """Time of a service's downstream calls: it makes every one, one after another."""
        return _add(*(self._call(link, op) for link in self.d.carrying(cid, op)))

    def _time_client(self, cid: str) -> None:
        for op in OPS:
            self.R[cid][op] = self._choice(cid, op)

    def _time_load_balancer(self, cid: str) -> None:
        overhead = Moments(self.d.settings[cid]["overhead_ms"] / MS)
        for op in OPS:
            self.R[cid][op] = _add(overhead, self._choice(cid, op))

    def _time_cache(self, cid: str) -> None:
        lookup = Moments(self.d.settings[cid]["hit_ms"] / MS)  # paid by hits and misses
        for op in OPS:
            self.R[cid][op] = _add(lookup, self._choice(cid, op))

    def _time_edge(self, cid: str) -> None:
        """A fixed time (the CDN's edge, the WAF's inspection), then at most one link."""
        name = {"cdn": "edge_ms", "waf": "inspect_ms"}.get(self.d.kind[cid])
        own = Moments(self.d.settings[cid][name] / MS if name else 0.0)
        for op in OPS:
            self.R[cid][op] = _add(own, self._choice(cid, op))

    _time_cdn = _time_waf = _time_rate_limiter = _time_edge

    def _time_dns(self, cid: str) -> None:
        share = self.load.edge.get(cid, {}).get("lookup_ratio", 1.0)
        lookup = _mix([(share, Moments(self.d.settings[cid]["lookup_ms"] / MS)),
                       (1.0 - share, Moments())])
        for op in OPS:
            self.R[cid][op] = _add(lookup, self._choice(cid, op))

    def _time_reverse_proxy(self, cid: str) -> None:
        """Its connections are a pool whose holding time is the upstream call."""
        s = self.d.settings[cid]
        sent = [(r, self._call(link, op)) for op in OPS for link, r in self.load.sent(cid, op)]
        lam = math.fsum(r for r, _ in sent)
        hold = _mix(sent) if lam > 0 else None
        if lam <= 0:
            fit = _PoolFit(0.0, 0.0, "no traffic", Moments())
        elif hold is None:
            fit = self._held_by_unknown(cid)
        else:  # a call's time is not exponential, even where the callee's service is
            fit = queue_model(lam, hold, s["connections"], False, s["queue_limit"],
                              self.load.arrival_cv([cid]))
        self.fits[cid] = fit
        own = Moments((s["tls_ms"] + s["compress_ms"]) / MS)
        for op in OPS:  # no wait predicted: no time either
            self.R[cid][op] = _add(own, fit.wait and self._choice(cid, op, fit.wait))

    def _time_queue(self, cid: str) -> None:
        for op in OPS:  # the caller is answered once the message is queued
            self.R[cid][op] = Moments(self.d.settings[cid]["enqueue_ms"] / MS)

    def _time_topic(self, cid: str) -> None:
        for op in OPS:  # the producer is answered once the message is appended
            self.R[cid][op] = Moments(self.d.settings[cid]["append_ms"] / MS)

    def _own(self, cid: str) -> dict[str, Moments]:
        s = self.d.settings[cid]
        names = {"read": "read_ms", "write": "write_ms"} if self.d.kind[cid] == "database" \
            else {"read": "service_ms", "write": "service_ms"}
        return {op: Moments.service(s["service_dist"], s[names[op]] / MS, s["service_cv"])
                for op in OPS}

    def _time_service(self, cid: str) -> None:
        own = self._own(cid)
        down = {op: self._calls(cid, op) for op in OPS}
        if self.d.settings[cid]["blocking"]:  # the worker stays held during the calls
            self._pool(cid, own, {op: _add(own[op], down[op]) for op in OPS},
                       dict.fromkeys(OPS, Moments()))
        else:
            self._pool(cid, own, own, down)

    def _time_worker(self, cid: str) -> None:
        own = self._own(cid)
        hold = {op: _add(own[op], self._calls(cid, op)) for op in OPS}
        self._pool(cid, own, hold, dict.fromkeys(OPS, Moments()), waits_here=False)

    def _time_shard_router(self, cid: str) -> None:
        for op in OPS:
            self.R[cid][op] = self._choice(cid, op)

    def _time_kv_store(self, cid: str) -> None:
        """No queueing: a read waits for the slowest of the R replicas it asks, a write for
        the W-th fastest of N."""
        s = self.d.settings[cid]
        n, m = s["replicas_n"], s["replica_ms"] / MS
        r, w = min(s["read_quorum"], n), min(s["write_quorum"], n)
        self.R[cid] = {"read": Moments(*contact_moments(r, r, m)),
                       "write": Moments(*contact_moments(w, n, m))}

    def _time_database(self, cid: str) -> None:
        own = self._own(cid)
        # A sync write frees its worker, then waits for the replicas before it answers.
        sync = [link for link in self.d.replication.values()
                if link.from_ == cid and link.mode == "sync"]
        rate = self.load.rate(cid, "write")
        delays = [Moments.of(apply_delays(rate, link.lag_ms / MS, link.lag_dist))
                  for link in sync]
        wait_sync = max(delays, key=lambda m: m.mean, default=Moments())
        self._pool(cid, own, own, {"read": Moments(), "write": wait_sync})

    def _pool(self, cid: str, own: dict[str, Moments], hold: dict[str, Moments | None],
              after: dict[str, Moments | None], waits_here: bool = True) -> None:
        """Fit the pool's queue on its holding time; respond = wait + holding + after."""
        s = self.d.settings[cid]
        lam = {op: self.load.rate(cid, op) for op in OPS}
        total = lam["read"] + lam["write"]
        used = [op for op in OPS if lam[op] > 0]
        h = _mix((lam[op] / total, hold[op]) for op in used) if total > 0 else None
        exponential = (s["service_dist"] == "exponential"
                       and all(hold[op] == own[op] for op in used)
                       and len({own[op].mean for op in used}) == 1)
        self.holding[cid] = (h, exponential)
        if total <= 0:
            fit = _PoolFit(0.0, 0.0, "no traffic", Moments())
        elif h is None:
            fit = self._held_by_unknown(cid)
        elif not waits_here:  # a worker starts at once: its messages wait in the queue
            offered = total * h.mean / s["workers"] if h.mean > NO_TIME else 0.0
            fit = _PoolFit(offered, min(offered, 1.0), "waits are in its queue", Moments(),
                           saturated=offered >= 1)
        else:
            fit = queue_model(total, h, s["workers"], exponential, s.get("queue_limit"),
                              self.load.arrival_cv([cid]))
        self.fits[cid] = fit
        for op in OPS:
            self.R[cid][op] = _add(fit.wait, hold[op], after[op])
        if fit.mmc is not None and all(after[op] == Moments() for op in used):
            self.percentiles[cid] = (fit.mmc.response_quantile(0.95),
                                     fit.mmc.response_quantile(0.99))

    def _held_by_unknown(self, cid: str) -> _PoolFit:
        """A worker held during a call whose time has no prediction: why is there none?"""
        below = self.d.below(cid)
        if below & self.load.unknown or any(
                self.fits[x].model == NOT_PREDICTED for x in below if x in self.fits):
            return _PoolFit(None, None, NOT_PREDICTED,
                            note="it waits on components whose times are not predicted")
        return _PoolFit(math.inf, 1.0, "saturated", saturated=True,
                        note="its workers wait on a saturated component downstream")

    def _consumer_group(self, queues: list[str], workers: list[str]) -> None:
        """A queue's wait is the wait of one pool made of all the workers it feeds."""
        if any(c in self.load.unknown for c in queues + workers):
            return
        lam = math.fsum(self.load.rate(q) for q in queues)
        rates = {w: self.load.rate(w) for w in workers}
        servers = sum(self.d.settings[w]["workers"] for w in workers)
        h = _mix((rates[w] / lam, self.holding[w][0]) for w in workers) if lam > 0 else None
        exponential = all(self.holding[w][1] for w in workers) and len(
            {self.holding[w][0].mean for w in workers if self.holding[w][0]}) <= 1
        limit = self.d.settings[queues[0]]["capacity"] if len(queues) == 1 else None
        if lam <= 0:
            fit = _PoolFit(0.0, 0.0, "no traffic", Moments())
        elif h is None:
            fit = self._held_by_unknown(next(w for w in workers
                                             if rates[w] > 0 and self.holding[w][0] is None))
        else:
            fit = queue_model(lam, h, servers, exponential, limit, self.load.arrival_cv(queues))
        for q in queues:  # FIFO per queue, so each holds its share of the waiting messages
            share = self.load.rate(q) / lam if lam > 0 else 0.0
            self.fits[q] = dataclasses.replace(
                fit, lam=None if fit.lam is None else fit.lam * share,
                admitted_rps=None if fit.admitted_rps is None else fit.admitted_rps * share)

    def latency(self, cid: str) -> Moments | None:
        lam = {op: self.load.rate(cid, op) for op in OPS}
        total = lam["read"] + lam["write"]
        return _mix((lam[op] / total, self.R[cid][op]) for op in OPS) if total > 0 else None

    def peak(self) -> tuple[float, str | None]:
        """The highest offered utilisation of any pool, and that pool."""
        best, who = 0.0, None
        for cid in self.d.order:  # ties go to the pool nearest the clients
            fit = self.fits.get(cid)
            if self.d.kind[cid] in POOLS and fit and fit.offered is not None \
                    and fit.offered > best:
                best, who = fit.offered, cid
        return best, who


# --- availability --------------------------------------------------------------------------

Poly = dict[frozenset, float]  # multilinear in the up-indicators of failing components
ONE: Poly = {frozenset(): 1.0}
MAX_TERMS = 4096


class _Availability:
    """P(a request succeeds) over independent component up/down states.

    Success is built as a polynomial in the components' up indicators (x^2 = x), so that a
    component shared by several paths (a database behind two services) counts once; the
    expectation is the polynomial evaluated at each component's availability.
    """

    def __init__(self, design: _Design, load: _Load):
        self.d, self.load = design, load
        self.a = {cid: design.availability(cid) for cid in design.kind}
        self.approximate = False
        # P(success | the component itself is up), per op.
        self.inner: dict[str, dict[str, Poly | None]] = {}
        for cid in reversed(design.order):
            known = cid not in load.unknown
            self.inner[cid] = {op: self._inner(cid, op) if known else None for op in OPS}

    def _up(self, cid: str) -> Poly:
        return ONE if self.a[cid] >= 1.0 else {frozenset([cid]): 1.0}

    def _value(self, p: Poly) -> float:
        return math.fsum(c * math.prod(self.a[x] for x in m) for m, c in p.items())

    def _times(self, p: Poly, q: Poly) -> Poly:
        out: Poly = defaultdict(float)
        for m1, c1 in p.items():
            for m2, c2 in q.items():
                out[m1 | m2] += c1 * c2
        if len(out) > MAX_TERMS:  # too many shared paths: fall back to independence
            self.approximate = True
            return {frozenset(): self._value(out)}
        return dict(out)

    def _via(self, link: Link, op: str) -> Poly | None:
        inner = self.inner[link.to][op]
        return None if inner is None else self._times(self._up(link.to), inner)

    @staticmethod
    def _sum(terms: Iterable[tuple[float, Poly | None]]) -> Poly | None:
        out: Poly = defaultdict(float)
        for k, p in terms:
            if k <= 0:
                continue
            if p is None:
                return None
            for m, c in p.items():
                out[m] += k * c
        return dict(out)

    def _inner(self, cid: str, op: str) -> Poly | None:
        kind = self.d.kind[cid]
        if kind in ("database", "queue", "kv_store", "topic"):
            return ONE  # a queue (topic) answers at enqueue (append); a database or kv_store
            # calls nobody
        if kind in ("service", "worker"):  # series: every call must succeed
            out: Poly | None = ONE
            for link in self.d.carrying(cid, op):
                via = self._via(link, op)
                out = None if out is None or via is None else self._times(out, via)
            return out
        if kind == "dns":
            return self._dns(cid, op)
        if kind in ("load_balancer", "shard_router"):  # any target that is up will do
            links = self.d.carrying(cid, op)
            shares = self._balancer_shares(cid, links, op)
            return self._sum((shares[link.to], self.inner[link.to][op]) for link in links)
        inflow = self.load.rate(cid, op)  # client, cache: one link (or an answer here)
        if inflow <= 0:
            return None
        here = self.load.answered_here(cid, op)  # answered here, not refused
        return self._sum([(here, ONE)] + [(r / inflow, self._via(link, op))
                                          for link, r in self.load.sent(cid, op)])

    def _balancer_shares(self, cid: str, links: list[Link], op: str) -> dict[str, float]:
        """P(target t is up and picked): the balancer picks among up targets by weight."""
        algorithm = self.d.settings[cid].get("algorithm")  # None: a shard router
        sent = defaultdict(float)
        for link, r in self.load.sent(cid, op):
            sent[link.to] += r
        weights = {link.to: link.weight if algorithm == "weighted" else
                   sent[link.to] if algorithm in ("ip_hash", None) else 1.0 for link in links}
        failing = [t for t in weights if self.a[t] < 1.0]
        if len(failing) > 12:  # too many to enumerate: picked in proportion to w_t A_t
            self.approximate = True
            norm = math.fsum(weights[t] * self.a[t] for t in weights)
            anyone = 1.0 - math.prod(1.0 - self.a[t] for t in weights)
            return {t: anyone * weights[t] * self.a[t] / norm if norm else 0.0 for t in weights}

        def by_weight(up: list[str]) -> dict[str, float]:
            total = math.fsum(weights[t] for t in up)
            return {t: weights[t] / total for t in up} if total > 0 else {}

        return self._picks(list(weights), by_weight)[0]

    def _picks(self, targets: list[str], split: Callable[[list[str]], dict[str, float]]
               ) -> tuple[dict[str, float], dict[str, float]]:
        """Over the up/down states of `targets`: P(t is up and picked), and P(t is up and
        picked while another target is up). `split(up)` shares the picks among the targets
        that are up (listed in the order of `targets`)."""
        failing = [t for t in targets if self.a[t] < 1.0]
        picked, backed = dict.fromkeys(targets, 0.0), dict.fromkeys(targets, 0.0)
        for states in itertools.product((False, True), repeat=len(failing)):
            p = math.prod(self.a[t] if up else 1.0 - self.a[t]
                          for t, up in zip(failing, states, strict=True))
            down = {t for t, up in zip(failing, states, strict=True) if not up}
            up = [t for t in targets if t not in down]
            for t, share in split(up).items():
                picked[t] += p * share
                if len(up) > 1:
                    backed[t] += p * share
        return picked, backed

    def _dns(self, cid: str, op: str) -> Poly | None:
        """A lookup picks among the targets that are up. But a caller keeps its answer for
        ttl_s: when the target it points to fails while another is up, the requests that
        use a cached answer fail until it expires or the target is repaired, whichever
        comes first. The residual life of an answer is uniform on (0, ttl_s) (renewal), the
        repair exponential (mean mttr_s), so that lasts E[min] = mttr_s (1 - mttr_s/ttl_s
        (1 - exp(-ttl_s/mttr_s))), and such failures come at rate P(t picked, another up) /
        mtbf_s. Each costs that window times the share of requests using a cached answer."""
        s = self.d.settings[cid]
        links = {link.to: link for link in self.d.carrying(cid, op)}
        if sum(self.a[t] < 1.0 for t in links) > 12:  # too many to enumerate
            return None
        picked, backed = self._picks(list(links), lambda up: dict(zip(
            up, dns_split(s["policy"], [links[t] for t in up]), strict=True)))
        poly = self._sum((picked[t], self.inner[t][op]) for t in links)
        cached = 1.0 - self.load.edge.get(cid, {}).get("lookup_ratio", 1.0)
        ttl, loss = s["ttl_s"], 0.0
        for t in links:
            mtbf, mttr = self.d.settings[t]["mtbf_s"], self.d.settings[t]["mttr_s"]
            if mtbf and ttl > 0:
                window = mttr * (1.0 + mttr / ttl * math.expm1(-ttl / mttr))
                loss += cached * backed[t] / mtbf * window
        if poly is None or loss <= 0:
            return poly
        return self._sum([(1.0, poly), (loss, {frozenset(): -1.0})])

    def of_client(self, cid: str) -> float | None:
        """A client's success ratio (its own failures stop requests, not fail them)."""
        lam = {op: self.load.rate(cid, op) for op in OPS}
        total = lam["read"] + lam["write"]
        if total <= 0:
            return None
        poly = self._sum((lam[op] / total, self.inner[cid][op]) for op in OPS)
        return None if poly is None else min(max(self._value(poly), 0.0), 1.0)


# --- saturation ----------------------------------------------------------------------------

def _saturation(design: _Design, shared: _Shared, base: _Timing) -> dict[str, Any] | None:
    """The total client rate at which the first pool reaches utilisation 1.

    Utilisations grow linearly with the rate when hit ratios are rate-free and no worker is
    held during downstream calls: then it is total / peak, found by the first step below.
    Otherwise (blocking calls whose waits grow, TTL caches, write-behind coalescing) the
    scale factor is solved for: ln peak against ln scale is nearly a line of slope 1.
    """
    total = math.fsum(design.settings[c]["rate_rps"] for c in design.clients)
    peak, who = base.peak()
    if total <= 0 or who is None:
        return None
    if peak < 1 / MAX_SCALE:
        return {"note": f"no pool saturates below {MAX_SCALE:g} times the client rates"}

    def at(x: float) -> tuple[float, str | None]:
        p, w = _Timing(design, _Load(design, math.exp(x), shared)).peak()
        return math.log(p) if p > 0 else -math.inf, w

    found = _crossing(at, 0.0, math.log(peak), who)
    if found is None:
        return {"note": f"no pool saturates below {MAX_SCALE:g} times the client rates"}
    x, who, steps = found
    note = "utilisation is linear in the client rate" if steps <= 1 else (
        "solved numerically: blocking workers wait longer downstream, or hit ratios change "
        "with the rate")
    return {"client_rate_rps": total * math.exp(x), "component": who,
            "headroom": math.exp(x), "note": note}


def _crossing(at: Callable[[float], tuple[float, str | None]], x: float, y: float,
              who: str | None) -> tuple[float, str | None, int] | None:
    """Where y = at(x) crosses 0 (y increasing), the pool at the last point below, and the
    number of evaluations: slope-1 steps until the root is bracketed, then Illinois
    (regula falsi); an infinite y (a blocking pool over a saturated one) is bisected."""
    below = above = None
    steps, reach = 0, 1.0
    while True:
        if abs(y) < 1e-10:
            return x, who, steps
        if y < 0:
            below = (x, y, who)
        else:
            above = (x, y, who)
        if below and above:
            break
        x = x - y * reach if math.isfinite(y) else x - math.log(2) * reach
        if steps >= 80 or x > math.log(MAX_SCALE):
            return None
        reach *= 2  # widen the step each time the root is still on the same side
        y, who = at(x)
        steps += 1
    (lo, y_lo, who_lo), (hi, y_hi, _) = below, above
    side = 0
    while hi - lo > 1e-10 and steps < 200:
        x = (lo + hi) / 2 if math.isinf(y_hi) else lo - y_lo * (hi - lo) / (y_hi - y_lo)
        y, who = at(x)
        steps += 1
        if abs(y) < 1e-10:
            return x, who, steps
        if y < 0:
            lo, y_lo, who_lo = x, y, who
            if side < 0 and math.isfinite(y_hi):
                y_hi /= 2
            side = -1
        else:
            hi, y_hi = x, y
            if side > 0:
                y_lo /= 2
            side = 1
    return lo, who_lo, steps


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
        out[replica] = stale_read_ratio(load.key_shape(replica, "read"), writes,
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
            out[cid] = {"conflict_ratio": stale_read_ratio(
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

"""Response times (mean and variance) per component and op, and each pool's queueing model,
worked out from the callees up."""

from __future__ import annotations

import dataclasses
import math

from ..registry import runs_as_group, size_of
from ..scenario import Link
from ..theory import queues as qt
from ..theory.quorum import contact_moments
from ..theory.replication import apply_delays
from .delivery import redelivery
from .design import MS, NO_TIME, OPS, POOLS, _Design, route_key
from .fleets import instance_count
from .links import link_fits
from .load import _Load
from .moments import Moments, _add, _mix
from .pools import NOT_PREDICTED, _PoolFit, queue_model

# Kinds that pass a request along at most one link (their class responses: _class_choice).
FORWARDING = ("client", "load_balancer", "cache", "dns", "cdn", "reverse_proxy",
              "rate_limiter", "waf", "shard_router")


class _Timing:
    """Response times (Moments, seconds) per component and op, and the pools' models."""

    def __init__(self, design: _Design, load: _Load):
        self.d, self.load = design, load
        self.R: dict[str, dict[str, Moments | None]] = {c: dict.fromkeys(OPS) for c in design.kind}
        self.fits: dict[str, _PoolFit] = {}
        self.holding: dict[str, tuple[Moments | None, bool]] = {}
        self.exact: dict[str, qt.MMc] = {}  # pools whose response percentiles are exact
        self.counts: dict[str, int] = {}  # services run as groups: their instances
        # Request classes: each one's response time per component, by route key ("op name").
        self.RC: dict[str, dict[str, Moments | None]] = {c: {} for c in design.kind}
        self.links = link_fits(design, load)  # links with payloads or protocols
        for cid in reversed(design.order):
            if cid not in load.unknown:
                getattr(self, f"_time_{design.kind[cid]}")(cid)
                if design.classed and design.kind[cid] in FORWARDING:
                    self._class_choice(cid)
        for queues, workers in design.groups:
            self._consumer_group(queues, workers)

    def _call(self, link: Link, op: str) -> Moments | None:
        """One call along a link: there, the callee's response, and back (and what its
        payloads and protocol add: links.py)."""
        call = _add(self.R[link.to][op], Moments(2 * link.latency_ms / MS))
        fit = self.links.get((link.from_, link.to))
        return call if fit is None else _add(call, fit.extra)

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

    def _time_exchange(self, cid: str) -> None:
        for op in OPS:  # the producer is answered once the message is published
            self.R[cid][op] = Moments(self.d.settings[cid]["publish_ms"] / MS)

    def _time_topic(self, cid: str) -> None:
        for op in OPS:  # the producer is answered once the message is appended
            self.R[cid][op] = Moments(self.d.settings[cid]["append_ms"] / MS)

    def _own(self, cid: str) -> dict[str, Moments]:
        s = self.d.settings[cid]
        names = {"read": "read_ms", "write": "write_ms"} if self.d.kind[cid] == "database" \
            else {"read": "service_ms", "write": "service_ms"}
        speed = size_of(s)[1]  # an instance's size, or a database's
        return {op: Moments.service(s["service_dist"], s[names[op]] / MS / speed,
                                    s["service_cv"]) for op in OPS}

    def _time_service(self, cid: str) -> None:
        own = self._own(cid)
        down = {op: self._calls(cid, op) for op in OPS}
        hold = {op: _add(own[op], down[op]) for op in OPS}
        classes = self._class_parts(cid, own, down, hold) if self.d.classed else {}
        if self.d.settings[cid]["blocking"]:  # the worker stays held during the calls
            self._pool(cid, own, hold, dict.fromkeys(OPS, Moments()))
        else:
            self._pool(cid, own, own, down)
        self._class_responses(cid, classes)

    def _time_worker(self, cid: str) -> None:
        own = self._own(cid)
        down = {op: self._calls(cid, op) for op in OPS}
        hold = {op: _add(own[op], down[op]) for op in OPS}
        classes = self._class_parts(cid, own, down, hold) if self.d.classed else {}
        self._pool(cid, own, hold, dict.fromkeys(OPS, Moments()), waits_here=False)
        self._class_responses(cid, classes)

    # -- request classes --------------------------------------------------------------------
    def _class_rates(self, cid: str) -> dict[str, float]:
        """The rates of the request classes arriving at `cid`, by route key."""
        out: dict[str, float] = {}
        for stream, r in self.load.flows[cid].items():
            key = route_key(stream)
            if key != stream[1]:
                out[key] = out.get(key, 0.0) + r
        return out

    def _class_call(self, link: Link, key: str) -> Moments | None:
        """One call of a class along a link: its own response where the callee has one (a
        pool, a forwarder), else the callee's for the class's op (a database works by op)."""
        there = self.RC[link.to]
        return _add(there[key] if key in there else self.R[link.to][key.partition(" ")[0]],
                    Moments(2 * link.latency_ms / MS))

    def _class_parts(self, cid: str, own: dict[str, Moments], down: dict[str, Moments | None],
                     hold: dict[str, Moments | None]
                     ) -> dict[str, tuple[Moments, Moments | None]]:
        """A pool fed request classes: each class's own work (class_ms, else the op's) and
        calls (the links that carry it). `own`, `down` and `hold` (work and calls) become,
        per op, the mixtures over the classes and the unclassed requests of that op, by
        rate: the pool's holding time is the mixture's (mean and SCV), its wait shared by
        every class."""
        rates = self._class_rates(cid)
        if not rates:
            return {}
        s = self.d.settings[cid]
        times = s.get("class_ms") or {}
        speed = size_of(s)[1] if runs_as_group(s) else 1.0
        parts = {}
        for key in rates:
            op, _, name = key.partition(" ")
            work = own[op] if name not in times else Moments.service(
                s["service_dist"], times[name] / MS / speed, s["service_cv"])
            parts[key] = (work, _add(*(self._class_call(link, key)
                                       for link in self.d.carrying(cid, key))))
        for op in OPS:
            plain = math.fsum(r for x, r in self.load.flows[cid].items() if route_key(x) == op)
            mix = [(plain, own[op], down[op])] + [
                (r, *parts[key]) for key, r in rates.items() if key.startswith(op + " ")]
            if math.fsum(w for w, _, _ in mix) > 0:
                own[op] = _mix((w, o) for w, o, _ in mix)  # type: ignore[assignment]
                down[op] = _mix((w, d) for w, _, d in mix)
                hold[op] = _mix((w, _add(o, d)) for w, o, d in mix)
        return parts

    def _class_responses(self, cid: str,
                         parts: dict[str, tuple[Moments, Moments | None]]) -> None:
        """Each class's response at a pool: the shared wait, then its own work and calls."""
        wait = self.fits[cid].wait if cid in self.fits else None
        for key, (work, calls) in parts.items():
            self.RC[cid][key] = _add(wait, work, calls)

    def _class_choice(self, cid: str) -> None:
        """A component that passes each request along at most one link: a class's response
        is the component's own time, then the callee's response to the class, over the
        links the class takes (by rate); what it answers itself or refuses costs nothing
        more."""
        own = self._fixed(cid)
        for key, total in self._class_rates(cid).items():
            sent = [(r / total, self._class_call(link, key)) for (to, k), r in
                    self.load.class_sent[cid].items() if k == key
                    for link in self.d.calls[cid] if link.to == to]
            rest = 1.0 - math.fsum(w for w, _ in sent)
            self.RC[cid][key] = _add(own, _mix(sent + [(rest, Moments())]))

    def class_figures(self, cid: str) -> dict[str, dict[str, float]]:
        """Per request class arriving at `cid`: its rate and mean response time there."""
        out = {}
        for key, r in self._class_rates(cid).items():
            figures = {"offered_rps": r}
            response = self.RC[cid].get(key)
            if response is not None:
                figures["response_ms"] = response.mean * MS
            out[key.partition(" ")[2]] = figures
        return out

    def _fixed(self, cid: str) -> Moments | None:
        """The time a forwarding component adds before passing a request on."""
        s, kind = self.d.settings[cid], self.d.kind[cid]
        if kind == "reverse_proxy":
            wait = self.fits[cid].wait if cid in self.fits else None
            return _add(Moments((s["tls_ms"] + s["compress_ms"]) / MS), wait)
        if kind == "dns":
            share = self.load.edge.get(cid, {}).get("lookup_ratio", 1.0)
            return Moments(share * s["lookup_ms"] / MS)
        name = {"load_balancer": "overhead_ms", "cache": "hit_ms", "cdn": "edge_ms",
                "waf": "inspect_ms"}.get(kind)
        return Moments(s[name] / MS if name else 0.0)

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
                       and all(hold[op] == own[op] # a mixture of classes' times is not
                               and math.isclose(own[op].var, own[op].mean * own[op].mean)
                               for op in used)
                       and len({own[op].mean for op in used}) == 1)
        self.holding[cid] = (h, exponential)
        if total <= 0:
            fit = _PoolFit(0.0, 0.0, "no traffic", Moments())
        elif h is None:
            fit = self._held_by_unknown(cid)
        elif not waits_here:  # a worker starts at once: its messages wait in the queue
            n = 1
            if runs_as_group(s):
                n = self.counts[cid] = instance_count(s, total, h.mean, consumer=True)
            offered = total * h.mean / (size_of(s)[0] * n) if h.mean > NO_TIME else 0.0
            fit = _PoolFit(offered, min(offered, 1.0), "waits are in its queue", Moments(),
                           saturated=offered >= 1)
        elif runs_as_group(s):
            fit = self._group(cid, total, h, exponential)
        else:
            fit = queue_model(total, h, size_of(s)[0], exponential, s.get("queue_limit"),
                              self.load.arrival_cv([cid]))
        self.fits[cid] = fit
        for op in OPS:
            self.R[cid][op] = _add(fit.wait, hold[op], after[op])
        if fit.mmc is not None and all(after[op] == Moments() for op in used):
            self.exact[cid] = fit.mmc

    def _group(self, cid: str, total: float, h: Moments, exponential: bool) -> _PoolFit:
        """A group of instances: each its own pool, taking an equal share of the requests
        (exact for random dispatch of Poisson arrivals; round robin makes each instance's
        arrivals more regular, so waits are over-predicted)."""
        s = self.d.settings[cid]
        n = self.counts[cid] = instance_count(s, total, h.mean)
        fit = queue_model(total / n, h, size_of(s)[0], exponential, s.get("queue_limit"),
                          self.load.arrival_cv([cid]))
        if fit.admitted_rps is not None:
            fit.admitted_rps *= n
        fit.lam = total  # mean_queue: the group's, all instances together
        return fit

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
        # Every delivery of a message takes a worker (several, at least once).
        lam = math.fsum(self.load.rate(q) * redelivery(
            self.d, q, [link.to for link in self.d.calls[q]])[0] for q in queues)
        rates = {w: self.load.rate(w) for w in workers}
        servers = sum(size_of(self.d.settings[w])[0] * self.counts.get(w, 1) for w in workers)
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
            share = self.load.rate(q) / math.fsum(self.load.rate(c) for c in queues) \
                if lam > 0 else 0.0
            self.fits[q] = dataclasses.replace(
                fit, lam=None if fit.lam is None else fit.lam * share,
                admitted_rps=None if fit.admitted_rps is None else fit.admitted_rps * share)

    def latency(self, cid: str) -> Moments | None:
        lam = {op: self.load.rate(cid, op) for op in OPS}
        total = lam["read"] + lam["write"]
        return _mix((lam[op] / total, self.R[cid][op]) for op in OPS) if total > 0 else None

    def percentiles(self, cid: str) -> tuple[float, float] | None:
        """p95 and p99 of the response time where they are exact (M/M/c, nothing after the
        service); asked only by the report, not by the saturation search's Timings."""
        mmc = self.exact.get(cid)
        return None if mmc is None else (mmc.response_quantile(0.95),
                                         mmc.response_quantile(0.99))

    def peak(self) -> tuple[float, str | None]:
        """The highest offered utilisation of any pool, and that pool."""
        best, who = 0.0, None
        for cid in self.d.order:  # ties go to the pool nearest the clients
            fit = self.fits.get(cid)
            if self.d.kind[cid] in POOLS and fit and fit.offered is not None \
                    and fit.offered > best:
                best, who = fit.offered, cid
        return best, who

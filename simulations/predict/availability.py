"""Availability: the probability that a request succeeds, over independent component
up/down states."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from ..scenario import Link
from .design import OPS, _Design
from .load import _Load, dns_split

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
        if kind in ("database", "queue", "kv_store", "topic", "exchange"):
            return ONE  # a queue (topic, exchange) answers at enqueue (append, publish); a
            # database or kv_store calls nobody
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

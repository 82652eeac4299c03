"""Offered load: the rate of every stream at every component, passed on as the engine's
component of each kind passes requests on.

Traffic is followed as *streams*: (origin, op, via), where origin is a client (or a
write-behind cache, whose flushes are new writes), and via lists the key filters the stream
went through: ("miss", cache) keeps the keys a cache missed (a CDN's dynamic share too),
("shard", n, j) the keys an ip_hash balancer sends to its j-th of n targets. A stream's
per-key popularity (its *shape*) is computed only where keys matter: caches, replicas and
ip_hash balancers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import theory as qt
from ..components.exchange import binds, routing_key
from ..components.sharding import key_owners
from ..distributions import key_bucket
from ..registry import slots
from ..scenario import Link
from ..theory.caches import cache_presence, flush_rates
from .delivery import redelivery
from .design import MS, OPS, Stream, _Design, _topic_groups, route_key

PUSH_MODEL = "exact: the pushed keys always hit, every other key misses"


DNS_MODEL = ("TTL renewal per user: a lookup caches the answer for ttl_s, so a user with "
             "Poisson requests at rate r looks up 1/(1 + r ttl_s) of the time")


LIMIT_MODEL = "fluid: admitted = min(offered, rate_rps); bursts within burst are not modelled"


CLIENT_LIMIT_MODEL = ("fluid: each client (key modulo clients) is admitted min(its rate, "
                      "client_rate_rps), taken evenly from its keys; admitted requests are "
                      "more regular than Poisson, so a cache behind the limits hits less")


def dns_split(policy: str, links: list[Link]) -> list[float]:
    """The share of fresh answers each target gets when these are up (as edge.Dns picks)."""
    if policy in ("failover", "latency") and links:
        first = 0 if policy == "failover" else min(range(len(links)),
                                                   key=lambda i: links[i].latency_ms)
        return [float(i == first) for i in range(len(links))]
    weights = [link.weight if policy == "weighted" else 1.0 for link in links]
    total = math.fsum(weights)
    return [w / total for w in weights]


MAX_SPLIT = 4_000_000  # targets x keys of a shard router's split of its key shapes


def _router_owners(design: _Design, cid: str, keys: int) -> tuple[int, ...]:
    """The target index a shard router gives each key 0..keys-1 (every target up)."""
    s = design.settings[cid]
    targets = tuple((link.to, link.weight) for link in design.calls[cid])
    return key_owners(s["strategy"], targets, s["key_space"], s["vnodes"], keys)


def _normalised(v: list[float]) -> tuple[list[float], float]:
    total = math.fsum(v)
    return ([x / total for x in v] if total > 0 else [0.0] * len(v)), total


def _weighted_sum(parts: Iterable[tuple[float, list[float]]]) -> list[float]:
    out: list[float] = []
    for k, vec in parts:
        if len(vec) > len(out):
            out.extend([0.0] * (len(vec) - len(out)))
        for i, x in enumerate(vec):
            out[i] += k * x
    return out


@dataclass
class _CacheFit:
    present: list[float] | None  # P(key i cached at a read of it); None: not predicted
    model: str
    invariant: bool  # unchanged when every client rate is scaled (no TTL, no flush input)
    hit: float | None = None  # read hit ratio over all reads arriving


@dataclass
class _Shared:
    """What scaling every client rate leaves unchanged, kept across the saturation search."""

    shapes: dict[Stream, tuple[list[float], float]] = field(default_factory=dict)
    caches: dict[str, _CacheFit] = field(default_factory=dict)


class _Load:
    """Rates (per second) of every stream at every component, with client rates x `scale`."""

    def __init__(self, design: _Design, scale: float, shared: _Shared, peak: bool = False,
                 rates: dict[str, float] | None = None):
        """`peak`: every client at its schedule's peak rate at once, not its mean; `rates`:
        each client at the rate given there."""
        self.d, self.scale, self.shared, self.peak = design, scale, shared, peak
        self.rates = rates
        self.flows: dict[str, dict[Stream, float]] = {c: defaultdict(float) for c in design.kind}
        # Requests passed on whose answer the sender waits for: (link, op, rate).
        self.waited: dict[str, list[tuple[Link, str, float]]] = {c: [] for c in design.kind}
        self.origin_rate: dict[str, float] = {}
        self.caches: dict[str, _CacheFit] = {}
        self.flush_rps: dict[str, float] = {}
        self.shapes: dict[Stream, tuple[list[float], float]] = {}
        self.class_sent: dict[str, dict[tuple[str, str], float]] = defaultdict(
            lambda: defaultdict(float))  # per component: (callee, class route key) -> rate
        self.unknown: set[str] = set()  # below a cache whose hit ratio is not predicted
        # Rates answered here with a failure (429s, WAF blocks), per component and op.
        self.refused: dict[str, dict[str, float]] = {c: dict.fromkeys(OPS, 0.0)
                                                     for c in design.kind}
        self.edge: dict[str, dict[str, Any]] = {}  # predicted figures of the edge kinds
        # Rates along each call link (by its ends) per origin and request class (None: no
        # class), whose sizes they have.
        self.on_link: dict[tuple[str, str], dict[tuple[str, str | None], float]] = \
            defaultdict(lambda: defaultdict(float))
        for cid in design.order:
            if cid not in self.unknown:
                getattr(self, f"_visit_{design.kind[cid]}")(cid)

    def rate(self, cid: str, op: str | None = None) -> float:
        return math.fsum(r for (_, o, _), r in self.flows[cid].items() if op in (None, o))

    def sent(self, cid: str, op: str) -> list[tuple[Link, float]]:
        return [(link, r) for link, o, r in self.waited[cid] if o == op]

    def answered_here(self, cid: str, op: str) -> float:
        """Share of the arriving `op`s a component answers itself, successfully (cache hits,
        write-behind): neither passed on nor refused."""
        inflow = self.rate(cid, op)
        passed = math.fsum(r for _, r in self.sent(cid, op)) + self.refused[cid][op]
        return max(1.0 - passed / inflow, 0.0) if inflow > 0 else 0.0

    def _send(self, cid: str, link: Link, stream: Stream, rate: float,
              waited: bool = True) -> None:
        self.flows[link.to][stream] += rate
        key = route_key(stream)
        self.on_link[(link.from_, link.to)][(stream[0], key.partition(" ")[2] or None)] += rate
        if waited:
            self.waited[cid].append((link, stream[1], rate))
            if key != stream[1]:  # a class's: its rate per link, for its response time
                self.class_sent[cid][(link.to, key)] += rate

    def _by_weight(self, cid: str, links: list[Link], stream: Stream, rate: float,
                   waited: bool = True) -> None:
        total = sum(link.weight for link in links)
        for link in links:
            self._send(cid, link, stream, rate * link.weight / total, waited)

    # Each kind passes its streams on as the engine's component of that kind does.
    def _visit_client(self, cid: str) -> None:
        s = self.d.settings[cid]
        rate = self.origin_rate[cid] = self.scale * (
            self.rates[cid] if self.rates is not None else self.d.rate(cid, self.peak))
        if s["classes"]:  # each class its own stream, with its own keys and links
            total = math.fsum(c["share"] for c in s["classes"])
            for c in s["classes"]:
                stream = (cid, c["op"], (("class", c["name"]),))
                self._by_weight(cid, self.d.carrying(cid, route_key(stream)), stream,
                                rate * c["share"] / total)
                self.flows[cid][stream] += rate * c["share"] / total
            return
        for op, share in (("read", s["read_ratio"]), ("write", 1.0 - s["read_ratio"])):
            if share > 0:
                self._by_weight(cid, self.d.carrying(cid, op), (cid, op, ()), rate * share)
                self.flows[cid][(cid, op, ())] += rate * share

    def _visit_load_balancer(self, cid: str) -> None:
        algorithm = self.d.settings[cid]["algorithm"]
        for stream, rate in list(self.flows[cid].items()):
            links = self.d.carrying(cid, route_key(stream))
            if algorithm == "ip_hash":  # a key always lands on one target: shard the keys
                origin, op, via = stream
                for j, link in enumerate(links):
                    part = (origin, op, via + (("shard", len(links), j),))
                    self._send(cid, link, part, rate * self.shape(part)[1])
            elif algorithm == "weighted":
                self._by_weight(cid, links, stream, rate)
            else:  # round robin, random, least connections, power of two: even shares
                for link in links:
                    self._send(cid, link, stream, rate / len(links))

    def _visit_service(self, cid: str) -> None:
        for stream, rate in list(self.flows[cid].items()):
            for link in self.d.carrying(cid, route_key(stream)):  # it calls each in turn
                self._send(cid, link, stream, rate)

    def _visit_worker(self, cid: str) -> None:
        """A service, but a delivery that fails (`fail_prob`) calls nothing downstream."""
        ok = 1.0 - self.d.settings[cid]["fail_prob"]
        for stream, rate in list(self.flows[cid].items()):
            for link in self.d.carrying(cid, route_key(stream)):
                self._send(cid, link, stream, rate * ok)

    def _visit_queue(self, cid: str) -> None:
        # Competing consumers: each message goes to one worker, whatever the link's route,
        # as often as it is delivered (at least once).
        links = self.d.calls[cid]
        workers = [slots(self.d.settings[link.to]) for link in links]
        deliveries, dead = redelivery(self.d, cid, [link.to for link in links])
        for stream, rate in list(self.flows[cid].items()):
            for link, n in zip(links, workers, strict=True):
                self._send(cid, link, stream, rate * deliveries * n / sum(workers),
                           waited=False)
            self._dead_letter(cid, stream, rate * dead)

    def _dead_letter(self, cid: str, stream: Stream, rate: float) -> None:
        link = self.d.dead_letter.get(cid)
        if link is not None and rate > 0:
            self._send(cid, link, stream, rate, waited=False)

    def _visit_topic(self, cid: str) -> None:
        """Every group receives every message; within a group partition j goes to the
        worker it is dealt to (keys hash to partitions as ip_hash hashes them to targets)."""
        n = self.d.settings[cid]["partitions"]
        groups = _topic_groups(self.d.calls[cid])
        again = {name: redelivery(self.d, cid, [link.to for link in links])
                 for name, links in groups.items()}
        for stream, rate in list(self.flows[cid].items()):
            if n * len(self.shape(stream)[0]) > MAX_SPLIT:
                self.unknown |= {cid} | self.d.below(cid)
                return
            origin, op, via = stream
            for j in range(n):
                part = (origin, op, via + (("shard", n, j),))
                for name, links in groups.items():
                    self._send(cid, links[j % len(links)], part,
                               rate * self.shape(part)[1] * again[name][0], waited=False)
            self._dead_letter(cid, stream, rate * sum(dead for _, dead in again.values()))

    def _visit_exchange(self, cid: str) -> None:
        """Each bound queue whose binding matches a stream's routing key gets a copy of it."""
        kind = self.d.settings[cid]["type"]
        per_target: dict[str, float] = defaultdict(float)
        unroutable = 0.0
        for stream, rate in list(self.flows[cid].items()):
            key = route_key(stream)
            links = [link for link in self.d.calls[cid]
                     if link.carries(key) and binds(kind, link.binding, routing_key(key))]
            unroutable += 0.0 if links else rate
            for link in links:
                per_target[link.to] += rate
                self._send(cid, link, stream, rate, waited=False)
        self.edge[cid] = {"routed_rps": math.fsum(per_target.values()),
                          "unroutable_rps": unroutable, "per_target_rps": dict(per_target)}

    def _visit_shard_router(self, cid: str) -> None:
        """Each key has one target: the streams split by the router's key mapping."""
        links = self.d.calls[cid]  # every one carries reads and writes
        for stream, rate in list(self.flows[cid].items()):
            if len(links) * len(self.shape(stream)[0]) > MAX_SPLIT:
                self.unknown |= {cid} | self.d.below(cid)
                return
            origin, op, via = stream
            for j, link in enumerate(links):
                part = (origin, op, via + (("router", cid, j),))
                self._send(cid, link, part, rate * self.shape(part)[1])

    def _visit_kv_store(self, cid: str) -> None:
        """A leaf: its replicas are inside it."""

    def _visit_database(self, cid: str) -> None:
        """A leaf: replication costs replicas no worker time in v1."""

    def _visit_cache(self, cid: str) -> None:
        fit = self.caches[cid] = self._cache_fit(cid)
        if fit.present is None:
            self.unknown |= self.d.below(cid)
            return
        behind = self.d.settings[cid]["write_policy"] == "write_behind"
        for stream, rate in list(self.flows[cid].items()):
            origin, op, via = stream
            if op == "read":
                miss = (origin, op, via + (("miss", cid),))
                self._by_weight(cid, self.d.carrying(cid, route_key(stream)), miss,
                                rate * self.shape(miss)[1])
            elif not behind:
                self._by_weight(cid, self.d.carrying(cid, route_key(stream)), stream, rate)
        if behind:
            self._flush(cid)

    def _cache_fit(self, cid: str, edge: dict[str, Any] | None = None,
                   read_share: float = 1.0, pushed: int | None = None) -> _CacheFit:
        """A cache's fit. The edge kinds pass their cache in a cache's terms (`edge`):
        `read_share` of the reads reach it, writes do not touch it, and `pushed` keys
        (ranks 0 to pushed-1, a push CDN) are always held."""
        s = edge or self.d.settings[cid]
        invariant = (pushed is not None or s["ttl_s"] is None) and all(
            self._invariant(x) for x in self.flows[cid])
        if invariant and cid in self.shared.caches:
            return self.shared.caches[cid]
        reads = [r * read_share for r in self.key_rates(cid, "read")]
        if pushed is not None:
            present, model = [float(i < pushed) for i in range(len(reads))], PUSH_MODEL
        else:
            writes = [] if edge else self.key_rates(cid, "write")
            present, model = cache_presence(s, reads, writes)
        fit = _CacheFit(present, model, invariant)
        total_reads = math.fsum(reads)
        if present is not None and total_reads > 0:
            fit.hit = math.fsum(r * p for r, p in zip(reads, present, strict=False)) / total_reads
        if invariant:
            self.shared.caches[cid] = fit
        return fit

    def _flush(self, cid: str) -> None:
        """Write-behind flushes are new writes, from the cache, that nobody waits for."""
        flush_s = self.d.settings[cid]["flush_ms"] / MS
        shape, total = _normalised(flush_rates(self.key_rates(cid, "write"), flush_s))
        self.flush_rps[cid] = total
        if total > 0:
            self.shapes[(cid, "write", ())] = (shape, 1.0)
            self._by_weight(cid, self.d.carrying(cid, "write"), (cid, "write", ()), total,
                            waited=False)

    # -- edge kinds (components/edge.py): each answers some requests, passes on the rest --
    def _pass_on(self, cid: str, stream: Stream, rate: float, cached: bool = False) -> None:
        """Send `rate` of a stream along the links that carry it, by weight; `cached`: only
        the keys the component's cache misses go on."""
        if cached:
            origin, op, via = stream
            stream = (origin, op, via + (("miss", cid),))
            rate *= self.shape(stream)[1]
        if rate > 0:
            self._by_weight(cid, self.d.carrying(cid, route_key(stream)), stream, rate)

    def _per_caller(self, cid: str, n: int) -> list[float]:
        """Request rates per caller, the request key modulo n standing for the caller."""
        out = [0.0] * n
        for op in OPS:
            for key, r in enumerate(self.key_rates(cid, op)):
                out[key % n] += r
        return out

    def _visit_dns(self, cid: str) -> None:
        s = self.d.settings[cid]
        for stream, rate in list(self.flows[cid].items()):
            links = self.d.carrying(cid, route_key(stream))
            for link, share in zip(links, dns_split(s["policy"], links), strict=True):
                self._send(cid, link, stream, rate * share)
        users = self._per_caller(cid, s["users"])
        total = math.fsum(users)
        if total > 0:  # a user's answer is one TTL cache entry, filled by its lookups
            hit = qt.ttl_hit_ratio(_normalised(users)[0], total, s["ttl_s"])
            self.edge[cid] = {"lookup_ratio": 1.0 - hit, "lookup_model": DNS_MODEL}

    def _visit_cdn(self, cid: str) -> None:
        s = self.d.settings[cid]
        static = 1.0 - s["dynamic_ratio"]
        edge = {"capacity_keys": s["capacity_keys"], "ttl_s": s["ttl_s"], "eviction": "lru",
                "write_policy": "write_through"}
        fit = self.caches[cid] = self._cache_fit(
            cid, edge, static, s["push_keys"] if s["mode"] == "push" else None)
        if fit.present is None:
            self.unknown |= self.d.below(cid)
            return
        # Dynamic reads pass whatever their key, so with the static misses they are one
        # stream (the "miss" step of a CDN, below): as two, the streams doubled at every CDN
        # of a chain, 2^n of them (a chain of 424 ran out of memory).
        for stream, rate in list(self.flows[cid].items()):
            self._pass_on(cid, stream, rate, cached=stream[1] == "read")

    def _visit_reverse_proxy(self, cid: str) -> None:
        s = self.d.settings[cid]
        admitted = 1.0
        if s["client_rate_rps"]:
            clients = self._per_caller(cid, s["clients"])
            total = math.fsum(clients)
            if total > 0:
                admitted = math.fsum(min(r, s["client_rate_rps"]) for r in clients) / total
            self.edge[cid] = {"rate_limited_rps": total * (1.0 - admitted),
                              "rate_limit_model": CLIENT_LIMIT_MODEL}
        fit = None
        if s["cache_keys"]:
            edge = {"capacity_keys": s["cache_keys"], "ttl_s": s["cache_ttl_s"],
                    "eviction": "lru", "write_policy": "write_through"}
            fit = self.caches[cid] = self._cache_fit(cid, edge, admitted)
            if fit.present is None:
                self.unknown |= self.d.below(cid)
                return
        for stream, rate in list(self.flows[cid].items()):
            self.refused[cid][stream[1]] += rate * (1.0 - admitted)
            self._pass_on(cid, stream, rate * admitted,
                          cached=fit is not None and stream[1] == "read")

    def _visit_rate_limiter(self, cid: str) -> None:
        total = self.rate(cid)
        admitted = min(1.0, self.d.settings[cid]["rate_rps"] / total) if total > 0 else 1.0
        for stream, rate in list(self.flows[cid].items()):
            self.refused[cid][stream[1]] += rate * (1.0 - admitted)
            self._pass_on(cid, stream, rate * admitted)
        self.edge[cid] = {"admitted_rps": total * admitted,
                          "limited_rps": total * (1.0 - admitted), "model": LIMIT_MODEL}

    def _visit_waf(self, cid: str) -> None:
        s = self.d.settings[cid]
        blocked = 0.0
        for stream, rate in list(self.flows[cid].items()):
            attacks = self.d.settings[stream[0]].get("malicious_ratio", 0.0)
            share = attacks * s["block_ratio"] + (1.0 - attacks) * s["false_positive_ratio"]
            blocked += rate * share
            self.refused[cid][stream[1]] += rate * share
            self._pass_on(cid, stream, rate * (1.0 - share))
        total = self.rate(cid)
        self.edge[cid] = {"blocked_ratio": blocked / total if total > 0 else 0.0}

    # -- keys -------------------------------------------------------------------------------
    def _invariant(self, stream: Stream) -> bool:
        origin, _, via = stream
        return self.d.kind[origin] == "client" and all(
            step[0] in ("shard", "router", "class") or self.caches[step[1]].invariant
            for step in via)

    def _shapes(self, stream: Stream) -> dict[Stream, tuple[list[float], float]]:
        """Where the shape of `stream` is kept (shared by every load, if it can be)."""
        return self.shared.shapes if self._invariant(stream) else self.shapes

    def shape(self, stream: Stream) -> tuple[list[float], float]:
        """Per-key probabilities of a stream, and the share of its parent stream it keeps.
        Worked out forwards from the longest part of its path already known, never by
        recursion along the path (a path may pass hundreds of caches and routers)."""
        memo = self._shapes(stream)
        if stream not in memo:
            origin, op, via = stream
            known = len(via) - 1
            while known >= 0 and (origin, op, via[:known]) not in \
                    self._shapes((origin, op, via[:known])):
                known -= 1
            for n in range(known + 1, len(via) + 1):
                self._add_shape((origin, op, via[:n]))
        return memo[stream]

    def _add_shape(self, stream: Stream) -> None:
        """Work out the shape of `stream`, its parent's being known."""
        origin, op, via = stream
        if not via:  # a client's keys (write-behind shapes are stored by the cache)
            s = self.d.settings[origin]
            self._shapes(stream)[stream] = (qt.zipf_popularity(s["keys"], s["key_skew"]), 1.0)
            return
        parent_stream = (origin, op, via[:-1])
        parent = self._shapes(parent_stream)[parent_stream][0]
        step = via[-1]
        if step[0] == "class":  # a request class's own keys (default: its client's)
            s = self.d.settings[origin]
            c = next(c for c in s["classes"] if c["name"] == step[1])
            skew = s["key_skew"] if c["key_skew"] is None else c["key_skew"]
            self._shapes(stream)[stream] = (qt.zipf_popularity(c["keys"] or s["keys"], skew),
                                            1.0)
            return
        if step[0] == "miss":
            present = self.caches[step[1]].present or []
            if self.d.kind[step[1]] == "cdn":  # its dynamic share passes, whatever the key
                static = 1.0 - self.d.settings[step[1]]["dynamic_ratio"]
                present = [static * x for x in present]
            kept = [p * (1.0 - x) for p, x in zip(parent, present, strict=False)]
        elif step[0] == "router":
            owners = _router_owners(self.d, step[1], len(parent))
            kept = [p if owners[i] == step[2] else 0.0 for i, p in enumerate(parent)]
        else:
            _, n, j = step
            kept = [p if key_bucket(i, n) == j else 0.0 for i, p in enumerate(parent)]
        self._shapes(stream)[stream] = _normalised(kept)

    def key_rates(self, cid: str, op: str) -> list[float]:
        return _weighted_sum((r, self.shape(x)[0]) for x, r in self.flows[cid].items()
                             if x[1] == op and r > 0)

    def key_shape(self, cid: str, op: str) -> list[float]:
        return _normalised(self.key_rates(cid, op))[0]

    def arrival_cv(self, cids: Iterable[str]) -> float:
        """cv of the arrivals at these components, QNA-style (Whitt 1983): each origin's
        renewal stream thinned to a share p has cv^2 = p c^2 + 1 - p; superposition averages
        cv^2 by rate. Exactly 1 when every client is Poisson."""
        by_origin: dict[str, float] = defaultdict(float)
        for cid in cids:
            for (origin, _, _), r in self.flows[cid].items():
                by_origin[origin] += r
        total = math.fsum(by_origin.values())
        excess = 0.0
        for origin, r in by_origin.items():
            cv = self.d.settings[origin].get("arrival_cv", 1.0)
            if cv != 1.0 and total > 0 and self.origin_rate[origin] > 0:
                p = min(1.0, r / self.origin_rate[origin])
                excess += r / total * p * (cv * cv - 1.0)
        return math.sqrt(max(1.0 + excess, 0.0))

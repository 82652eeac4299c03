"""Edge kinds: DNS, CDN, reverse proxy, rate limiter and WAF.

All are forwarders: each holds a request for its own fixed time, answers some requests
itself (a cache hit, a 429, a block) and passes the others to one of its outgoing links,
answering its caller with that target's answer. Where a kind tells callers apart (DNS
users, proxy clients) the request key stands for the caller, as with ip_hash; per-caller
state lives in dicts bounded by the number of callers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._mypyc import mypyc_attr
from ..distributions import Constant
from ..kernel import stream
from .base import BLOCKED, DOWN, OK, RATE_LIMITED, Component, Job, hit_ratio, rate
from .cache_stores import INF, LruStore
from .pool import QueuedPool


def after(owner: Component, ms: float, step: Callable[[Job], None], job: Job) -> None:
    """Run `step(job)` after `ms` (at once if 0), unless the job was answered meanwhile
    (its owner failed)."""
    if ms:
        owner.kernel.schedule(ms / 1000.0, _if_open, (step, job))
    else:
        step(job)


def _if_open(item: tuple[Callable[[Job], None], Job]) -> None:
    step, job = item
    if job.open:
        step(job)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; a request takes one or is limited."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, now: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), now

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def change(self, rate: float, burst: int, now: float) -> None:
        """A `set`: tokens earned so far count at the old rate."""
        self.refill(now)
        self.rate, self.burst = rate, burst
        self.tokens = min(self.tokens, burst)

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class ResponseCache:
    """An LRU store of responses with an optional TTL from the fill, and its hit counts
    (cdn pull mode and the reverse proxy's cache)."""

    def __init__(self, capacity: int):
        self.store = LruStore(capacity)
        self.hits = self.misses = 0  # counted after warm-up
        self.evictions_before = 0  # evictions during warm-up, not reported
        self.all_hits = self.all_lookups = 0  # warm-up included, for live frames
        # Misses of a key whose entry had expired, or that was cached once and is gone
        # (evicted, or lost when the component failed); the rest are first lookups.
        self.filled: set[int] = set()
        self.all_expired = self.all_evicted = 0

    def lookup(self, key: int, now: float, counted: bool) -> bool:
        expiry = self.store.entries.get(key)
        hit = self.store.lookup(key, now)
        if not hit:
            if expiry is not None:
                self.all_expired += 1
            elif key in self.filled:
                self.all_evicted += 1
        self.count(hit, counted)
        return hit

    def count(self, hit: bool, counted: bool) -> None:
        self.all_lookups += 1
        self.all_hits += hit
        if counted:
            self.hits += hit
            self.misses += not hit

    def fill(self, key: int, now: float, ttl_s: float | None) -> None:
        self.store.fill(key, now + ttl_s if ttl_s else INF)
        self.filled.add(key)

    def resize(self, capacity: int) -> None:
        self.store.capacity = capacity
        self.store.trim()

    def warm(self) -> None:
        self.evictions_before = self.store.evictions

    def report(self) -> dict[str, Any]:
        lookups = self.hits + self.misses
        return {"hits": self.hits, "misses": self.misses,
                "hit_ratio": self.hits / lookups if lookups else 0.0,
                "evictions": self.store.evictions - self.evictions_before}

    def live(self, out: dict[str, Any]) -> None:
        out["entries"] = len(self.store)

    def counters(self, out: dict[str, float]) -> dict[str, float]:
        out.update(hits=self.all_hits, lookups=self.all_lookups, expired=self.all_expired,
                   evicted=self.all_evicted)
        return out

    def windowed(self, old: dict[str, float], new: dict[str, float], span: float,
                 out: dict[str, Any]) -> None:
        """The hit ratio, and the misses per second split: [expired, evicted, first]."""
        hit_ratio(old, new, out)
        misses = (new["lookups"] - old["lookups"]) - (new["hits"] - old["hits"])
        expired, evicted = new["expired"] - old["expired"], new["evicted"] - old["evicted"]
        out["miss_rps"] = [rate(expired, span), rate(evicted, span),
                           rate(misses - expired - evicted, span)]


# --- DNS -----------------------------------------------------------------------------------

@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Dns(Component):
    """Each user (key modulo `users`) caches the answer it got for `ttl_s`: a request pays
    `lookup_ms` only when its user's answer has expired, and goes wherever that answer
    points, up or down. A lookup picks among the targets that are up at that moment."""

    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self._rr = 0
        self.answers: dict[int, tuple[float, int]] = {}  # user -> (expiry, link index)
        self.lookups = self.cached = 0

    def wire(self) -> None:
        super().wire()
        self.per_target = [0] * len(self.out)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if "users" in changes:  # callers are told apart by key modulo users: new callers
            self.answers.clear()

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        now = self.kernel.now
        user = req.key % self.settings["users"]
        answer = self.answers.get(user)
        if answer is not None and answer[0] > now and self.out[answer[1]].carries(req.cls):
            self.cached += job.counted
            self._send(job, answer[1])
            return
        self.lookups += job.counted
        target = self._resolve(req.cls)
        if target is None:
            self.finish(job, DOWN)
            return
        if self.settings["ttl_s"]:  # the answer is cached from the start of the lookup
            self.answers[user] = (now + self.settings["ttl_s"], target)
        job.step = target
        after(self, self.settings["lookup_ms"], self._answered, job)

    def _answered(self, job: Job) -> None:
        """The lookup is over: go where it pointed."""
        self._send(job, job.step)

    def _send(self, job: Job, target: int) -> None:
        if job.counted:
            self.per_target[target] += 1
        self.out[target].send(job.req, job)

    def _resolve(self, key: str) -> int | None:
        """The index of the link a fresh answer points to; None if no target is up."""
        up = [i for i, link in enumerate(self.out) if link.target.up and link.carries(key)]
        if not up:
            return None
        policy = self.settings["policy"]
        if policy == "failover":
            return up[0]
        if policy == "latency":
            return min(up, key=lambda i: self.out[i].latency)  # ties: the first listed
        if policy == "weighted":  # at random, by link weight
            return self.out.index(self.sim.pick_weighted(self, [self.out[i] for i in up]))
        self._rr += 1
        return up[self._rr % len(up)]

    def report(self, now: float):
        out = super().report(now)
        resolved = self.lookups + self.cached
        out.update(lookups=self.lookups, cached=self.cached,
                   lookup_ratio=self.lookups / resolved if resolved else 0.0,
                   per_target={link.target.id: n for link, n in
                               zip(self.out, self.per_target, strict=True)})
        return out

    def live(self):
        out = super().live()
        out["answers"] = len(self.answers)
        return out


# --- CDN -----------------------------------------------------------------------------------

@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Cdn(Component):
    """Every request pays `edge_ms`. A static read of a cached key answers there; dynamic
    reads and writes always go to the origin. Pull fills on a miss (LRU, TTL from the
    fill); push serves the `push_keys` most popular keys and never fills."""

    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self._rng = stream(sim.seed, cid, "dynamic")
        self.cache = ResponseCache(settings["capacity_keys"])
        self.dynamic = 0

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self.cache.resize(self.settings["capacity_keys"])
        if self.settings["mode"] == "push":  # what was pulled is not what is pushed
            self.cache.store.clear()

    def warm(self, now: float):
        super().warm(now)
        self.cache.warm()

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is not None:
            after(self, self.settings["edge_ms"], self._serve, job)

    def _serve(self, job: Job) -> None:
        req, s = job.req, self.settings
        ratio = s["dynamic_ratio"]
        if req.op == "read" and not (ratio and (ratio >= 1 or self._rng.random() < ratio)):
            if s["mode"] == "push":
                hit = req.key < s["push_keys"]
                self.cache.count(hit, job.counted)
            else:
                hit = self.cache.lookup(req.key, self.kernel.now, job.counted)
                job.step = 1  # fill on the answer
            if hit:
                req.hit = True
                self.finish(job, OK)
                return
        elif req.op == "read":
            self.dynamic += job.counted
        self.forward(job, self.routes[req.cls])

    def resume(self, job: Job, outcome: int) -> None:
        if outcome == OK and job.step:
            self.cache.fill(job.req.key, self.kernel.now, self.settings["ttl_s"])
        self.finish(job, outcome)

    def drop_state(self) -> None:
        self.cache.store.clear()  # pushed keys are configuration: they stay

    def report(self, now: float):
        out = super().report(now)
        out.update(self.cache.report(), dynamic=self.dynamic)
        return out

    def live(self):
        out = super().live()
        self.cache.live(out)
        return out

    def counters(self, now: float):
        return self.cache.counters(super().counters(now))

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        self.cache.windowed(old, new, span, out)


# --- reverse proxy -------------------------------------------------------------------------

@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class ReverseProxy(QueuedPool):
    """TLS termination, per-client token buckets, a response cache, and `connections` to
    its upstreams: a request holds one while it is forwarded; beyond them requests wait
    FIFO (up to `queue_limit`). Every successful answer pays `compress_ms`."""

    def __init__(self, sim, cid, kind, settings) -> None:
        self.cache = ResponseCache(settings["cache_keys"])
        self.buckets: dict[int, TokenBucket] = {}  # client -> its bucket, made on first use
        self.rate_limited = 0
        super().__init__(sim, cid, kind, settings)

    def _configure(self) -> None:
        s = self.settings
        self.workers = s["connections"]
        self.blocking = True  # the connection is held until the upstream answers
        self._samplers = dict.fromkeys(("read", "write", *self.sim.class_ops),
                                       Constant(0.0).sample)  # no own work

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self.cache.resize(self.settings["cache_keys"])
        if "clients" in changes:
            self.buckets.clear()
        elif self.settings["client_rate_rps"]:
            for bucket in self.buckets.values():
                bucket.change(self.settings["client_rate_rps"], self.settings["client_burst"],
                              self.kernel.now)
        else:  # limits turned off: buckets start afresh if they are turned on again
            self.buckets.clear()

    def warm(self, now: float):
        super().warm(now)
        self.cache.warm()

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is not None:
            after(self, self.settings["tls_ms"] * self.slow, self._request, job)

    def _request(self, job: Job) -> None:
        req, s, now = job.req, self.settings, self.kernel.now
        if s["client_rate_rps"]:
            client = req.key % s["clients"]
            bucket = self.buckets.get(client)
            if bucket is None:
                bucket = self.buckets[client] = TokenBucket(s["client_rate_rps"],
                                                            s["client_burst"], now)
            if not bucket.take(now):
                self.rate_limited += job.counted
                self.turn_away(job, RATE_LIMITED)
                return
        if req.op == "read" and s["cache_keys"] and self.cache.lookup(req.key, now,
                                                                      job.counted):
            req.hit = True
            self._answer(job)
            return
        self.enter(job)

    def call_next(self, job: Job) -> None:
        """A connection is free for the job: forward it upstream."""
        self.forward(job, self.routes[job.req.cls])

    def resume(self, job: Job, outcome: int) -> None:
        self.release(job)
        if outcome != OK:
            self.finish(job, outcome)
            return
        if job.req.op == "read" and self.settings["cache_keys"]:
            self.cache.fill(job.req.key, self.kernel.now, self.settings["cache_ttl_s"])
        self._answer(job)

    def _answer(self, job: Job) -> None:
        after(self, self.settings["compress_ms"] * self.slow, self._ok, job)

    def _ok(self, job: Job) -> None:
        self.finish(job, OK)

    def drop_state(self) -> None:
        super().drop_state()
        self.cache.store.clear()
        self.buckets.clear()

    def report(self, now: float):
        out = super().report(now)
        out.update(self.cache.report(), rate_limited=self.rate_limited)
        return out

    def live(self):
        out = super().live()
        self.cache.live(out)
        return out

    def counters(self, now: float):
        return self.cache.counters(super().counters(now))

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        self.cache.windowed(old, new, span, out)


# --- rate limiter and WAF ------------------------------------------------------------------

@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class RateLimiter(Component):
    """One token bucket for everything that passes: over the limit it answers 429."""

    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.bucket = TokenBucket(settings["rate_rps"], settings["burst"], 0.0)
        self.admitted = self.limited = 0

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self.bucket.change(self.settings["rate_rps"], self.settings["burst"], self.kernel.now)

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        if self.bucket.take(self.kernel.now):
            self.admitted += job.counted
            self.forward(job, self.routes[req.cls])
        else:
            self.limited += job.counted
            self.turn_away(job, RATE_LIMITED)

    def report(self, now: float):
        out = super().report(now)
        out.update(admitted=self.admitted, limited=self.limited)
        return out

    def live(self):
        out = super().live()
        out["tokens"] = round(self.bucket.tokens, 2)
        return out


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Waf(Component):
    """Inspects every request for `inspect_ms`; blocks a share of attacks (`block_ratio`)
    and a share of legitimate requests (`false_positive_ratio`), answering `blocked`."""

    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self._rng = stream(sim.seed, cid, "inspect")
        self.blocked = self.passed = self.false_positives = self.missed = 0

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is not None:
            after(self, self.settings["inspect_ms"], self._inspect, job)

    def _inspect(self, job: Job) -> None:
        req = job.req
        share = self.settings["block_ratio" if req.malicious else "false_positive_ratio"]
        if share and (share >= 1 or self._rng.random() < share):
            if req.malicious:
                self.blocked += job.counted
            else:
                self.false_positives += job.counted
            self.turn_away(job, BLOCKED)
            return
        self.passed += job.counted
        self.missed += job.counted and req.malicious
        self.forward(job, self.routes[req.cls])

    def report(self, now: float):
        out = super().report(now)
        out.update(blocked=self.blocked, false_positives=self.false_positives,
                   passed=self.passed, missed_attacks=self.missed)
        return out

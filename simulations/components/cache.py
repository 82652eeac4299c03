"""Caches: read-through with LRU/LFU/FIFO eviction, TTL, and three write policies.

A read that hits answers after the lookup; a miss asks downstream and fills the entry
when the answer arrives (TTL runs from that fill). Write-through writes downstream then
updates the entry; write-around writes downstream and drops the entry; write-behind
answers at once, keeps the key dirty and flushes dirty keys every `flush_ms`. Dirty keys
still unflushed when the cache fails are counted as lost writes.
"""

from __future__ import annotations

from typing import Any

from .._mypyc import mypyc_attr
from .base import OK, Component, Job, Request, Unanswered, hit_ratio
from .cache_stores import INF, STORES


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Cache(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.hits = self.misses = self.lost_writes = 0
        self.evictions_before = 0  # evictions during warm-up, not reported
        self.all_hits = self.all_lookups = 0  # warm-up included, for live frames
        self.dirty: set[int] = set()
        self._flushing = False
        self.store: Any = STORES[settings["eviction"]](settings["capacity_keys"])

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if "eviction" in changes:  # a new policy keeps the entries it can hold
            old, self.store = self.store, STORES[self.settings["eviction"]](
                self.settings["capacity_keys"])
            for key, expiry in old.items():
                self.store.fill(key, expiry)
            self.store.evictions = old.evictions
        self.store.capacity = self.settings["capacity_keys"]
        self.store.trim()

    def warm(self, now: float):
        super().warm(now)
        self.evictions_before = self.store.evictions

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        hit_ms = self.settings["hit_ms"]
        if hit_ms:
            self.kernel.schedule(hit_ms / 1000.0, self._lookup, job)
        else:
            self._lookup(job)

    def _lookup(self, job: Job) -> None:
        if not job.open:
            return
        req = job.req
        if req.op == "read":
            self.all_lookups += 1
            if self.store.lookup(req.key, self.kernel.now):
                self.all_hits += 1
                if job.counted:
                    self.hits += 1
                req.hit = True
                self.finish(job, OK)
                return
            if job.counted:
                self.misses += 1
            self.forward(job, self.routes[req.cls])
            return
        policy = self.settings["write_policy"]
        if policy == "write_behind":
            self._fill(req.key)
            self.dirty.add(req.key)
            if not self._flushing:
                self._flushing = True
                self.kernel.schedule(self.settings["flush_ms"] / 1000.0, self._flush)
            self.finish(job, OK)
            return
        if policy == "write_around":
            self.store.remove(req.key)
        self.forward(job, self.routes[req.cls])

    def resume(self, job: Job, outcome: int) -> None:
        req = job.req
        if outcome == OK and (req.op == "read" or
                              self.settings["write_policy"] == "write_through"):
            self._fill(req.key)
        self.finish(job, outcome)

    def _fill(self, key: int) -> None:
        ttl = self.settings["ttl_s"]
        self.store.fill(key, self.kernel.now + ttl if ttl else INF)

    def _flush(self, _=None) -> None:
        """Write every dirty key downstream (write-behind); answers come back to nobody."""
        self._flushing = False
        if not self.up or not self.dirty:
            return
        keys, self.dirty = sorted(self.dirty), set()
        links = self.routes["write"]
        for key in keys:
            req = Request("write", key, self.kernel.now, False, False)
            link = links[0] if len(links) == 1 else self.sim.pick_weighted(self, links)
            link.send(req, Unanswered())

    def drop_state(self) -> None:
        if self.kernel.now >= self.warmup:
            self.lost_writes += len(self.dirty)
        self.dirty.clear()
        self.store.clear()

    def report(self, now: float):
        out = super().report(now)
        lookups = self.hits + self.misses
        out.update(hits=self.hits, misses=self.misses,
                   hit_ratio=self.hits / lookups if lookups else 0.0,
                   evictions=self.store.evictions - self.evictions_before,
                   lost_writes=self.lost_writes)
        return out

    def live(self):
        out = super().live()
        out["entries"] = len(self.store)
        out["dirty"] = len(self.dirty)
        out["lost_writes"] = self.lost_writes  # unflushed writes lost when it failed, so far
        return out

    def counters(self, now: float):
        return {**super().counters(now), "hits": self.all_hits, "lookups": self.all_lookups}

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        hit_ratio(old, new, out)

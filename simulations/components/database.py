"""Databases: a worker pool with reads and writes, primaries and replicas.

A primary numbers each write of a key; a write is committed when its caller is answered
(with sync replicas, once they all applied it). Each replication link carries the write
with its own lag, but a replica never applies a write before one sent earlier (a
replication log). A read on a replica is stale if, when it starts service, the replica
has not applied the primary's latest committed write of that key.
"""

from __future__ import annotations

from ..kernel import stream
from .base import OK, Job
from .pool import QueuedPool


class Replication:
    """One primary -> replica replication link at run time."""

    __slots__ = ("sim", "index", "primary", "replica", "sync", "lag", "rng", "constant",
                 "last_apply", "cut", "backlog")

    def __init__(self, sim, index, primary, replica, mode, lag_ms, lag_dist):
        self.sim = sim
        self.index = index
        self.primary = primary
        self.replica = replica
        self.sync = mode == "sync"
        self.lag = lag_ms / 1000.0
        self.constant = lag_dist == "constant"
        self.rng = stream(sim.seed, primary.id, replica.id, "lag")
        self.last_apply = 0.0
        self.cut = False
        self.backlog: list[tuple[int, int, Job | None]] = []

    def ship(self, key: int, version: int, job: Job | None) -> None:
        """Send one committed write; `job` is the write waiting on a sync replica."""
        if self.cut:
            self.backlog.append((key, version, job))
            return
        kernel = self.sim.kernel
        lag = self.lag if self.constant or not self.lag else self.rng.expovariate(1 / self.lag)
        at = max(kernel.now + lag, self.last_apply)
        self.last_apply = at
        kernel.schedule(at - kernel.now, self._apply, (key, version, job))

    def _apply(self, item: tuple[int, int, Job | None]) -> None:
        key, version, job = item
        self.replica.applied[key] = version
        if job is not None:
            self.primary.replicated(job)

    def heal(self) -> None:
        self.cut = False
        backlog, self.backlog = self.backlog, []
        for key, version, job in backlog:
            self.ship(key, version, job)


class Database(QueuedPool):
    def __init__(self, sim, cid, kind, settings):
        super().__init__(sim, cid, kind, settings)
        self.shipped: dict[int, int] = {}  # number of the latest write per key sent out
        self.version: dict[int, int] = {}  # latest committed write per key (primaries)
        self.applied: dict[int, int] = {}  # latest applied write per key (replicas)
        self.replicas: list[Replication] = []
        self.primary: Database | None = None
        # Writes waiting on sync replicas: job -> [replicas left, key, write number].
        self.pending: dict[Job, list[int]] = {}
        self.reads = self.writes = self.stale_reads = 0

    def mean_s(self, op: str) -> float:
        return self.settings["read_ms" if op == "read" else "write_ms"] / 1000.0

    def start(self, job: Job) -> None:
        req = job.req
        if job.counted:
            if req.op == "read":
                self.reads += 1
                primary = self.primary
                if primary is not None and \
                        primary.version.get(req.key, 0) > self.applied.get(req.key, 0):
                    self.stale_reads += 1
            else:
                self.writes += 1
        super().start(job)

    def done(self, job: Job) -> None:
        if job.req.op != "write" or not self.replicas:
            self.end(job, OK)
            return
        key = job.req.key
        number = self.shipped[key] = self.shipped.get(key, 0) + 1
        sync = sum(rep.sync for rep in self.replicas)
        for rep in self.replicas:
            rep.ship(key, number, job if rep.sync else None)
        if not sync:
            self._commit(key, number)
            self.end(job, OK)
            return
        self.pending[job] = [sync, key, number]
        self.release(job)  # the worker is free; the answer waits for the replicas

    def _commit(self, key: int, number: int) -> None:
        """A write is committed when its caller is answered: with sync replicas, only once
        they all applied it (so a sync replica never serves a stale read)."""
        if number > self.version.get(key, 0):
            self.version[key] = number

    def replicated(self, job: Job) -> None:
        waiting = self.pending.get(job)
        if waiting is None:
            return
        waiting[0] -= 1
        if waiting[0]:
            return
        del self.pending[job]
        if job.open:
            self._commit(waiting[1], waiting[2])
            self.end(job, OK)

    def drop_state(self) -> None:
        super().drop_state()
        self.pending.clear()

    def report(self, now):
        out = super().report(now)
        out.update(reads=self.reads, writes=self.writes, stale_reads=self.stale_reads)
        return out

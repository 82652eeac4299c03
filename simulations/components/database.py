"""Databases: a worker pool with reads and writes, primaries and replicas, failover.

A primary numbers each write of a key; a write is committed when its caller is answered
(with sync replicas, once they all applied it). Each replication link carries the write
with its own lag, but a replica never applies a write before one sent earlier (a
replication log). A read on a replica is stale if, when it starts service, the replica
has not applied the primary's latest committed write of that key.

Failover (`failover` on a primary): `active_passive` makes the primary and its replicas a
Cluster that promotes a replica when the primary fails; `multi_primary` joins two
databases replicating to each other, both taking writes, and counts conflicting writes.
"""

from __future__ import annotations

from .._mypyc import mypyc_attr
from ..kernel import stream
from ..metrics import TimeAverage
from ..registry import size_of
from .base import OK, Job, stale_read_ratio
from .pool import QueuedPool

Entry = tuple[int, int, Job | None, int]  # key, write number, sync write waiting, sequence


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Replication:
    """One primary -> replica replication link at run time."""

    __slots__ = ("sim", "index", "primary", "replica", "sync", "lag", "rng", "constant",
                 "last_apply", "cut", "stalled", "backlog", "in_flight", "epoch", "peer")

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
        self.cut = False  # partitioned: writes wait in the backlog until it heals
        self.stalled = False  # its active-passive primary is down: likewise
        self.backlog: list[Entry] = []
        self.in_flight: dict[Entry, None] = {}  # shipped and not applied yet, in order
        self.epoch = 0  # bumped on a stall: applies scheduled before it are void
        self.peer = primary.settings["failover"] == "multi_primary"

    def ship(self, key: int, version: int, job: Job | None, seq: int) -> None:
        """Send one committed write; `job` is the write waiting on a sync replica."""
        if self.peer:  # the peer now has a write of this key it has not applied
            unapplied = self.replica.unapplied
            unapplied[key] = unapplied.get(key, 0) + 1
        self._send((key, version, job, seq))

    def _send(self, entry: Entry) -> None:
        if self.cut or self.stalled:
            self.backlog.append(entry)
            return
        kernel = self.sim.kernel
        lag = self.lag if self.constant or not self.lag else self.rng.expovariate(1 / self.lag)
        at = max(kernel.now + lag, self.last_apply)
        self.last_apply = at
        self.in_flight[entry] = None
        kernel.schedule(at - kernel.now, self._apply, (self.epoch, entry))

    def _apply(self, item: tuple[int, Entry]) -> None:
        epoch, entry = item
        if epoch != self.epoch:
            return
        del self.in_flight[entry]
        key, version, job, seq = entry
        replica = self.replica
        replica.applied[key] = version
        replica.applied_seq = seq
        if self.peer:
            left = replica.unapplied[key] - 1
            if left:
                replica.unapplied[key] = left
            else:
                del replica.unapplied[key]
        if job is not None:
            self.primary.replicated(job)

    def heal(self) -> None:
        self.cut = False
        self.resume()

    def resume(self) -> None:
        """Ship what waited, unless the link is still cut or stalled."""
        backlog, self.backlog = self.backlog, []
        for entry in backlog:
            self._send(entry)

    def stall(self) -> None:
        """The primary failed: the writes it shipped that the replica has not applied wait
        with the rest of its log (lost if a replica is promoted, sent on if it comes back)."""
        self.stalled = True
        self.epoch += 1
        self.backlog[:0] = self.in_flight
        self.in_flight.clear()
        self.last_apply = 0.0

    def repoint(self, primary: Database, replica: Database) -> int:
        """Carry a new primary's writes to `replica`; returns how many committed writes of
        the old primary were never applied (lost; a sync write still waiting was never
        committed)."""
        lost = sum(job is None for _, _, job, _ in self.backlog)
        self.backlog = []
        self.stalled = False
        self.primary, self.replica = primary, replica
        replica.primary = primary
        return lost


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Database(QueuedPool):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.shipped: dict[int, int] = {}  # number of the latest write per key sent out
        self.version: dict[int, int] = {}  # latest committed write per key (primaries)
        self.applied: dict[int, int] = {}  # latest applied write per key (replicas)
        self.replicas: list[Replication] = []
        self.primary: Database | None = None
        # Writes waiting on sync replicas: job -> [replicas left, key, write number].
        self.pending: dict[Job, list[int]] = {}
        self.reads = self.writes = self.stale_reads = 0
        # Position in the log of writes: shipped (as primary), applied (as replica).
        self.seq = self.applied_seq = 0
        self.cluster: Cluster | None = None  # active-passive
        self.redirect: Database | None = None  # a cluster endpoint whose primary moved
        self.unapplied: dict[int, int] = {}  # multi-primary: the peer's writes in flight
        self.conflicts = 0

    def wire(self):
        super().wire()
        if self.settings["failover"] == "active_passive":
            Cluster(self)

    def warm(self, now: float):
        super().warm(now)
        if self.cluster is not None and self.cluster.endpoint is self:
            self.cluster.writable.mark(now)

    def accept(self, req, reply) -> None:
        if self.redirect is not None:
            self.redirect.accept(req, reply)
        else:
            super().accept(req, reply)

    def mean_s(self, op: str) -> float:
        s = self.settings  # a named size's speed divides the work (custom: 1)
        return s["read_ms" if op == "read" else "write_ms"] / 1000.0 / size_of(s)[1]

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

    def done(self, job: Job, outcome: int = OK) -> None:
        if job.req.op != "write" or not self.replicas:
            self.end(job, OK)
            return
        key = job.req.key
        if job.counted and self.unapplied.get(key):
            self.conflicts += 1  # the peer's write of the key is not here yet: last one wins
        number = self.shipped[key] = self.shipped.get(key, 0) + 1
        self.seq += 1
        sync = sum(rep.sync for rep in self.replicas)
        for rep in self.replicas:
            rep.ship(key, number, job if rep.sync else None, self.seq)
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

    # -- failover -------------------------------------------------------------------------
    def fail(self) -> None:
        cluster = self.cluster
        if cluster is None or cluster.primary is not self:
            super().fail()
        elif self.up:
            super().fail()
            cluster.primary_failed()
        else:
            cluster.back_early = False  # down again before its held-back recovery

    def recover(self) -> None:
        cluster = self.cluster
        if cluster is None or cluster.primary is not self or self.up:
            super().recover()
        elif cluster.promoting:  # fenced: it comes back once a replica has taken over
            cluster.back_early = True
        else:
            super().recover()
            cluster.primary_back()

    def become_primary(self) -> None:
        """Promoted: it goes on from the writes it has applied."""
        self.version = dict(self.applied)
        self.shipped = dict(self.applied)
        self.seq = self.applied_seq
        self.primary = None

    def resync(self, primary: Database) -> None:
        """A replica catches up with a new primary at once (a snapshot of its data)."""
        self.applied = dict(primary.version)
        self.applied_seq = primary.seq

    def report(self, now: float):
        out = super().report(now)
        out.update(reads=self.reads, writes=self.writes, stale_reads=self.stale_reads)
        if self.settings["failover"] == "multi_primary":
            out["conflicts"] = self.conflicts
        if self.cluster is not None:
            out["role"] = self.cluster.role(self)
            if self.cluster.endpoint is self:
                out.update(self.cluster.report(now))
        return out

    def live(self):
        out = super().live()
        cluster = self.cluster
        if cluster is not None:
            out["role"] = cluster.role(self)
            if cluster.endpoint is self:  # the writes lost by failovers so far
                out["lost_writes"] = cluster.lost_writes
                if cluster.failed_at >= 0:
                    out["failover"] = cluster.timeline()
        return out

    def counters(self, now: float):
        out = super().counters(now)
        out.update(reads=self.reads, stale=self.stale_reads)
        if self.settings["failover"] == "multi_primary":
            out.update(writes=self.writes, conflicts=self.conflicts)
        return out

    def windowed(self, old, new, span: float, out):
        """A replica's stale reads; a multi-primary database's share of conflicting writes
        over the window (counted writes only, as the report's), beside the predicted
        conflict_ratio."""
        super().windowed(old, new, span, out)
        if self.primary is not None:  # only a replica's reads can be stale
            stale_read_ratio(old, new, out)
        if "conflicts" in new and new["writes"] > old["writes"]:
            out["conflict_ratio"] = round((new["conflicts"] - old["conflicts"])
                                          / (new["writes"] - old["writes"]), 4)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Cluster:
    """An active-passive cluster: a primary, its replicas, and which of them is primary.

    Callers reach the primary through the original primary's id, the cluster's endpoint (as a
    DNS name or virtual IP that follows the role), so links stay as drawn. When the primary
    fails, nobody notices for `heartbeat_s`; then, `promotion_s` later, the up replica that
    applied the most writes becomes primary. The old primary's committed writes it never
    applied are lost; the other replicas (and the old primary, once back) follow the new one.
    Heartbeat and promotion times are the endpoint's settings.
    """

    def __init__(self, endpoint: Database):
        self.endpoint = self.primary = endpoint
        self.members = [endpoint] + [rep.replica for rep in endpoint.replicas]
        for member in self.members:
            member.cluster = self
        self.kernel = endpoint.kernel
        self.epoch = 0  # a primary that fails again starts a new detection
        self.promoting = False
        self.back_early = False  # the failed primary recovered while fenced
        self.writable = TimeAverage(0.0, 1.0)  # whether writes have an up primary
        self.failovers = self.lost_writes = 0
        # The last failover as it went, for live frames (-1: not (yet) happened): the
        # primary failed, the heartbeat missed it, a replica was promoted; lost writes.
        self.failed_at = self.detected_at = self.promoted_at = -1.0
        self.last_lost = 0

    def timeline(self) -> list:
        """[failed, detected, promoted (s, or None), promoted id, writes lost]."""
        return [None if t < 0 else round(t, 4)
                for t in (self.failed_at, self.detected_at, self.promoted_at)] + \
            [self.primary.id if self.promoted_at >= 0 else None, self.last_lost]

    def role(self, member: Database) -> str:
        return "primary" if member is self.primary else "replica"

    def primary_failed(self) -> None:
        self.writable.update(self.kernel.now, 0.0)
        self.failed_at, self.detected_at, self.promoted_at = self.kernel.now, -1.0, -1.0
        self.last_lost = 0
        for rep in self.primary.replicas:
            rep.stall()
        self.epoch += 1
        self.kernel.schedule(self.endpoint.settings["heartbeat_s"], self._noticed, self.epoch)

    def primary_back(self) -> None:
        """The primary recovered before a replica took over: it ships what waited."""
        self.writable.update(self.kernel.now, 1.0)
        for rep in self.primary.replicas:
            rep.stalled = False
            rep.resume()

    def _noticed(self, epoch: int) -> None:
        if epoch != self.epoch or self.primary.up:
            return  # it came back before the heartbeat missed it
        self.detected_at = self.kernel.now
        self.promoting = True
        self.kernel.schedule(self.endpoint.settings["promotion_s"], self._promote)

    def _promote(self, _=None) -> None:
        self.promoting = False
        old = self.primary
        candidates = [m for m in self.members if m is not old and m.up]
        if candidates:  # with none up, the old primary stays primary and writes wait for it
            self._hand_over(old, max(candidates, key=lambda m: m.applied_seq))
        if self.back_early:
            self.back_early = False
            old.recover()

    def _hand_over(self, old: Database, new: Database) -> None:
        now = self.kernel.now
        new.become_primary()
        lost = 0
        for rep in old.replicas:  # the promoted one's link now runs back to the old primary
            promoted = rep.replica is new
            dropped = rep.repoint(new, old if promoted else rep.replica)
            lost = dropped if promoted else lost
            rep.replica.resync(new)
        new.replicas, old.replicas = old.replicas, []
        self.primary = new
        self.endpoint.redirect = None if new is self.endpoint else new
        self.writable.update(now, 1.0)
        self.promoted_at, self.last_lost = now, lost
        if now >= self.endpoint.warmup:
            self.failovers += 1
            self.lost_writes += lost

    def report(self, now: float) -> dict:
        measured = now - self.writable.start
        return {"failovers": self.failovers, "lost_writes": self.lost_writes,
                "write_downtime_s": max(measured - self.writable.integral(now), 0.0),
                "primary": self.primary.id}

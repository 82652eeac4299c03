"""A Dynamo-style key-value store: N replicas inside one component, read and write quorums.

Every replica contact takes an exponential time (mean `replica_ms`, no queueing). A write
gets the key's next version and goes to every replica it can reach; each applies it when
its contact ends, and the write is answered (committed) once W have. A read asks R of the
reachable replicas, chosen at random, sees what each holds when asked and is answered
after the slowest of them with the newest version among them. It is stale if that is
older than the key's newest committed version when the read started: impossible when
R + W > N (every read quorum meets every write quorum), likely when R + W <= N.

A partition (`partitioned_replicas` = k) splits the replicas into a main side (the first
N - k) and a far side (the last k); each request lands on a side in proportion to its
replicas, as if clients were spread evenly over the replicas' places. `refuse` (CP) fails a
request whose side has fewer than R (or W) replicas; `serve` (AP) answers from the
replicas of its side (a sloppy quorum). Writes that cannot cross the partition wait and
reach the other side (hinted handoff, usual delay) once it heals (k set to 0). A key
written on both sides during one partition is a conflict (it would need a merge).
Contacts already under way when a partition starts or heals complete as sent.
"""

from __future__ import annotations

from typing import Any

from .._mypyc import mypyc_attr
from ..distributions import service_sampler
from ..kernel import stream
from .base import FAILED, OK, Component, Job, rate, stale_read_ratio

SIDE_COUNTS = ("in", "refused", "read", "stale")  # per side of a partition


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Write:
    """A write waiting for its quorum of acknowledgements."""

    __slots__ = ("key", "version", "needed", "acks", "job")

    def __init__(self, key: int, version: int, needed: int, job: Job):
        self.key = key
        self.version = version
        self.needed = needed
        self.acks = 0
        self.job = job


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class KVStore(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self._delay_rng = stream(sim.seed, cid, "replicas")
        self._pick_rng = stream(sim.seed, cid, "quorum")
        self._side_rng = stream(sim.seed, cid, "sides")
        self.slow = 1.0
        self.issued: dict[int, int] = {}  # key -> versions handed out
        self.committed: dict[int, int] = {}  # key -> newest version a write quorum holds
        self.stored: list[dict[int, int]] = []  # per replica: key -> newest version applied
        self.held: list[dict[int, int]] = []  # per replica: writes waiting for the heal
        self.sides_written: dict[int, int] = {}  # key -> bit per side that wrote it
        self.reads = self.writes = self.stale_reads = 0
        self.sloppy_writes = self.conflicting_keys = 0
        # Per side of a partition (0: the majority's, 1: the cut-off one), warm-up included,
        # for live frames: requests, refused, reads, stale reads.
        self.side_counts = [[0, 0, 0, 0], [0, 0, 0, 0]]
        self._configure()

    def _configure(self) -> None:
        s = self.settings
        n = s["replicas_n"]
        # A replica added later starts empty; one removed takes its data with it.
        self.stored = self.stored[:n] + [{} for _ in range(n - len(self.stored))]
        self.held = self.held[:n] + [{} for _ in range(n - len(self.held))]
        # A `set` is checked against the starting parameters; later ones may leave R or W
        # above N, which then means all N.
        self.read_quorum = min(s["read_quorum"], n)
        self.write_quorum = min(s["write_quorum"], n)
        self.cut = min(s["partitioned_replicas"], n - 1)
        self._delay = service_sampler("exponential", s["replica_ms"] / 1000.0 * self.slow,
                                      1.0, self._delay_rng)

    def apply_settings(self, changes: dict[str, Any]) -> None:
        was_cut = self.cut
        super().apply_settings(changes)
        self._configure()
        if self.cut != was_cut:
            self.sides_written.clear()  # a new partition (or none): conflicts start afresh
        if was_cut and not self.cut:
            self._heal()

    def set_slow(self, factor: float) -> None:
        self.slow = factor
        self._configure()

    # -- requests ---------------------------------------------------------------------------
    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        n = len(self.stored)
        far = self.cut and self._side_rng.random() < self.cut / n
        side = range(n - self.cut, n) if far else range(n - self.cut)
        reading = req.op == "read"
        quorum = self.read_quorum if reading else self.write_quorum
        counts = self.side_counts[1 if far else 0]
        counts[0] += 1
        if len(side) < quorum and self.settings["on_partition"] == "refuse":
            counts[1] += 1
            self.finish(job, FAILED)
            return
        needed = min(quorum, len(side))
        if reading:
            self._read(job, side, needed)
        else:
            self._write(job, side, needed, quorum, far)

    def _read(self, job: Job, side: range, needed: int) -> None:
        asked = side if needed == len(side) else self._pick_rng.sample(side, needed)
        key = job.req.key
        stale = max(self.stored[r].get(key, 0) for r in asked) < self.committed.get(key, 0)
        counts = self.side_counts[1 if side.start > 0 else 0]
        counts[2] += 1
        counts[3] += stale
        if job.counted:
            self.reads += 1
            if stale:
                self.stale_reads += 1
        slowest = max(self._delay() for _ in asked)
        self.kernel.schedule(slowest, self._answer, job)

    def _answer(self, job: Job) -> None:
        if job.open:
            self.finish(job, OK)

    def _write(self, job: Job, side: range, needed: int, quorum: int,
               far: Any) -> None:  # far: 0 or a bool (a truth value)
        key = job.req.key
        version = self.issued[key] = self.issued.get(key, 0) + 1
        if job.counted:
            self.writes += 1
            if needed < quorum:
                self.sloppy_writes += 1
        if self.cut:
            self._note_side(key, 2 if far else 1, job.counted)
        write = Write(key, version, needed, job)
        for r in range(len(self.stored)):
            if r in side:
                self.kernel.schedule(self._delay(), self._applied, (write, r))
            elif version > self.held[r].get(key, 0):
                self.held[r][key] = version

    def _applied(self, item: tuple[Write, int]) -> None:
        """A replica applied a write and acknowledges it; the W-th acknowledgement commits
        it (even if its caller was already answered `down`: the replicas have it)."""
        write, r = item
        self._store(r, write.key, write.version)
        write.acks += 1
        if write.acks == write.needed:
            if write.version > self.committed.get(write.key, 0):
                self.committed[write.key] = write.version
            if write.job.open:
                self.finish(write.job, OK)

    def _store(self, r: int, key: int, version: int) -> None:
        if r < len(self.stored) and version > self.stored[r].get(key, 0):
            self.stored[r][key] = version

    def _handed_off(self, item: tuple[int, int, int]) -> None:
        self._store(*item)

    def _note_side(self, key: int, side_bit: int, counted: bool) -> None:
        sides = self.sides_written.get(key, 0)
        if not sides & side_bit:
            self.sides_written[key] = sides | side_bit
            if sides and counted:  # the other side wrote this key during this partition
                self.conflicting_keys += 1

    def _heal(self) -> None:
        """Writes held back by the partition reach their replicas (hinted handoff)."""
        for r, held in enumerate(self.held):
            for key, version in held.items():
                self.kernel.schedule(self._delay(), self._handed_off, (r, key, version))
            held.clear()

    # -- reporting --------------------------------------------------------------------------
    def report(self, now: float):
        out = super().report(now)
        out.update(reads=self.reads, writes=self.writes, stale_reads=self.stale_reads,
                   stale_read_ratio=self.stale_reads / self.reads if self.reads else 0.0,
                   sloppy_writes=self.sloppy_writes, conflicting_keys=self.conflicting_keys,
                   held_writes=sum(len(held) for held in self.held))
        return out

    def live(self):
        out = super().live()
        out["partitioned"] = self.cut
        return out

    def counters(self, now: float):
        out = super().counters(now)
        out.update(reads=self.reads, stale=self.stale_reads)
        for i, counts in enumerate(self.side_counts):
            for name, n in zip(SIDE_COUNTS, counts, strict=True):
                out[f"{name}{i}"] = n
        return out

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        stale_read_ratio(old, new, out)
        if self.cut:  # while partitioned: per side, [requests/s, refused/s, stale-read ratio]
            sides: list[list[Any]] = []
            for i in (0, 1):
                d = [new[f"{name}{i}"] - old[f"{name}{i}"] for name in SIDE_COUNTS]
                sides.append([rate(d[0], span), rate(d[1], span),
                              round(d[3] / d[2], 4) if d[2] else None])
            out["sides"] = sides


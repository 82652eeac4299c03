"""Worker pools: the service, and the machinery databases and queue workers share.

A pool has `workers` servers. A job holds a worker for its own work; with `blocking` it
keeps holding it while the downstream calls run (calls are made one after another, in
the order the links are listed). Waiting jobs are served FIFO.
"""

from __future__ import annotations

from collections import deque

from ..distributions import service_sampler
from ..kernel import stream
from ..metrics import TimeAverage
from .base import OK, REJECTED, Component, Job


class Pool(Component):
    blocking = True

    def __init__(self, sim, cid, kind, settings):
        super().__init__(sim, cid, kind, settings)
        self._rng = stream(sim.seed, cid, "service")
        self.busy = 0
        self.slow = 1.0
        self.utilisation = TimeAverage(0.0, 0.0)
        self.served = 0  # counted jobs that started service
        self.wait_sum = 0.0
        self._configure()

    def _configure(self) -> None:
        s = self.settings
        self.workers = s["workers"]
        self.blocking = s.get("blocking", True)
        self._samplers = {op: service_sampler(s["service_dist"], self.mean_s(op),
                                              s.get("service_cv", 1.0), self._rng)
                          for op in ("read", "write")}

    def mean_s(self, op: str) -> float:
        return self.settings["service_ms"] / 1000.0

    def marks(self):
        return super().marks() + [self.utilisation]

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self._configure()
        self._track_busy()
        self.pull()

    def set_slow(self, factor: float) -> None:
        self.slow = factor

    # -- serving --------------------------------------------------------------------------
    def start(self, job: Job) -> None:
        self.busy += 1
        job.worker = True
        self._track_busy()
        now = self.kernel.now
        if job.counted:
            self.served += 1
            self.wait_sum += now - job.arrived
        self.kernel.schedule(self._samplers[job.req.op]() * self.slow, self.worked, job)

    def worked(self, job: Job) -> None:
        if not job.open:
            return
        if not self.blocking:
            self.release(job)
        self.call_next(job)

    def call_next(self, job: Job) -> None:
        links = self.routes[job.req.op]
        if job.step < len(links):
            link = links[job.step]
            job.step += 1
            link.send(job.req, job.resume)
        else:
            self.done(job)

    def resume(self, job: Job, outcome: int) -> None:
        if outcome == OK:
            self.call_next(job)
        else:
            self.end(job, outcome)

    def done(self, job: Job) -> None:
        """The job's work and calls are over."""
        self.end(job, OK)

    def end(self, job: Job, outcome: int) -> None:
        self.release(job)
        self.finish(job, outcome)

    def release(self, job: Job) -> None:
        if job.worker:
            job.worker = False
            self.busy -= 1
            self._track_busy()
            self.pull()

    def _track_busy(self) -> None:
        self.utilisation.update(self.kernel.now, min(self.busy, self.workers) / self.workers)

    def pull(self) -> None:
        """A worker is free: take waiting work."""

    def drop_state(self) -> None:
        for job in self.jobs:
            job.worker = False
        self.busy = 0
        self._track_busy()

    def report(self, now):
        out = super().report(now)
        out["utilisation"] = self.utilisation.mean(now)
        out["mean_wait_ms"] = self.wait_sum / self.served * 1000.0 if self.served else 0.0
        return out

    def live(self):
        out = super().live()
        out["util"] = min(self.busy, self.workers) / self.workers
        return out


class QueuedPool(Pool):
    """A pool with its own FIFO waiting line and optional `queue_limit`."""

    def __init__(self, sim, cid, kind, settings):
        self.waiting: deque[Job] = deque()
        self.queue_len = TimeAverage(0.0, 0.0)
        super().__init__(sim, cid, kind, settings)

    def marks(self):
        return super().marks() + [self.queue_len]

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        if self.busy < self.workers:
            self.start(job)
            return
        limit = self.settings["queue_limit"]
        if limit is not None and len(self.waiting) >= limit:
            self.jobs.discard(job)
            job.open = False
            self.refuse(job.counted, reply, REJECTED)
            return
        self.waiting.append(job)
        self.queue_len.update(self.kernel.now, len(self.waiting))

    def pull(self) -> None:
        waiting = self.waiting
        while waiting and self.busy < self.workers:
            job = waiting.popleft()
            self.queue_len.update(self.kernel.now, len(waiting))
            if job.open:
                self.start(job)

    def drop_state(self) -> None:
        super().drop_state()
        self.waiting.clear()
        self.queue_len.update(self.kernel.now, 0)

    def report(self, now):
        out = super().report(now)
        out["mean_queue"] = self.queue_len.mean(now)
        return out

    def live(self):
        out = super().live()
        out["queue"] = len(self.waiting)
        return out


class Service(QueuedPool):
    """Does its own work, then calls each outgoing link that carries the operation."""

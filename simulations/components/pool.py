"""Worker pools: the service, and the machinery databases and queue workers share.

A pool has `workers` servers. A job holds a worker for its own work; with `blocking` it
keeps holding it while the downstream calls run (calls are made one after another, in
the order the links are listed). Waiting jobs are served FIFO.
"""

from __future__ import annotations

from collections import deque
from heapq import heappush

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
        # Utilisation = worker-seconds busy / worker-seconds there were, both since warm-up.
        # Busy time is added when a worker is released: no bookkeeping per state change.
        self.busy_time = 0.0
        self.warm_t = 0.0
        self.served = 0  # counted jobs that started service
        self.wait_sum = 0.0
        self._live_served, self._live_wait = 0, 0.0  # as of the previous live frame
        self._configure()
        self.capacity = TimeAverage(0.0, self.workers)

    def _configure(self) -> None:
        s = self.settings
        self.workers = s["workers"]
        self.blocking = s.get("blocking", True)
        self._samplers = {op: service_sampler(s["service_dist"], self.mean_s(op),
                                              s.get("service_cv", 1.0), self._rng)
                          for op in ("read", "write")}

    def mean_s(self, op: str) -> float:
        return self.settings["service_ms"] / 1000.0

    def warm(self, now):
        super().warm(now)
        self.warm_t = now
        self.busy_time = 0.0
        self.capacity.mark(now)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self._configure()
        self.capacity.update(self.kernel.now, self.workers)
        self.pull()

    def set_slow(self, factor: float) -> None:
        self.slow = factor

    # -- serving --------------------------------------------------------------------------
    def start(self, job: Job) -> None:
        self.busy += 1
        job.worker = True
        kernel = self.kernel
        now = job.started = kernel.now
        if job.counted:
            self.served += 1
            self.wait_sum += now - job.arrived
        # The hottest line of a run: Kernel.schedule inlined.
        heappush(kernel.heap, (now + self._samplers[job.req.op]() * self.slow,
                               next(kernel.seq), self.worked, job))

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
            link.send(job.req, job)
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
            self._free(job)
            self.pull()

    def _free(self, job: Job) -> None:
        job.worker = False
        self.busy -= 1
        started = job.started
        self.busy_time += self.kernel.now - (started if started > self.warm_t else self.warm_t)

    def pull(self) -> None:
        """A worker is free: take waiting work."""

    def drop_state(self) -> None:
        for job in self.jobs:
            if job.worker:
                self._free(job)

    def utilisation(self, now: float) -> float:
        warm = self.warm_t
        busy = self.busy_time + sum(now - (j.started if j.started > warm else warm)
                                    for j in self.jobs if j.worker)
        available = self.capacity.integral(now)
        return min(busy / available, 1.0) if available > 0 else 0.0

    def report(self, now):
        out = super().report(now)
        out["utilisation"] = self.utilisation(now)
        out["mean_wait_ms"] = self.wait_sum / self.served * 1000.0 if self.served else 0.0
        return out

    def load(self) -> float:
        """Busy and waiting work per worker: above 1, work piles up."""
        return self.busy / self.workers

    def live(self):
        out = super().live()
        out["util"] = round(min(self.busy, self.workers) / self.workers, 4)
        # Mean wait of what started service since the previous frame (after warm-up).
        served, waited = self.served - self._live_served, self.wait_sum - self._live_wait
        self._live_served, self._live_wait = self.served, self.wait_sum
        if served:
            out["wait_ms"] = round(waited / served * 1000.0, 3)
        return out


class QueuedPool(Pool):
    """A pool with its own FIFO waiting line and optional `queue_limit`."""

    def __init__(self, sim, cid, kind, settings):
        self.waiting: deque[Job] = deque()
        self.queue_len = TimeAverage(0.0, 0.0)
        super().__init__(sim, cid, kind, settings)

    def warm(self, now):
        super().warm(now)
        self.queue_len.mark(now)

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        if self.busy < self.workers:
            self.start(job)
            return
        limit = self.settings["queue_limit"]
        if limit is not None and len(self.waiting) >= limit:
            self.jobs.pop(job, None)
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

    def load(self) -> float:
        return (self.busy + len(self.waiting)) / self.workers

    def live(self):
        out = super().live()
        out["queue"] = len(self.waiting)
        return out


class Service(QueuedPool):
    """Does its own work, then calls each outgoing link that carries the operation."""

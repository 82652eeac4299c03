"""Worker pools: the service, and the machinery databases and queue workers share.

A pool has `workers` servers. A job holds a worker for its own work; with `blocking` it
keeps holding it while the downstream calls run (calls are made one after another, in
the order the links are listed). Waiting jobs are served FIFO. A service may make its calls
with timeouts, retries and breakers (`calls`, resilience.py); with none, a call is a plain
`link.send` whose carrier is the job itself.
"""

from __future__ import annotations

from collections import deque

from .._mypyc import mypyc_attr
from ..distributions import service_sampler
from ..kernel import heappush, next_number, stream
from ..metrics import TimeAverage
from ..registry import runs_as_group, size_of
from .base import OK, REJECTED, Component, Job
from .fleet import Fleet
from .resilience import Call, Calls, wanted


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Pool(Component):
    blocking = True
    calls: Calls | None = None
    fleet: Fleet | None = None  # a service run as a group of instances (fleet.py)

    def __init__(self, sim, cid, kind, settings) -> None:
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
        self._on_worked = self.worked  # bound once: compiled, binding costs per job
        self._configure()
        self.capacity = TimeAverage(0.0, self.workers)

    def _configure(self) -> None:
        s = self.settings
        if self.fleet is None:  # a group's workers are its instances' (fleet.py)
            self.workers: int = size_of(s)[0]  # a database's size (others' run as groups)
        self.blocking = s.get("blocking", True)
        # By route key: a request class may have its own mean (a service's class_ms).
        means = {op: self.mean_s(op) for op in ("read", "write")}
        own = s.get("class_ms") or {}
        for key, op in self.sim.class_ops.items():
            name = key.partition(" ")[2]
            means[key] = own[name] / 1000.0 if name in own else means[op]
        self._samplers = {key: service_sampler(s["service_dist"], mean, s.get("service_cv", 1.0),
                                               self._rng) for key, mean in means.items()}

    def mean_s(self, op: str) -> float:
        return self.settings["service_ms"] / 1000.0

    def warm(self, now: float):
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
        duration = self._samplers[job.req.cls]() * self.slow
        if self.fleet is not None:
            duration = self.fleet.started(job, duration)
        # The hottest line of a run: Kernel.schedule inlined.
        heappush(kernel.heap, (now + duration, next_number(kernel.seq), self._on_worked, job))

    def worked(self, job: Job) -> None:
        if not job.open:
            return
        if not self.blocking:
            self.release(job)
        self.call_next(job)

    def call_next(self, job: Job) -> None:
        links = self.routes[job.req.cls]
        if job.step < len(links):
            link = links[job.step]
            job.step += 1
            if self.calls is None:
                link.send(job.req, job)
            else:
                self.calls.send((link,), job.req, job)
        else:
            self.done(job)

    def resume(self, job: Job, outcome: int) -> None:
        if outcome == OK:
            self.call_next(job)
        else:
            self.end(job, outcome)

    def end(self, job: Job, outcome: int = OK) -> None:
        if job.worker:
            self.release(job)
        self.finish(job, outcome)

    def done(self, job: Job, outcome: int = OK) -> None:
        """The job's work and calls are over: it ends OK. `end` repeated, not called (one
        call less on the hot path; not `done = end` either, which mypyc cannot compile)."""
        if job.worker:
            self.release(job)
        self.finish(job, outcome)

    def release(self, job: Job, take_next: bool = True) -> None:
        """Free the job's worker, if it holds one, and let it take waiting work."""
        if job.worker:
            job.worker = False
            self.busy -= 1
            started, warm = job.started, self.warm_t
            self.busy_time += self.kernel.now - (started if started > warm else warm)
            if self.fleet is not None:
                self.fleet.released(job, take_next)
            elif take_next:
                self.pull()

    def pull(self) -> None:
        """A worker is free: take waiting work."""

    def drop_state(self) -> None:
        for job in self.jobs:
            self.release(job, take_next=False)

    def busy_seconds(self, now: float) -> float:
        """Worker-seconds busy since warm-up, the jobs still in service included."""
        warm = self.warm_t
        return self.busy_time + sum(now - (j.started if j.started > warm else warm)
                                    for j in self.jobs if j.worker)

    def utilisation(self, now: float) -> float:
        available = self.capacity.integral(now)
        return min(self.busy_seconds(now) / available, 1.0) if available > 0 else 0.0

    def report(self, now: float):
        out = super().report(now)
        out["utilisation"] = self.utilisation(now)
        out["mean_wait_ms"] = self.wait_sum / self.served * 1000.0 if self.served else 0.0
        return out

    def counters(self, now: float):
        out = super().counters(now)
        out.update(busy=self.busy_seconds(now), served=self.served, wait=self.wait_sum)
        return out

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        # Utilisation averaged over the window: steadier than the busy count now. (Busy
        # time restarts at warm-up: a window across it counts from there.)
        # (A group of instances all booting has no workers.)
        if span > 0 and self.workers:
            busy = max(new["busy"] - old["busy"], 0.0)
            out["util"] = round(min(busy / (span * self.workers), 1.0), 4)
        else:
            out["util"] = round(min(self.busy, self.workers) / self.workers, 4) \
                if self.workers else 0.0
        # Mean wait of what started service in the window (after warm-up).
        served = new["served"] - old["served"]
        if served:
            out["wait_ms"] = round((new["wait"] - old["wait"]) / served * 1000.0, 3)


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class QueuedPool(Pool):
    """A pool with its own FIFO waiting line and optional `queue_limit`."""

    holds = True  # a request waits for a worker and its service time, even of 0

    def __init__(self, sim, cid, kind, settings) -> None:
        self.waiting: deque[Job] = deque()
        self.queue_len = TimeAverage(0.0, 0.0)
        super().__init__(sim, cid, kind, settings)

    def warm(self, now: float):
        super().warm(now)
        self.queue_len.mark(now)

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        if self.fleet is not None:
            self.fleet.arrived(job)
        elif self.busy < self.workers:  # enter()'s first case, inlined (the hot path)
            self.start(job)
        else:
            self.enter(job)

    def enter(self, job: Job) -> None:
        """Serve the job now, or queue it, or reject it when the queue is full."""
        if self.busy < self.workers:
            self.start(job)
            return
        limit = self.settings["queue_limit"]
        if limit is not None and len(self.waiting) >= limit:
            self.turn_away(job, REJECTED)
            return
        self.waiting.append(job)
        self.queue_len.update(self.kernel.now, len(self.waiting))

    def pull(self) -> None:
        if self.fleet is not None:
            self.fleet.pull_all()
            return
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

    def report(self, now: float):
        out = super().report(now)
        out["mean_queue"] = self.queue_len.mean(now)
        return out

    def live(self):
        out = super().live()
        out["queue"] = len(self.waiting)
        return out


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Service(QueuedPool):
    """Does its own work, then calls each outgoing link that carries the operation."""

    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        if wanted(self.settings):
            self.calls = Calls(self)
        if runs_as_group(self.settings):
            self.fleet = Fleet(self, starting=True)

    def wire(self) -> None:
        super().wire()
        if self.fleet is not None:
            self.fleet.wired()

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if self.calls is not None:
            self.calls.update(changes)
        elif wanted(self.settings):
            self.calls = Calls(self)
        if self.fleet is not None:
            self.fleet.reconfigure(changes)
        elif runs_as_group(self.settings):
            self.fleet = Fleet(self, starting=False)

    def warm(self, now: float):
        super().warm(now)
        if self.calls is not None:
            self.calls.warm(now)
        if self.fleet is not None:
            self.fleet.warm(now)

    def drop_state(self) -> None:
        super().drop_state()
        if self.calls is not None:
            self.calls.reset_breakers()
        if self.fleet is not None:
            self.fleet.drop_all()

    def fail_instance(self, number: int) -> None:
        """One instance fails (a plain service is its one instance: all of it fails)."""
        if self.fleet is None:
            self.fail()
        elif self.up:
            self.fleet.fail_instance(number)

    def cost_now(self) -> float:
        return self.fleet.cost_now() if self.fleet is not None else super().cost_now()

    # The downstream calls' ends, for `calls`.
    def settled(self, job: Job, outcome: int) -> None:
        if job.open:
            self.resume(job, outcome)

    def retry(self, call: Call) -> None:
        job = call.subject
        if job.open:
            self.calls.send((call.link,), job.req, job, call.n + 1)  # type: ignore[union-attr]

    def report(self, now: float):
        out = super().report(now)
        if self.calls is not None:
            out.update(self.calls.report(now))
        if self.fleet is not None:
            out.update(self.fleet.report(now))
        return out

    def live(self):
        out = super().live()
        if self.calls is not None:
            out.update(self.calls.live())
        if self.fleet is not None:
            out["queue"] = self.fleet.waiting_n
            out["instances"] = self.fleet.live()
            self.fleet.live_sessions(out)
        return out

    def counters(self, now: float):
        out = super().counters(now)
        if self.fleet is not None:
            self.fleet.counters(out)
        return out if self.calls is None else self.calls.counters(out)

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        if self.calls is not None and "retried" in new:
            self.calls.windowed(old, new, span, out)
        if self.fleet is not None and "instances" in out:
            self.fleet.windowed(old, new, span, out["instances"])


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Consumers(Pool):
    """A pool fed by sources (messaging.Worker) that may run as a group of instances: made
    when it is wired (its sources are known then) or when a `set` makes it one."""

    def wire(self) -> None:
        super().wire()
        if runs_as_group(self.settings):
            self.fleet = Fleet(self, starting=True, consumer=True)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if self.fleet is not None:
            self.fleet.reconfigure(changes)
        elif runs_as_group(self.settings):
            self.fleet = Fleet(self, starting=False, consumer=True)

    def warm(self, now: float):
        super().warm(now)
        if self.fleet is not None:
            self.fleet.warm(now)

    def drop_state(self) -> None:
        super().drop_state()
        if self.fleet is not None:
            self.fleet.drop_all()

    def cost_now(self) -> float:
        return self.fleet.cost_now() if self.fleet is not None else super().cost_now()

    def report(self, now: float):
        out = super().report(now)
        if self.fleet is not None:
            out.update(self.fleet.report(now))
        return out

    def live(self):
        out = super().live()
        if self.fleet is not None:
            out["instances"] = self.fleet.live()
        return out

    def counters(self, now: float):
        out = super().counters(now)
        if self.fleet is not None:
            self.fleet.counters(out)
        return out

    def windowed(self, old, new, span: float, out):
        super().windowed(old, new, span, out)
        if self.fleet is not None and "instances" in out:
            self.fleet.windowed(old, new, span, out["instances"])

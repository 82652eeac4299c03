"""Load balancers: six algorithms over the targets they health-check."""

from __future__ import annotations

from .._mypyc import mypyc_attr
from ..distributions import key_bucket
from ..kernel import stream
from .base import DOWN, Component, Job


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class LoadBalancer(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self._rng = stream(sim.seed, cid, "balance")
        self._rr = 0

    def wire(self) -> None:
        super().wire()
        self.in_rotation = [True] * len(self.out)
        self.outstanding = [0] * len(self.out)
        self.current = [0.0] * len(self.out)  # smooth weighted round robin state
        self.per_target = [0] * len(self.out)
        # route key -> indexes of the targets in rotation that carry it, in order: built once
        # per key and health change, not per request (a balancer may have hundreds of targets)
        self._healthy: dict[str, list[int]] = {}
        for link in self.out:
            link.target.watchers.append(self)
        self._pickers = {
            "round_robin": self._round_robin, "random": self._random,
            "least_connections": self._least_connections, "weighted": self._weighted,
            "ip_hash": self._ip_hash, "power_of_two": self._power_of_two}

    def target_changed(self, target: Component) -> None:
        """A target went down or came back: the health check notices within its period."""
        delay = self.settings["health_check_s"]
        for i, link in enumerate(self.out):
            if link.target is target:
                if delay:
                    self.kernel.schedule(delay, self._check, i)
                else:
                    self._check(i)

    def _check(self, i: int) -> None:
        up = self.out[i].target.up
        if self.in_rotation[i] != up:
            self.in_rotation[i] = up
            self._healthy.clear()

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        overhead = self.settings["overhead_ms"]
        if overhead:
            self.kernel.schedule(overhead / 1000.0, self._route, job)
        else:
            self._route(job)

    def _route(self, job: Job) -> None:
        if not job.open:
            return
        key = job.req.cls
        healthy = self._healthy.get(key)
        if healthy is None:
            healthy = self._healthy[key] = [i for i, link in enumerate(self.out)
                                            if self.in_rotation[i] and link.carries(key)]
        if not healthy:
            self.finish(job, DOWN)
            return
        i = self._pickers[self.settings["algorithm"]](healthy, job)
        job.step = i
        self.outstanding[i] += 1
        if job.counted:
            self.per_target[i] += 1
        self.out[i].send(job.req, job)

    def resume(self, job: Job, outcome: int) -> None:
        self.outstanding[job.step] -= 1
        self.finish(job, outcome)

    def drop_state(self) -> None:
        for job in self.jobs:
            self.outstanding[job.step] = max(0, self.outstanding[job.step] - 1)

    # -- algorithms: each picks one index of `healthy` ------------------------------------
    def _round_robin(self, healthy, job):
        self._rr += 1
        return healthy[self._rr % len(healthy)]

    def _random(self, healthy, job):
        return healthy[int(self._rng.random() * len(healthy))]

    def _least_connections(self, healthy, job):
        fewest = min(self.outstanding[i] for i in healthy)
        tied = [i for i in healthy if self.outstanding[i] == fewest]
        return tied[0] if len(tied) == 1 else tied[int(self._rng.random() * len(tied))]

    def _weighted(self, healthy, job):
        """Smooth weighted round robin (as nginx): even spacing, exact shares."""
        total = 0.0
        best = healthy[0]
        for i in healthy:
            self.current[i] += self.out[i].weight
            total += self.out[i].weight
            if self.current[i] > self.current[best]:
                best = i
        self.current[best] -= total
        return best

    def _ip_hash(self, healthy, job):
        """The key stands for the caller's address: one key always lands on one target."""
        return healthy[key_bucket(job.req.key, len(healthy))]

    def _power_of_two(self, healthy, job):
        if len(healthy) == 1:
            return healthy[0]
        a, b = self._rng.sample(healthy, 2)
        return a if self.outstanding[a] <= self.outstanding[b] else b

    def report(self, now: float):
        out = super().report(now)
        out["per_target"] = {link.target.id: n for link, n in
                             zip(self.out, self.per_target, strict=True)}
        return out

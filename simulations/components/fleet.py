"""A service run as a group of instances: sizes, dispatch, autoscaling and sessions.

A service whose `size`, `instances`, `autoscale` or `sessions` leave their defaults (or are
`set` away from them) gets a `Fleet`; until then it is one pool, exactly as before. A worker
pool (messaging.Worker) likewise, with `consumer`: it has no queue of its own and no
sessions; each message it takes runs on a serving instance with a free worker. The
service still admits and answers every request (its counters, latency and report are the
group's); the fleet picks the instance a request runs on, and each instance has its own
workers, speed and FIFO queue (`queue_limit` applies per instance).

Dispatch: among the serving instances, with the algorithm of the first load balancer in
front (round robin when none), keyed by the request's key (the user): behind `ip_hash` a
user sticks to one instance while the group keeps its size. Instances are booting (paid,
not serving: `boot_s`, plus the health check of a balancer in front), serving, or draining
(no new work; it leaves when idle, or at `drain_s`, failing what it still holds). A failed
instance loses its work and its sessions and the group boots a replacement.

docs/engine.md describes the model; scenario.py validates the parameters.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Protocol, cast

from .._mypyc import mypyc_attr
from ..distributions import key_bucket
from ..kernel import stream
from ..metrics import TimeAverage
from ..registry import instance_cost, size_of
from .base import DOWN, FAILED, REJECTED, Component, Job, Link, Request


class Group(Protocol):
    """What a fleet needs of its pool: a service or a worker pool (pool.py, messaging.py)."""

    sim: Any
    kernel: Any
    id: str
    settings: dict[str, Any]
    warmup: float
    warm_t: float
    out: list[Link]
    routes: dict[str, list[Link]]
    jobs: dict[Job, None]
    watchers: list[Component]
    busy: int
    workers: int
    total_in: int
    capacity: TimeAverage
    cost: TimeAverage

    def start(self, job: Job) -> None: ...

    def pull(self) -> None: ...

    def release(self, job: Job, take_next: bool = True) -> None: ...

    def finish(self, job: Job, outcome: int) -> None: ...

    def turn_away(self, job: Job, outcome: int) -> None: ...


class QueuedGroup(Group, Protocol):
    """A service: its own FIFO waiting line, which the fleet splits over its instances."""

    waiting: deque[Job]
    queue_len: TimeAverage


class Source(Protocol):
    """A consumer's source (messaging.Source): the messages waiting for the consumer."""

    def waited(self, worker: Any) -> float: ...


class Consumer(Group, Protocol):
    """A worker pool: it pulls messages from its sources."""

    sources: list[Any]


BOOTING = "booting"
SERVING = "serving"
DRAINING = "draining"
SESSION_STORES = ("cache", "kv_store")  # as scenario.SESSION_STORES (not imported: Django-free)
EPSILON = 1e-9  # a desired count of 3.0000000001 instances is 3


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Instance:
    """One copy of the service: its workers, queue, state and the sessions it holds."""

    def __init__(self, number: int, workers: int, speed: float, now: float, state: str):
        self.number = number
        self.workers = workers
        self.speed = speed
        self.state = state
        self.born = now
        self.ready = now if state == SERVING else math.inf  # when it began to serve
        self.first_start = math.inf  # when it first started a job
        self.busy = 0
        self.waiting: deque[Job] = deque()
        self.busy_abs = 0.0  # worker-seconds busy since it was born
        self.busy_time = 0.0  # ... since warm-up
        self.capacity = TimeAverage(now, workers if state == SERVING else 0)
        self.served = 0  # counted jobs it started
        self.users: set[int] = set()  # users whose local session it holds
        self.gone = False

    def serves(self) -> bool:
        return self.state != BOOTING

    def idle(self) -> bool:
        return self.busy == 0 and not any(job.open for job in self.waiting)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class SessionRead:
    """A request's read of its user's shared session; the request goes on when it answers."""

    __slots__ = ("fleet", "job", "link")
    link: Link  # set by Link.send

    def __init__(self, fleet: Fleet, job: Job):
        self.fleet = fleet
        self.job = job

    def answer(self, outcome: int) -> None:
        outcome = self.link.returned(outcome)
        job = self.job
        if not job.open:
            return
        if outcome:
            self.fleet.pool.finish(job, outcome)
        else:
            self.fleet.place(job)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Fleet:
    def __init__(self, pool: Group, starting: bool, consumer: bool = False):
        """`starting`: the run begins, and the instances the design asks for serve at once
        (else a live `set` made the service a group: the new ones boot). `consumer`: a
        worker pool, pulling from its sources (no queue of its own)."""
        self.pool = pool
        self.consumer = consumer
        self.kernel = pool.kernel
        now = self.kernel.now
        self._rng = stream(pool.sim.seed, pool.id, "instances")
        self.instances: list[Instance] = []  # booting, serving and draining, oldest first
        self.serving: list[Instance] = []  # those that take new work, oldest first
        self.placed: dict[Job, Instance] = {}  # where each job runs (finished ones pruned)
        self.numbered = 0
        self._rr = 0
        self.busy_total = 0.0  # worker-seconds busy since the start, for the autoscaler
        self.waiting_n = 0
        self.queue = TimeAverage(0.0, 0.0)  # requests waiting, since the start
        self.count = TimeAverage(0.0, 0.0)  # instances billed (report: mean instances)
        self.relogging: set[Job] = set()  # jobs that pay a re-login's work
        self.session_at: dict[int, Instance] = {}
        self.known: set[int] = set()  # users who have logged in
        self.store: Link | None = None  # shared sessions: the link to the session store
        # Counted after warm-up.
        self.logins = self.relogins = self.returning = self.sessions_lost = 0
        self.scale_outs = self.scale_ins = self.instance_failures = 0
        self.peak = self.low = 0
        self.last_out = self.last_in = -math.inf
        self.epoch = 0  # autoscaler ticks of an older policy are ignored
        self._last_t = now
        self._last_busy = self._last_queue = 0.0
        self._last_in = 0
        # The pool's state so far becomes its first instance (a live `set` made it a group).
        first = self._new_instance(SERVING)
        first.busy = pool.busy
        if not consumer:
            queued = cast(QueuedGroup, pool)
            first.waiting = queued.waiting
            queued.waiting = deque()
            self.waiting_n = len(first.waiting)
            self.queue.update(now, self.waiting_n)
        for job in pool.jobs:
            self.placed[job] = first
        if starting:
            for _ in range(pool.settings["instances"] - 1):
                self._new_instance(SERVING)
        self.reconfigure(pool.settings)

    # -- the group ------------------------------------------------------------------------
    def _new_instance(self, state: str) -> Instance:
        workers, speed, _ = size_of(self.pool.settings)
        inst = Instance(self.numbered, workers, speed, self.kernel.now, state)
        self.numbered += 1
        self.instances.append(inst)
        if state == SERVING:
            self.serving.append(inst)
        return inst

    def present(self) -> int:
        """Instances counted against min and max: booting and serving (not draining)."""
        return sum(1 for inst in self.instances if inst.state != DRAINING)

    def reconfigure(self, changes: dict[str, Any]) -> None:
        """Apply the service's settings: size, count, policy, sessions."""
        s = self.pool.settings
        workers, speed, _ = size_of(s)
        for inst in self.instances:
            if inst.workers != workers and inst.serves():
                inst.capacity.update(self.kernel.now, workers)
            inst.workers, inst.speed = workers, speed
        if "instances" in changes and self.present() != s["instances"]:
            self.resize(s["instances"])
        self._sessions_changed(s.get("sessions", "none"))
        if s["autoscale"] != "none" and (self.epoch == 0 or {
                "autoscale", "scale_period_s"} & set(changes)):
            self.epoch += 1
            self._last_t, self._last_in = self.kernel.now, self.pool.total_in
            self._last_busy, self._last_queue = self.busy_abs(), self.queue_abs()
            self.kernel.schedule(s["scale_period_s"], self.evaluate, self.epoch)
        self.group_changed()
        self.pull_all()

    def wired(self) -> None:
        """The service's links exist (a group made with the service is made before them)."""
        self.store = None
        self._sessions_changed(self.pool.settings.get("sessions", "none"))

    def _sessions_changed(self, mode: str) -> None:
        pool = self.pool
        store = next((link for link in pool.out if link.target.kind in SESSION_STORES),
                     None) if mode == "shared" else None
        if mode != "local" and self.session_at:
            self.session_at.clear()
            for inst in self.instances:
                inst.users.clear()
        if store is not self.store:
            self.store = store
            pool.routes = {key: [link for link in pool.out if link.carries(key)
                                 and link is not store]
                           for key in ("read", "write", *pool.sim.class_ops)}

    def group_changed(self) -> None:
        """The instances changed: capacity, cost and the count follow."""
        now = self.kernel.now
        pool = self.pool
        if self.consumer:
            # A source hands a message while busy < workers: count a draining instance's
            # busy workers only, so that holds exactly when a serving one has a free worker.
            pool.workers = sum(inst.workers if inst.state == SERVING else inst.busy
                               for inst in self.instances)
        else:
            pool.workers = sum(inst.workers for inst in self.instances if inst.serves())
        pool.capacity.update(now, pool.workers)
        n = len(self.instances)
        pool.cost.update(now, instance_cost(pool.settings) * n)
        self.count.update(now, n)
        present = self.present()
        if now >= pool.warmup:
            self.peak = max(self.peak, present)
            self.low = min(self.low, present) if self.low else present

    def cost_now(self) -> float:
        return instance_cost(self.pool.settings) * len(self.instances)

    def resize(self, n: int) -> None:
        """Boot or drain instances until n are booting or serving."""
        have = self.present()
        for _ in range(n - have):
            self.boot()
        for _ in range(have - n):
            self.drain_one()
        self.group_changed()

    def boot(self) -> None:
        inst = self._new_instance(BOOTING)
        balancer = self._balancer()
        delay = self.pool.settings["boot_s"] + (
            balancer.settings["health_check_s"] if balancer is not None else 0.0)
        self.kernel.schedule(delay, self.booted, inst)

    def _balancer(self) -> Component | None:
        """The first load balancer in front of the group: its health check and algorithm
        apply to the instances. Shard routers and topics watch their targets too."""
        for watcher in self.pool.watchers:
            if watcher.kind == "load_balancer":
                return watcher
        return None

    def booted(self, inst: Instance) -> None:
        if inst.gone:
            return
        inst.state = SERVING
        inst.ready = now = self.kernel.now
        inst.capacity.update(now, inst.workers)
        self.serving.append(inst)
        self.group_changed()
        if self.consumer:
            self.pool.pull()

    def drain_one(self) -> None:
        """Scale in by one: a booting instance is dropped, else the newest serving drains."""
        booting = [inst for inst in self.instances if inst.state == BOOTING]
        if booting:
            self.leave(booting[-1])
            return
        if not self.serving:
            return
        inst = self.serving.pop()
        inst.state = DRAINING
        if inst.idle():
            self.leave(inst)
        else:
            self.kernel.schedule(self.pool.settings["drain_s"], self.drain_deadline, inst)

    def drain_deadline(self, inst: Instance) -> None:
        if not inst.gone:
            self.fail_held(inst, FAILED)
            self.leave(inst)

    def leave(self, inst: Instance) -> None:
        """The instance is gone, with the sessions it held."""
        inst.gone = True
        inst.capacity.update(self.kernel.now, 0)
        self.instances.remove(inst)
        if inst in self.serving:
            self.serving.remove(inst)
        self._lose_sessions(inst)
        if not self.consumer:
            self._set_waiting(self.waiting_n - len(inst.waiting))
            inst.waiting.clear()
        self.group_changed()

    def _lose_sessions(self, inst: Instance) -> None:
        if self.kernel.now >= self.pool.warmup:
            self.sessions_lost += len(inst.users)
        for user in inst.users:
            del self.session_at[user]
        inst.users.clear()

    def fail_held(self, inst: Instance, outcome: int) -> None:
        """Fail every job the instance holds (in service, waiting, or in its calls)."""
        pool = self.pool
        for job in [job for job in pool.jobs if self.placed.get(job) is inst]:
            self.relogging.discard(job)
            pool.release(job, take_next=False)
            pool.finish(job, outcome)

    def fail_instance(self, number: int) -> None:
        """One instance fails: its work and sessions are lost; a replacement boots."""
        inst = next((i for i in self.instances if i.number == number), None)
        if inst is None:
            return
        if self.kernel.now >= self.pool.warmup:
            self.instance_failures += 1
        replace = inst.state != DRAINING
        self.fail_held(inst, DOWN)
        self.leave(inst)
        if replace:
            self.boot()
            self.group_changed()

    def drop_all(self) -> None:
        """The whole service failed: queues and sessions are lost (its jobs fail)."""
        for inst in self.instances:
            inst.busy = 0
            inst.waiting.clear()
            self._lose_sessions(inst)
        if not self.consumer:
            self._set_waiting(0)
        self.relogging.clear()

    # -- requests -------------------------------------------------------------------------
    def arrived(self, job: Job) -> None:
        store = self.store
        if store is None:
            self.place(job)
            return
        req = job.req
        store.send(Request("read", req.key, req.born, job.counted, 0), SessionRead(self, job))

    def place(self, job: Job) -> None:
        """Put an admitted job on a serving instance: serve it, queue it or turn it away."""
        inst = self.pick(job)
        pool = self.pool
        if inst is None:
            pool.finish(job, DOWN)
            return
        placed = self.placed
        if len(placed) > 2 * len(pool.jobs) + 1024:  # forget finished jobs, now and then
            self.placed = placed = {j: i for j, i in placed.items() if j.open}
        placed[job] = inst
        if pool.settings["sessions"] == "local" and not self._session(job, inst):
            return
        if inst.busy < inst.workers:
            pool.start(job)
            return
        limit = pool.settings["queue_limit"]
        if limit is not None and len(inst.waiting) >= limit:
            pool.turn_away(job, REJECTED)
            return
        inst.waiting.append(job)
        self._set_waiting(self.waiting_n + 1)

    def _session(self, job: Job, inst: Instance) -> bool:
        """Local sessions: log the user in on this instance if its session is elsewhere or
        was lost. Returns whether the request goes on (a re-login may fail it)."""
        user = job.req.key
        held = self.session_at.get(user)
        if held is inst:
            if job.counted:
                self.returning += 1
            return True
        returning = held is not None or user in self.known
        if held is not None:
            held.users.discard(user)
        inst.users.add(user)
        self.session_at[user] = inst
        if not returning:
            self.known.add(user)
            if job.counted:
                self.logins += 1
            return True
        if job.counted:
            self.returning += 1
            self.relogins += 1
        if self.pool.settings["relogin"] == "fail":
            self.pool.finish(job, FAILED)
            return False
        self.relogging.add(job)
        return True

    def pick(self, job: Job) -> Instance | None:
        serving = self.serving
        n = len(serving)
        if n <= 1:
            return serving[0] if n else None
        balancer = self._balancer()
        algorithm = balancer.settings["algorithm"] if balancer is not None else "round_robin"
        if algorithm == "ip_hash":
            return serving[key_bucket(job.req.key, n)]
        if algorithm == "random":
            return serving[int(self._rng.random() * n)]
        if algorithm == "least_connections":
            return min(serving, key=load)
        if algorithm == "power_of_two":
            a, b = self._rng.sample(serving, 2)
            return a if load(a) <= load(b) else b
        self._rr += 1  # round_robin, and weighted (instances weigh the same)
        return serving[self._rr % n]

    def started(self, job: Job, duration: float) -> float:
        """A job got a worker of its instance: its service time there."""
        inst = self.placed.get(job)
        if inst is None:  # a consumer's message: the next serving instance with a free worker
            inst = self.free_instance()
            placed = self.placed
            if len(placed) > 2 * len(self.pool.jobs) + 1024:  # forget finished jobs
                self.placed = placed = {j: i for j, i in placed.items() if j.open}
            placed[job] = inst
        inst.busy += 1
        if inst.first_start > job.started:
            inst.first_start = job.started
        if job.counted:
            inst.served += 1
        extra = 0.0
        if self.relogging and job in self.relogging:
            self.relogging.discard(job)
            extra = self.pool.settings["relogin_ms"] / 1000.0
        return duration / inst.speed + extra

    def released(self, job: Job, take_next: bool) -> None:
        inst = self.placed[job]
        inst.busy -= 1
        now = self.kernel.now
        started = job.started
        self.busy_total += now - started
        inst.busy_abs += now - started
        warm = self.pool.warm_t
        inst.busy_time += now - (started if started > warm else warm)
        if self.consumer:
            if inst.state == DRAINING:
                if inst.idle():
                    self.leave(inst)
                else:
                    self.group_changed()
            if take_next:
                self.pool.pull()
        elif take_next:
            self.pull(inst)
            if inst.state == DRAINING and inst.idle():
                self.leave(inst)

    def free_instance(self) -> Instance:
        """A consumer: the serving instances take messages in turn, each while it has a
        free worker (a source hands one only then: group_changed)."""
        serving = self.serving
        n = len(serving)
        for k in range(1, n + 1):
            inst = serving[(self._rr + k) % n]
            if inst.busy < inst.workers:
                self._rr = (self._rr + k) % n
                return inst
        raise RuntimeError(f"{self.pool.id}: a message came with no free worker")

    def pull(self, inst: Instance) -> None:
        waiting = inst.waiting
        pool = self.pool
        while waiting and inst.busy < inst.workers:
            job = waiting.popleft()
            self._set_waiting(self.waiting_n - 1)
            if job.open:
                pool.start(job)

    def pull_all(self) -> None:
        if self.consumer:
            self.pool.pull()
            return
        for inst in list(self.instances):
            if inst.serves():
                self.pull(inst)

    def _set_waiting(self, n: int) -> None:
        now = self.kernel.now
        self.waiting_n = n
        self.queue.update(now, n)
        cast(QueuedGroup, self.pool).queue_len.update(now, n)

    # -- autoscaling ----------------------------------------------------------------------
    def busy_abs(self) -> float:
        now = self.kernel.now
        return self.busy_total + sum(now - job.started for job in self.pool.jobs if job.worker)

    def queue_abs(self) -> float:
        """Request-seconds waiting (a consumer: in its sources; since warm-up, then)."""
        if self.consumer:
            pool = cast(Consumer, self.pool)
            return sum((cast(Source, source).waited(pool) for source in pool.sources), 0.0)
        return self.queue.integral(self.kernel.now)

    def evaluate(self, epoch: int) -> None:
        """Target tracking: the count that brings the tracked figure per instance to the
        target, over the last period; within min and max; cooldowns respected."""
        s = self.pool.settings
        if epoch != self.epoch or s["autoscale"] == "none":
            return
        now = self.kernel.now
        span = now - self._last_t
        busy, queue, arrived = self.busy_abs(), self.queue_abs(), self.pool.total_in
        if span > 0:
            metric = s["autoscale"]
            target = s["scale_target"]
            if metric == "utilisation":
                needed = (busy - self._last_busy) / span / (size_of(s)[0] * target)
            elif metric == "rps":
                needed = (arrived - self._last_in) / span / target
            elif self.consumer:  # its backlog: waiting in its sources and in process
                warm = self.pool.warm_t  # the sources' figures restart at warm-up: since then
                if self._last_t < warm:
                    waiting = queue / (now - warm) if now > warm else 0.0
                else:
                    waiting = (queue - self._last_queue) / span
                needed = (waiting + (busy - self._last_busy) / span) / target
            else:
                needed = (queue - self._last_queue) / span / target
            self.scale_to(max(s["min_instances"], min(s["max_instances"],
                                                      math.ceil(needed - EPSILON))))
        self._last_t, self._last_busy, self._last_queue, self._last_in = \
            now, busy, queue, arrived
        self.kernel.schedule(s["scale_period_s"], self.evaluate, epoch)

    def scale_to(self, desired: int) -> None:
        s = self.pool.settings
        now = self.kernel.now
        have = self.present()
        counted = now >= self.pool.warmup
        if desired > have and now - self.last_out >= s["scale_out_cooldown_s"]:
            self.last_out = now
            if counted:
                self.scale_outs += 1
            self.resize(desired)
        elif desired < have and now - max(self.last_out, self.last_in) >= \
                s["scale_in_cooldown_s"]:
            self.last_in = now
            if counted:
                self.scale_ins += 1
            self.resize(desired)

    # -- reporting ------------------------------------------------------------------------
    def warm(self, now: float) -> None:
        self.count.mark(now)
        for inst in self.instances:
            inst.busy_time = 0.0
            inst.capacity.mark(now)
        self.peak = self.low = self.present()

    def live(self) -> list[dict[str, Any]]:
        return [{"n": inst.number, "state": inst.state, "busy": inst.busy,
                 "queue": len(inst.waiting)} for inst in self.instances]

    def live_sessions(self, out: dict[str, Any]) -> None:
        """The report's re-logins and lost sessions so far, for a frame (sessions kept)."""
        if self.pool.settings.get("sessions", "none") != "none":
            out["relogins"] = self.relogins
            out["sessions_lost"] = self.sessions_lost

    def counters(self, out: dict[str, float]) -> None:
        now = self.kernel.now
        busy = {inst.number: inst.busy_abs for inst in self.instances}
        for job in self.pool.jobs:
            if job.worker:
                number = self.placed[job].number
                busy[number] += now - job.started
        for number, seconds in busy.items():
            out[f"i{number}"] = seconds

    def windowed(self, old: dict[str, float], new: dict[str, float], span: float,
                 states: list[dict[str, Any]]) -> None:
        """Each instance's utilisation over the window (from its birth if it is younger)."""
        if span <= 0:
            return
        for inst, state in zip(self.instances, states, strict=True):
            key = f"i{inst.number}"
            if key in new and inst.workers:
                busy = max(new[key] - old.get(key, 0.0), 0.0)
                state["util"] = round(min(busy / (span * inst.workers), 1.0), 4)

    def report(self, now: float) -> dict[str, Any]:
        def utilisation(inst: Instance) -> float:
            seconds = inst.busy_time + sum(
                now - (j.started if j.started > self.pool.warm_t else self.pool.warm_t)
                for j in self.pool.jobs if j.worker and self.placed.get(j) is inst)
            available = inst.capacity.integral(now)
            return min(seconds / available, 1.0) if available > 0 else 0.0

        s = self.pool.settings
        out: dict[str, Any] = {
            "instances": {
                "now": self.present(), "mean": self.count.mean(now), "peak": self.peak,
                "low": self.low, "scale_outs": self.scale_outs, "scale_ins": self.scale_ins,
                "failures": self.instance_failures,
                "per_instance": [{"n": inst.number, "state": inst.state,
                                  "utilisation": utilisation(inst), "served": inst.served,
                                  "queue": len(inst.waiting)} for inst in self.instances]},
        }
        if s.get("sessions", "none") != "none":
            out["sessions"] = {"mode": s["sessions"], "logins": self.logins,
                               "relogins": self.relogins, "lost": self.sessions_lost,
                               "miss_ratio": self.relogins / self.returning
                               if self.returning else 0.0}
        return out


def load(inst: Instance) -> int:
    """Requests an instance holds: in service and waiting."""
    return inst.busy + len(inst.waiting)

"""What every component shares: requests, jobs, outcomes, failure and counters, and the call
links between components (in this module because a component holds its links and a link
its two components)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from .._mypyc import mypyc_attr
from ..metrics import LatencyHistogram, TimeAverage
from ..registry import hourly_cost

if TYPE_CHECKING:
    from ..kernel import Kernel
    from ..scenario import Scenario

# Outcomes a caller is answered with. Only OK is a success. (Final: compiled, the values
# are built in, not looked up.)
OK: Final = 0
REJECTED: Final = 1
DOWN: Final = 2
CUT: Final = 3
TIMEOUT: Final = 4
FAILED: Final = 5
RATE_LIMITED: Final = 6
BLOCKED: Final = 7
OPEN: Final = 8
OUTCOME_NAMES = ("ok", "rejected", "down", "cut", "timeout", "failed", "rate_limited",
                 "blocked", "breaker_open")

Reply = Callable[[int], None]


def ignore(outcome: int) -> None:
    """The reply of a request nobody waits for (write-behind flushes, queued messages)."""


class Unanswered:
    """Carrier of a request whose answer nobody waits for (write-behind flushes)."""

    __slots__ = ("link",)
    link: Link

    def answer(self, outcome: int) -> None:
        self.link.returned(outcome)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Request:
    """One attempt's travel through the system. `sample` marks requests drawn as dots.

    A client with no timeout, retries or breaker sends a request as its own carrier (no
    `Call` around it, the hot path): `origin` is that client, `link` the link it took.
    """

    __slots__ = ("op", "key", "born", "counted", "sample", "hit", "malicious", "origin",
                 "link", "cls",
                 "request_kb", "response_kb")  # payload sizes (network.py)
    link: Link  # set by Link.send
    origin: Component | None  # a client; typed, so that compiled it is a native call

    # `sample` is only tested for truth (a client passes 0 when it draws no dots).
    def __init__(self, op: str, key: int, born: float, counted: bool, sample: Any,
                 malicious: bool = False, origin: Any = None, cls: str = ""):
        self.op = op
        # Its route key: what links, routes and work times are chosen by. A request of a
        # class: "op name" (scenario.class_ops); else its op.
        self.cls = cls or op
        self.key = key  # also stands for the caller's address (ip_hash, per-client limits)
        self.born = born
        self.counted = counted
        self.sample = sample
        self.hit = False
        self.malicious = malicious  # an attack a WAF may block
        self.origin = origin
        # What it weighs over a link with bandwidth (its client sets them; 0: no payload).
        self.request_kb = 0.0
        self.response_kb = 0.0

    def answer(self, outcome: int) -> None:
        """The answer to a request sent as its own carrier."""
        outcome = self.link.returned(outcome)
        if outcome:
            self.origin.calls.failed_uncalled(self, outcome)  # type: ignore[union-attr,attr-defined]
        else:
            self.origin.settled(self, OK)  # type: ignore[union-attr]


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Job:
    """A request held by one component until that component answers its caller."""

    __slots__ = ("owner", "req", "reply", "arrived", "open", "counted", "step", "worker",
                 "started", "link")

    def __init__(self, owner: Component, req: Request, reply: Reply, now: float,
                 counted: bool):
        self.owner = owner
        self.req = req
        self.reply = reply
        self.arrived = now
        self.open = True
        self.counted = counted
        self.step = 0
        self.worker = False  # holds one of the owner's workers
        self.started = now  # when it got that worker
        self.link: Link | None = None  # the link of its current downstream call

    def answer(self, outcome: int) -> None:
        """A downstream call answered."""
        outcome = self.link.returned(outcome)  # type: ignore[union-attr]
        if self.open:
            self.owner.resume(self, outcome)


class Host(Protocol):
    """What a component needs from the simulation that runs it (engine.Simulation is one).
    Components depend on this, not on the engine, which imports every one of them."""

    seed: int
    kernel: Kernel
    warmup_s: float
    scenario: Scenario
    uses_keys: bool  # whether requests carry keys (else every key is 0)
    class_ops: dict[str, str]  # every request class's route key and its op
    sample_every: int  # every n-th request is drawn as a dot; 0: none

    def sample_next(self) -> bool: ...

    def pick_weighted(self, owner: Component, links: list[Link]) -> Link: ...

    def dot(self, link: int, direction: int, req: Request, outcome: int = -1) -> None: ...


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Component:
    """Base of every kind: up/down state, held jobs, counters and answer bookkeeping."""

    # Whether `accept` only ever holds a request for a time or answers it, never passing it
    # on at once: a link may then call it, where it must hand others off (Kernel.hand).
    holds = False

    def __init__(self, sim: Host, cid: str, kind: str, settings: dict[str, Any]):
        self.sim = sim
        self.kernel = sim.kernel
        self.warmup = sim.warmup_s
        self.id = cid
        self.kind = kind
        self.settings = dict(settings)
        self.up = True
        self.out: list[Link] = []  # outgoing call links, in the order listed
        # Held jobs in arrival order (a dict, not a set: failing them must happen in the
        # same order in every run, and a set of objects iterates in memory-address order).
        self.jobs: dict[Job, None] = {}
        self.watchers: list[Any] = []  # told when it goes down or comes back (target_changed)
        self.uptime = TimeAverage(0.0, 1.0)
        self.cost = TimeAverage(0.0, hourly_cost(self.settings))  # currency units per hour
        self.latency = LatencyHistogram()
        # Counted over requests that arrived after warm-up.
        self.arrivals = self.completed = self.rejected = self.failed = 0
        # Totals since the start, for conservation checks and live rates.
        self.total_in = self.total_ok = self.total_rejected = self.total_failed = 0

    # -- lifecycle ------------------------------------------------------------------------
    def wire(self) -> None:
        """Called once every link exists."""
        self.routes = {key: [link for link in self.out if link.carries(key)]
                       for key in ("read", "write", *self.sim.class_ops)}

    def warm(self, now: float) -> None:
        """Warm-up ends: time averages restart here."""
        self.uptime.mark(now)
        self.cost.mark(now)

    def apply_settings(self, changes: dict[str, Any]) -> None:
        self.settings.update(changes)
        self.cost.update(self.kernel.now, hourly_cost(self.settings))

    def set_slow(self, factor: float) -> None:
        """Only kinds with service times slow down."""

    def cost_now(self) -> float:
        """What the component costs per hour as it stands now."""
        return hourly_cost(self.settings)

    # -- requests -------------------------------------------------------------------------
    def accept(self, req: Request, reply: Reply) -> None:
        """Take a request from a link: every kind a link may lead to provides it."""
        raise NotImplementedError

    def settled(self, subject: Any, outcome: int) -> None:
        """A call made through `Calls` is over (kinds that make such calls provide it)."""
        raise NotImplementedError

    def retry(self, call: Any) -> None:
        """Make attempt call.n + 1 of a call made through `Calls` (as `settled`)."""
        raise NotImplementedError

    def admit(self, req: Request, reply: Reply) -> Job | None:
        """Count an arrival; a component that is down turns it away at once."""
        now = self.kernel.now
        counted = now >= self.warmup
        self.total_in += 1
        if counted:
            self.arrivals += 1
        if not self.up:
            self.refuse(counted, reply, DOWN)
            return None
        job = Job(self, req, reply, now, counted)
        self.jobs[job] = None
        return job

    def refuse(self, counted: bool, reply: Reply, outcome: int) -> None:
        self.total_rejected += 1
        if counted:
            self.rejected += 1
        self.kernel.hand(reply, outcome)

    def turn_away(self, job: Job, outcome: int) -> None:
        """Refuse a request already admitted (a full queue, a limit): counted as rejected."""
        self.jobs.pop(job, None)
        job.open = False
        self.refuse(job.counted, job.reply, outcome)

    def finish(self, job: Job, outcome: int) -> None:
        """Answer the caller of `job` once."""
        job.open = False
        jobs = self.jobs
        if job in jobs:  # compiled, two native lookups; `pop(job, None)` is a method call
            del jobs[job]
        if outcome == OK:
            self.total_ok += 1
            if job.counted:
                self.completed += 1
                self.latency.record((self.kernel.now - job.arrived) * 1000.0)
        else:
            self.total_failed += 1
            if job.counted:
                self.failed += 1
        self.kernel.hand(job.reply, outcome)  # not a nested call: chains can be 500 long

    def forward(self, job: Job, links: list[Link]) -> None:
        """Send the job's request along one of `links`, chosen by weight."""
        link = links[0] if len(links) == 1 else self.sim.pick_weighted(self, links)
        link.send(job.req, job)

    def resume(self, job: Job, outcome: int) -> None:
        self.finish(job, outcome)

    # -- failure --------------------------------------------------------------------------
    def fail(self) -> None:
        if not self.up:
            return
        self.up = False
        self.uptime.update(self.kernel.now, 0.0)
        self.drop_state()
        for job in list(self.jobs):
            self.finish(job, DOWN)
        for lb in self.watchers:
            lb.target_changed(self)

    def recover(self) -> None:
        if self.up:
            return
        self.up = True
        self.uptime.update(self.kernel.now, 1.0)
        for lb in self.watchers:
            lb.target_changed(self)

    def drop_state(self) -> None:
        """Forget what the component holds besides jobs (queues, cache entries)."""

    # -- reporting ------------------------------------------------------------------------
    def in_flight(self) -> int:
        return len(self.jobs)

    def cost_per_hour(self, now: float) -> float:
        """Running cost per hour, averaged since warm-up (a `set` may have resized it)."""
        return self.cost.mean(now) if now > self.warmup else hourly_cost(self.settings)

    def report(self, now: float) -> dict[str, Any]:
        return {"kind": self.kind, "arrivals": self.arrivals, "completed": self.completed,
                "rejected": self.rejected, "failed": self.failed,
                "latency_ms": self.latency.summary(), "available_ratio": self.uptime.mean(now)}

    def live(self) -> dict[str, Any]:
        """Instant state for a live frame (figures over a window: `windowed`)."""
        out: dict[str, Any] = {"up": self.up, "in_flight": len(self.jobs)}
        now = self.kernel.now
        if now > self.uptime.start:  # the share of time up since warm-up, once below 1
            available = self.uptime.mean(now)
            if available < 1.0:
                out["available"] = round(available, 4)
        return out

    def counters(self, now: float) -> dict[str, float]:
        """Running totals, taken at fixed simulated times, that live frames turn into
        figures over a window (so a frame never depends on when the previous one was)."""
        return {"in": self.total_in, "bad": self.total_rejected + self.total_failed,
                "done": self.completed, "lat": self.latency.sum}

    def windowed(self, old: dict[str, float], new: dict[str, float], span: float,
                 out: dict[str, Any]) -> None:
        """Add to `out` the figures over the `span` seconds from `old` to `new` counters."""
        out["rps"] = rate(new["in"] - old["in"], span)
        out["err_rps"] = rate(new["bad"] - old["bad"], span)
        # Mean latency of the requests answered OK in the window (counted after warm-up,
        # as the report's latency_ms; absent when none was)
        done = new["done"] - old["done"]
        if done > 0:
            out["latency_ms"] = float(f"{(new['lat'] - old['lat']) / done:.3g}")


def rate(count: float, span: float) -> float:
    """Per second, to 3 significant digits: enough to draw, and frames stay small."""
    return float(f"{count / span:.3g}") if span > 0 else 0.0


def stale_read_ratio(old: dict[str, float], new: dict[str, float], out: dict[str, Any]
                     ) -> None:
    """The stale part of the reads counted in a window (absent when none was)."""
    reads = new["reads"] - old["reads"]
    if reads:
        out["stale_read_ratio"] = round((new["stale"] - old["stale"]) / reads, 4)


def hit_ratio(old: dict[str, float], new: dict[str, float], out: dict[str, Any]) -> None:
    """A cache's hit ratio over a window (absent when nothing was looked up)."""
    lookups = new["lookups"] - old["lookups"]
    if lookups:
        out["hit_ratio"] = round((new["hits"] - old["hits"]) / lookups, 4)


# -- call links -----------------------------------------------------------------------------
# A call link at run time: latency each way, partitions, and dots for the animation.
#
# The caller passes the object that receives the answer (`carrier`: a Job or a client's
# Attempt); it checks `link.cut` and counts the link's errors when the answer arrives, so a
# link with no latency adds no callback of its own on the way back (the hot path).

@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Link:
    __slots__ = ("sim", "kernel", "index", "source", "target", "latency", "carried", "weight",
                 "cut", "total", "errors", "holds")

    def __init__(self, sim: Host, index: int, source: Component, target: Component,
                 latency_ms: float, carried: frozenset[str], weight: float):
        self.sim = sim
        self.kernel = sim.kernel
        self.index = index
        self.source = source
        self.target = target
        self.latency = latency_ms / 1000.0
        self.carried = carried  # the route keys it carries (scenario.Link.carries)
        self.weight = weight
        self.cut = False
        self.total = 0  # requests sent, for live throughput
        self.errors = 0  # answers that came back failed
        self.holds = target.holds

    def carries(self, key: str) -> bool:
        return key in self.carried

    def send(self, req: Request, carrier: Any) -> None:  # carrier: a Carrier
        """Carry `req` to the target; the answer goes to `carrier.answer`."""
        self.total += 1
        carrier.link = self
        if self.cut:
            carrier.answer(CUT)
            return
        if req.sample:
            self.sim.dot(self.index, 0, req)
        if self.latency:
            self.kernel.schedule(self.latency, self._arrive, (req, carrier.answer))
        elif not self.holds:  # a hand-off, not a nested call: chains of forwarders can be
            self.kernel.hand(self._arrive if req.sample else self._deliver,  # 500 long
                             (req, carrier.answer))
        elif req.sample:  # the target holds the request: a call is as safe and quicker
            self.target.accept(req, self._back(req, carrier.answer))
        else:
            self.target.accept(req, carrier.answer)

    def _arrive(self, pair: tuple[Request, Reply]) -> None:
        req, reply = pair
        self.target.accept(req, self._back(req, reply))

    def _deliver(self, pair: tuple[Request, Reply]) -> None:
        """`_arrive` for a request not drawn: its answer needs no callback on the way."""
        req, reply = pair
        self.target.accept(req, reply)

    def _back(self, req: Request, reply: Reply) -> Reply:
        """The answer travels back over the link (drawn as a dot if the request is)."""
        return _Back(self, req, reply).answered

    def returned(self, outcome: int) -> int:
        """The outcome the caller sees: an answer cannot cross a cut link."""
        if self.cut:
            outcome = CUT
        if outcome:
            self.errors += 1
        return outcome

    # What a link with payloads or protocols adds to frames and the report (network.py).
    def warm(self, now: float) -> None:
        """Warm-up ends: its totals restart here."""

    def mark(self) -> tuple:
        """Its running totals at the end of a live window."""
        return (self.total, self.errors)

    def report(self, now: float) -> dict[str, Any] | None:
        return None


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class _Back:
    """An answer on its way back over a link: an object, not a closure, so that a running
    simulation can be copied (checkpoints)."""

    __slots__ = ("link", "req", "reply")

    def __init__(self, link: Link, req: Request, reply: Reply):
        self.link, self.req, self.reply = link, req, reply

    def answered(self, outcome: int) -> None:
        link = self.link
        if self.req.sample:
            link.sim.dot(link.index, 1, self.req, outcome)
        if link.latency:
            link.kernel.schedule(link.latency, self.reply, outcome)
        else:
            self.reply(outcome)


class Carrier(Protocol):
    link: Link

    def answer(self, outcome: int) -> None: ...

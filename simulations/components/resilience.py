"""Resilience of callers: timeouts, retries with backoff and jitter, circuit breakers.

A client (for its requests) and a service (for its downstream calls) make each call through
its `Calls`. Every attempt is a `Call`, the carrier `link.send` answers: it is settled once,
by the callee's answer or by the timeout, whichever comes first. A late answer is dropped,
but the callee did the work all the same: that is what turns retries into a retry storm.
A failed attempt is made again after a backoff, up to `retries` times, unless a breaker
refused it (`breaker_open` is never retried: failing fast is the point). Each link a caller
uses has its own breaker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._mypyc import mypyc_attr
from ..kernel import stream
from ..metrics import TimeAverage
from .base import OK, OPEN, TIMEOUT, rate

if TYPE_CHECKING:
    from .base import Component, Link, Request

BREAKER_PARAMS = frozenset({"breaker_errors", "breaker_window_s", "breaker_open_s"})


def wanted(settings: dict[str, Any]) -> bool:
    """Whether a caller's settings ask for timeouts, retries or a breaker."""
    return bool(settings["timeout_ms"] or settings["retries"] or settings["breaker_errors"])


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Breaker:
    """The circuit breaker of one link. Closed, it keeps the times of the last `errors`
    failures: that many within `window` seconds open it. Open, it refuses calls for `open_s`;
    then the next call is a trial (half-open: others are refused while it is out), whose
    success closes the breaker and whose failure opens it again."""

    __slots__ = ("window", "open_s", "failures", "until", "trial")

    def __init__(self, errors: int, window: float, open_s: float):
        self.window = window
        self.open_s = open_s
        self.failures: deque[float] = deque(maxlen=errors)
        self.until: float | None = None  # open until then; None while closed
        self.trial: Call | None = None  # the trial call of a half-open breaker, while out

    def admits(self, call: Call, now: float) -> bool:
        """Whether `call` may go (if the breaker is half-open, as its trial)."""
        if self.until is None:
            return True
        if now < self.until or self.trial is not None:
            return False
        self.trial = call
        return True

    def record(self, call: Call, ok: bool, now: float) -> bool:
        """Take a call's result; returns whether the breaker opened (or opened again)."""
        if call is self.trial:
            self.trial = None
            if ok:
                self.until = None
                self.failures.clear()
                return False
        elif ok or self.until is not None:  # a result of a call made before it opened
            return False
        else:
            self.failures.append(now)
            if (len(self.failures) < self.failures.maxlen  # type: ignore[operator]
                    or now - self.failures[0] > self.window):
                return False
        self.until = now + self.open_s
        return True


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Call:
    """One attempt of a call along a link, settled once: by the answer or by the timeout."""

    __slots__ = ("calls", "subject", "n", "breaker", "open", "link")
    link: Link  # set by Link.send

    def __init__(self, calls: Calls, subject: Any, n: int, breaker: Breaker | None):
        self.calls = calls
        self.subject = subject  # what the caller settles: a client's request, a service's job
        self.n = n  # attempts made before this one
        self.breaker = breaker
        self.open = True  # `link` is set by Link.send

    def answer(self, outcome: int) -> None:
        outcome = self.link.returned(outcome)
        if self.open:
            self.open = False
            if outcome or self.breaker is not None:
                self.calls.settle(self, outcome)
            else:  # ok, and no breaker to tell: straight to the caller (the hot path)
                self.calls.owner.settled(self.subject, outcome)

    def expire(self, _: Any = None) -> None:
        if self.open:
            self.open = False
            if self.subject.counted:
                self.calls.timeouts += 1
            self.calls.settle(self, TIMEOUT)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Calls:
    """How one caller calls: its timeout, retries with backoff and jitter, and breakers.

    The owner provides `settled(subject, outcome)` (the call is over) and `retry(call)`
    (make attempt call.n + 1). Counters are of calls whose subject arrived after warm-up.
    """

    def __init__(self, owner: Component):
        self.owner = owner
        self.kernel = owner.kernel
        self.warmup = owner.warmup
        self._jitter_rng = stream(owner.sim.seed, owner.id, "jitter")
        self.breakers: dict[Link, Breaker] = {}
        self.open_breakers = 0  # open or half-open
        self.time_open = TimeAverage(0.0, 0.0)  # its integral: breaker-seconds not closed
        self.retried = self.timeouts = self.short_circuited = self.opens = 0
        self.all_retried = 0  # warm-up included, for live frames
        self._configure(owner.settings)

    def _configure(self, s: dict[str, Any]) -> None:
        self.timeout = s["timeout_ms"] / 1000.0 if s["timeout_ms"] else None
        self.retries = s["retries"]
        self.backoff = s["backoff_ms"] / 1000.0
        self.jitter = s["jitter"]
        self.breaker = (s["breaker_errors"], s["breaker_window_s"], s["breaker_open_s"]) \
            if s["breaker_errors"] else None
        # No timeout, retry or breaker: a Call would only pass the answer on, so the caller
        # may send without one (the hot path).
        self.uncalled = not wanted(s)

    def update(self, changes: dict[str, Any]) -> None:
        """A `set` changed the owner's settings; new breaker settings start closed breakers."""
        self._configure(self.owner.settings)
        if BREAKER_PARAMS & set(changes):
            self.reset_breakers()

    def reset_breakers(self) -> None:
        """Forget every breaker (the owner failed, or its breaker settings changed). Calls
        still out keep their old breaker, which no longer counts."""
        self.breakers = {}
        self.open_breakers = 0
        self.time_open.update(self.kernel.now, 0)

    def warm(self, now: float) -> None:
        self.time_open.mark(now)

    # -- calling --------------------------------------------------------------------------
    def send(self, links: Sequence[Link], req: Request, subject: Any, n: int = 0) -> None:
        """Make attempt `n` of a call of `req` along one of `links`, chosen by weight."""
        link = links[0] if len(links) == 1 else \
            self.owner.sim.pick_weighted(self.owner, links)  # type: ignore[arg-type]
        if self.breaker is None:
            call = Call(self, subject, n, None)
        else:
            breaker = self.breakers.get(link)
            if breaker is None:
                breaker = self.breakers[link] = Breaker(*self.breaker)
            call = Call(self, subject, n, breaker)
            if not breaker.admits(call, self.kernel.now):
                if subject.counted:
                    self.short_circuited += 1
                self.owner.settled(subject, OPEN)
                return
        if self.timeout is not None:
            self.kernel.schedule(self.timeout, call.expire)
        link.send(req, call)

    def failed_uncalled(self, req: Request, outcome: int) -> None:
        """A request sent without a Call failed: as if by a Call of its first attempt, which
        is retried if a `set` asked for retries since it left."""
        self.settle(Call(self, req, 0, None), outcome)

    def settle(self, call: Call, outcome: int) -> None:
        if call.breaker is not None:
            self._record(call, outcome == OK)
        if outcome and outcome != OPEN and call.n < self.retries:
            self.all_retried += 1
            if call.subject.counted:
                self.retried += 1
            self.kernel.schedule(self.delay(call.n), self.owner.retry, call)
        else:
            self.owner.settled(call.subject, outcome)

    def delay(self, n: int) -> float:
        """The wait before retry n + 1: backoff_ms doubled per retry, then jittered as in
        AWS's "Exponential Backoff And Jitter" (full: uniform in [0, wait]; equal: half the
        wait plus uniform in [0, wait / 2])."""
        wait = self.backoff * (2 ** n)
        if self.jitter == "full":
            return self._jitter_rng.random() * wait
        if self.jitter == "equal":
            return wait / 2 + self._jitter_rng.random() * wait / 2
        return wait

    def _record(self, call: Call, ok: bool) -> None:
        breaker = call.breaker
        if self.breakers.get(call.link) is not breaker:
            return  # forgotten by reset_breakers
        now = self.kernel.now
        was_closed, trial = breaker.until is None, call is breaker.trial  # type: ignore[union-attr]
        opened = breaker.record(call, ok, now)  # type: ignore[union-attr]
        if opened and now >= self.warmup:
            self.opens += 1
        if opened and was_closed:
            self.open_breakers += 1
        elif trial and ok:
            self.open_breakers -= 1
        else:
            return
        self.time_open.update(now, self.open_breakers)

    # -- reporting ------------------------------------------------------------------------
    def report(self, now: float) -> dict[str, Any]:
        return {"retries_made": self.retried, "timeouts": self.timeouts,
                "breaker_opens": self.opens, "breaker_open_time_s": self.time_open.integral(now),
                "short_circuited": self.short_circuited}

    def live(self) -> dict[str, Any]:
        """Breakers not closed, by the id their link leads to: open, or half-open (its
        open time is over: the next call, or the one out now, is the trial)."""
        if self.breaker is None:
            return {}
        now = self.kernel.now
        states: dict[str, str] = {}
        for link, b in self.breakers.items():
            until = b.until
            if until is not None:
                states[link.target.id] = "open" if until > now and b.trial is None \
                    else "half_open"
        return {"breakers_open": self.open_breakers, "breakers": states}

    def counters(self, out: dict[str, float]) -> dict[str, float]:
        out["retried"] = self.all_retried
        return out

    def windowed(self, old: dict[str, float], new: dict[str, float], span: float,
                 out: dict[str, Any]) -> None:
        """Retries made per second in the window (a caller that may retry)."""
        if self.retries or new["retried"] != old.get("retried", new["retried"]):
            out["retries_rps"] = rate(new["retried"] - old.get("retried", new["retried"]),
                                      span)

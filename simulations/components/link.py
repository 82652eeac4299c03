"""A call link at run time: latency each way, partitions, and dots for the animation.

The caller passes the object that receives the answer (`carrier`: a Job or a client's
Attempt); it checks `link.cut` and counts the link's errors when the answer arrives, so a
link with no latency adds no callback of its own on the way back (the hot path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .._mypyc import mypyc_attr
from .base import CUT, Reply, Request

if TYPE_CHECKING:
    from ..engine import Simulation
    from .base import Component


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Link:
    __slots__ = ("sim", "kernel", "index", "source", "target", "latency", "route", "weight",
                 "cut", "total", "errors", "holds")

    def __init__(self, sim: Simulation, index: int, source: Component, target: Component,
                 latency_ms: float, route: str, weight: float):
        self.sim = sim
        self.kernel = sim.kernel
        self.index = index
        self.source = source
        self.target = target
        self.latency = latency_ms / 1000.0
        self.route = route
        self.weight = weight
        self.cut = False
        self.total = 0  # requests sent, for live throughput
        self.errors = 0  # answers that came back failed
        self.holds = target.holds

    def carries(self, op: str) -> bool:
        return self.route == "any" or self.route == op

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

"""A call link at run time: latency each way, partitions, and dots for the animation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import CUT, Reply, Request

if TYPE_CHECKING:
    from ..engine import Simulation
    from .base import Component


class Link:
    __slots__ = ("sim", "kernel", "index", "source", "target", "latency", "route", "weight",
                 "cut", "total", "errors")

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

    def carries(self, op: str) -> bool:
        return self.route == "any" or self.route == op

    def send(self, req: Request, reply: Reply) -> None:
        self.total += 1
        if self.cut:
            self.errors += 1
            reply(CUT)
            return
        if req.sample:
            self.sim.dot(self.index, 0, req)
        if self.latency:
            self.kernel.schedule(self.latency, self._arrive, (req, reply))
        else:
            self.target.accept(req, self._back(req, reply))

    def _arrive(self, pair: tuple[Request, Reply]) -> None:
        req, reply = pair
        self.target.accept(req, self._back(req, reply))

    def _back(self, req: Request, reply: Reply) -> Reply:
        """The answer travels back over the same link (and fails if it was cut meanwhile)."""
        def answered(outcome: int) -> None:
            if self.cut:
                outcome = CUT
            if outcome:
                self.errors += 1
            if req.sample:
                self.sim.dot(self.index, 1, req, outcome)
            if self.latency:
                self.kernel.schedule(self.latency, reply, outcome)
            else:
                reply(outcome)
        return answered

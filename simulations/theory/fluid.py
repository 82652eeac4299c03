"""The fluid approximation of a queue under a changing arrival rate: work arrives as a
continuous flow and is served at full capacity while any waits, so randomness is ignored.
Right when the rate stays well above (or below) capacity for a while: a flash crowd's
backlog, and the time it takes to drain [Newell, *Applications of Queueing Theory*, 2nd ed.,
Chapman and Hall 1982, ch. 2]: while arrivals (rate lam) exceed the capacity C the backlog
grows at lam - C, and once C > lam it drains at C - lam."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .inputs import _nonneg


def fluid_backlog(arrived: Iterable[float], served: Iterable[float]) -> list[float]:
    """The backlog at the end of each step of time: `arrived` holds the work arriving in
    each step, `served` the most that can be served in it (capacity x the step's length).
    Q_k = max(0, Q_(k-1) + A_k - S_k): Lindley's recursion for a fluid."""
    out, backlog = [], 0.0
    for a, s in zip(arrived, served, strict=True):
        backlog = max(0.0, backlog + _nonneg("arrived", a) - _nonneg("served", s))
        out.append(backlog)
    return out


def step_backlog(rate: float, capacity: float, reaction: float) -> float:
    """Fluid backlog a step to `rate` builds on a group of total `capacity` before new
    instances serve: (rate - capacity) x reaction, none if the group keeps up."""
    excess = _nonneg("rate", rate) - _nonneg("capacity", capacity)
    return max(excess, 0.0) * _nonneg("reaction", reaction)


def drain_s(backlog: float, rate: float, capacity: float) -> float:
    """Fluid time to work off `backlog` once the group's capacity is `capacity`:
    backlog / (capacity - rate); infinite if it does not keep up."""
    _nonneg("rate", rate)
    _nonneg("capacity", capacity)
    if _nonneg("backlog", backlog) == 0:
        return 0.0
    return backlog / (capacity - rate) if capacity > rate else math.inf

"""The fluid approximation of a queue under a changing arrival rate: work arrives as a
continuous flow and is served at full capacity while any waits, so randomness is ignored.
Right when the rate stays well above (or below) capacity for a while: a flash crowd's
backlog, and the time it takes to drain [Newell, *Applications of Queueing Theory*, 2nd ed.,
Chapman and Hall 1982]."""

from __future__ import annotations

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

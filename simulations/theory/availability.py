"""Availability of one component and of series and parallel systems, failures independent."""

from __future__ import annotations

import math

from .inputs import _nonneg, _positive, _probability


def availability(mtbf: float, mttr: float) -> float:
    """Steady-state availability of an alternating up/down renewal process: MTBF / (MTBF + MTTR)."""
    mtbf = _positive("mtbf", mtbf, allow_inf=True)
    mttr = _nonneg("mttr", mttr)
    if math.isinf(mtbf):
        return 1.0
    return float(mtbf / (mtbf + mttr))


def _availabilities(args: tuple) -> list[float]:
    if len(args) == 1 and not isinstance(args[0], (int, float)):
        args = tuple(args[0])
    if not args:
        raise ValueError("need at least one availability")
    return [_probability("availability", a) for a in args]


def series(*a: float) -> float:
    """Series system (all must be up, independent failures): prod_i A_i."""
    vals = _availabilities(a)
    return float(math.prod(vals))


def parallel(*a: float) -> float:
    """Parallel system (any one up suffices, independent failures): 1 - prod_i (1 - A_i)."""
    vals = _availabilities(a)
    return float(1.0 - math.prod(1.0 - x for x in vals))

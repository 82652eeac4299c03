"""Saturation: the total client rate at which the first pool reaches utilisation 1."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..theory.roots import illinois
from .design import _Design
from .load import _Load, _Shared
from .timing import _Timing

MAX_SCALE = 1e12  # the saturation search gives up beyond this many times the client rates


def _saturation(design: _Design, shared: _Shared, base: _Timing) -> dict[str, Any] | None:
    """The total client rate at which the first pool reaches utilisation 1.

    Utilisations grow linearly with the rate when hit ratios are rate-free and no worker is
    held during downstream calls: then it is total / peak, found by the first step below.
    Otherwise (blocking calls whose waits grow, TTL caches, write-behind coalescing) the
    scale factor is solved for: ln peak against ln scale is nearly a line of slope 1.
    """
    total = math.fsum(design.rate(c) for c in design.clients)
    peak, who = base.peak()
    if total <= 0 or who is None:
        return None
    if peak < 1 / MAX_SCALE:
        return {"note": f"no pool saturates below {MAX_SCALE:g} times the client rates"}

    def at(x: float) -> tuple[float, str | None]:
        p, w = _Timing(design, _Load(design, math.exp(x), shared)).peak()
        return math.log(p) if p > 0 else -math.inf, w

    found = _crossing(at, 0.0, math.log(peak), who)
    if found is None:
        return {"note": f"no pool saturates below {MAX_SCALE:g} times the client rates"}
    x, who, steps = found
    note = "utilisation is linear in the client rate" if steps <= 1 else (
        "solved numerically: blocking workers wait longer downstream, or hit ratios change "
        "with the rate")
    return {"client_rate_rps": total * math.exp(x), "component": who,
            "headroom": math.exp(x), "note": note}


def _crossing(at: Callable[[float], tuple[float, str | None]], x: float, y: float,
              who: str | None) -> tuple[float, str | None, int] | None:
    """Where y = at(x) crosses 0 (y increasing), the pool at the last point below, and the
    number of evaluations: slope-1 steps until the root is bracketed, then Illinois
    (regula falsi); an infinite y (a blocking pool over a saturated one) is bisected."""
    below = above = None
    steps, reach = 0, 1.0
    while True:
        if abs(y) < 1e-10:
            return x, who, steps
        if y < 0:
            below = (x, y, who)
        else:
            above = (x, y, who)
        if below and above:
            break
        x = x - y * reach if math.isfinite(y) else x - math.log(2) * reach
        if steps >= 80 or x > math.log(MAX_SCALE):
            return None
        reach *= 2  # widen the step each time the root is still on the same side
        y, who = at(x)
        steps += 1
    (lo, y_lo, who_lo), (hi, y_hi, _) = below, above
    pools = {lo: who_lo}  # the pool at each point tried

    def y_at(x: float) -> float:
        y, pools[x] = at(x)
        return y

    x, close, lo, evaluations = illinois(
        y_at, lo, y_lo, hi, y_hi, lambda x, y, lo, hi: abs(y) < 1e-10,
        lambda lo, hi: hi - lo <= 1e-10, 200 - steps)
    x = x if close else lo
    return x, pools[x], steps + evaluations

"""Root finding shared by the formulas and the predictions."""

from __future__ import annotations

from collections.abc import Callable


def bisect_decreasing(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Bisection for ``f(t) = target`` with ``f`` decreasing, ``f(lo) >= target >= f(hi)``."""
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)

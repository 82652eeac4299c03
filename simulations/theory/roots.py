"""Root finding shared by the formulas and the predictions."""

from __future__ import annotations

import math
from collections.abc import Callable


def illinois(f: Callable[[float], float], lo: float, f_lo: float, hi: float, f_hi: float,
             close: Callable[[float, float, float, float], bool],
             narrow: Callable[[float, float], bool] = lambda lo, hi: False,
             max_steps: int = 200) -> tuple[float, bool, float, int]:
    """A root of an increasing f bracketed by lo (f_lo < 0) and hi (f_hi > 0, maybe +inf):
    regula falsi that halves the value kept at an end chosen twice in a row, the Illinois
    method [M. Dowell, P. Jarratt, BIT 11, 1971]; towards an infinite end, bisection.

    After each evaluation, `close(x, f(x), lo, hi)` (the bracket x was taken from) may end the
    search at x; before each, `narrow(lo, hi)` may end it at the bracket. Returns the last
    point tried, whether `close` ended the search there, the lower end of the bracket and the
    number of evaluations.
    """
    side = 0
    x = lo
    for step in range(max_steps):
        if narrow(lo, hi):
            return x, False, lo, step
        x = (lo + hi) / 2 if math.isinf(f_hi) or f_hi == f_lo else \
            lo - f_lo * (hi - lo) / (f_hi - f_lo)
        fx = f(x)
        if close(x, fx, lo, hi):
            return x, True, lo, step + 1
        if fx < 0:
            lo, f_lo = x, fx
            if side < 0:
                f_hi /= 2
            side = -1
        else:
            hi, f_hi = x, fx
            if side > 0:
                f_lo /= 2
            side = 1
    return x, False, lo, max_steps

"""Checks of the formulas' arguments: invalid input raises ValueError with a clear message."""

from __future__ import annotations

import math
from collections.abc import Iterable


def _real(name: str, x: object) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def _positive(name: str, x: object, *, allow_inf: bool = False) -> float:
    v = _real(name, x)
    if not v > 0.0 or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return v


def _nonneg(name: str, x: object, *, allow_inf: bool = False) -> float:
    v = _real(name, x)
    if v < 0.0 or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a non-negative finite number, got {x!r}")
    return v


def _integer(name: str, x: object, minimum: int) -> int:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if isinstance(x, int):
        v = x
    else:
        f = _real(name, x)
        if math.isinf(f) or not f.is_integer():
            raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
        v = int(f)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return v


def _probability_level(q: object) -> float:
    v = _real("q", q)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"quantile level q must satisfy 0 <= q < 1, got {q!r}")
    return v


def _probability(name: str, x: object) -> float:
    v = _real(name, x)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {x!r}")
    return v


def _popularity(popularity: Iterable[float]) -> list[float]:
    p = [_nonneg("popularity entry", x) for x in popularity]
    if not p:
        raise ValueError("popularity must contain at least one key")
    total = math.fsum(p)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"popularity must sum to 1 (got {total!r})")
    # Remove the rounding residue so downstream sums are exact-ish.
    return [x / total for x in p]

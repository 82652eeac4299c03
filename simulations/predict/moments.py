"""Times as mean and variance: all Allen-Cunneen and Pollaczek-Khinchine need."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Moments:
    """Mean and variance of a time in seconds: all Allen-Cunneen and P-K need."""

    mean: float = 0.0
    var: float = 0.0

    def __add__(self, other: Moments) -> Moments:  # independent parts one after another
        return Moments(self.mean + other.mean, self.var + other.var)

    @property
    def cv(self) -> float:
        return math.sqrt(self.var) / self.mean if self.mean > 0 else 0.0

    @staticmethod
    def service(dist: str, mean: float, cv: float) -> Moments:
        if dist == "exponential":
            return Moments(mean, mean * mean)
        if dist == "lognormal":
            return Moments(mean, (cv * mean) ** 2)
        return Moments(mean, 0.0)

    @staticmethod
    def of(samples: list[float]) -> Moments:
        mean = math.fsum(samples) / len(samples)
        return Moments(mean, math.fsum((x - mean) ** 2 for x in samples) / len(samples))


def _add(*parts: Moments | None) -> Moments | None:
    if any(p is None for p in parts):
        return None
    return sum(parts, Moments())  # type: ignore[arg-type]


def _mix(parts: Iterable[tuple[float, Moments | None]]) -> Moments | None:
    """The time of a request that takes part i with probability w_i (a mixture, not a sum)."""
    total = mean = second = 0.0
    for w, m in parts:
        if w <= 0:
            continue  # a branch nobody takes needs no prediction
        if m is None:
            return None
        total += w
        mean += w * m.mean
        second += w * (m.var + m.mean * m.mean)
    if total <= 0:
        return None
    mean, second = mean / total, second / total
    return Moments(mean, max(second - mean * mean, 0.0))

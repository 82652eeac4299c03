"""Samplers for service times, arrival gaps and key popularity."""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate

Sampler = Callable[[], float]


def service_sampler(dist: str, mean: float, cv: float, rng: random.Random) -> Sampler:
    """Times with the given mean: exponential, constant, or lognormal with that CV."""
    if mean <= 0 or dist == "constant":
        return lambda: mean
    if dist == "exponential":
        rand, log = rng.random, math.log
        return lambda: -mean * log(1.0 - rand())
    if dist == "lognormal":
        sigma2 = math.log(1.0 + cv * cv)
        mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
        return lambda: rng.lognormvariate(mu, sigma)
    raise ValueError(f"unknown distribution {dist!r}")


def gap_sampler(rate: float, cv: float, rng: random.Random) -> Sampler:
    """Gaps between arrivals at `rate` per second: Poisson for cv=1, hyperexponential with
    balanced means above 1, gamma below 1."""
    mean = 1.0 / rate
    rand, log = rng.random, math.log
    if cv == 1.0:
        return lambda: -mean * log(1.0 - rand())
    if cv > 1.0:
        c2 = cv * cv
        p1 = (1.0 + math.sqrt((c2 - 1.0) / (c2 + 1.0))) / 2.0
        m1, m2 = mean / (2.0 * p1), mean / (2.0 * (1.0 - p1))
        return lambda: -(m1 if rand() < p1 else m2) * log(1.0 - rand())
    shape = 1.0 / (cv * cv)
    scale = mean / shape
    return lambda: rng.gammavariate(shape, scale)


class KeyChooser:
    """Draws key ranks 0..n-1 with P(rank i) proportional to (i+1)^-skew (Zipf)."""

    def __init__(self, n: int, skew: float, rng: random.Random):
        self.n = n
        self._rand = rng.random
        self._cumulative: list[float] | None = None
        if skew > 0 and n > 1:
            weights = accumulate(i ** -skew for i in range(1, n + 1))
            cum = list(weights)
            total = cum[-1]
            self._cumulative = [w / total for w in cum]

    def __call__(self) -> int:
        if self._cumulative is None:
            return int(self._rand() * self.n)
        return bisect_left(self._cumulative, self._rand())


def key_bucket(key: int, n: int) -> int:
    """Bucket 0..n-1 of a key by Knuth's multiplicative hash: a topic's partition of a key
    (the same hash ip_hash balancing uses)."""
    return (key * 2654435761 & 0xFFFFFFFF) % n

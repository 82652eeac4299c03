"""Samplers for service times, arrival gaps and key popularity."""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate

from ._mypyc import mypyc_attr

Sampler = Callable[[], float]


def service_sampler(dist: str, mean: float, cv: float, rng: random.Random) -> Sampler:
    """Times with the given mean: exponential, constant, or lognormal with that CV."""
    if mean <= 0 or dist == "constant":
        return Constant(mean).sample
    if dist == "exponential":
        return Exponential(mean, rng).sample
    if dist == "lognormal":
        sigma2 = math.log(1.0 + cv * cv)
        return Lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), rng).sample
    raise ValueError(f"unknown distribution {dist!r}")


def gap_sampler(rate: float, cv: float, rng: random.Random) -> Sampler:
    """Gaps between arrivals at `rate` per second: Poisson for cv=1, hyperexponential with
    balanced means above 1, gamma below 1."""
    mean = 1.0 / rate
    if cv == 1.0:
        return Exponential(mean, rng).sample
    if cv > 1.0:
        c2 = cv * cv
        p1 = (1.0 + math.sqrt((c2 - 1.0) / (c2 + 1.0))) / 2.0
        return Hyperexponential(p1, mean / (2.0 * p1), mean / (2.0 * (1.0 - p1)), rng).sample
    shape = 1.0 / (cv * cv)
    return Gamma(shape, mean / shape, rng).sample


# Samplers are bound methods of small objects rather than closures: a simulation must
# survive pickle and deepcopy (checkpoints, simulations/replay.py), and a closure does not.
# They are no slower: the hot path calls them once per service time or arrival.

@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Constant:
    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value

    def sample(self) -> float:
        return self.value


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Exponential:
    __slots__ = ("mean", "rand")

    def __init__(self, mean: float, rng: random.Random):
        self.mean, self.rand = mean, rng.random

    def sample(self) -> float:
        return -self.mean * math.log(1.0 - self.rand())


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Hyperexponential:
    """Exponential with mean m1 (probability p1) or m2."""

    __slots__ = ("p1", "m1", "m2", "rand")

    def __init__(self, p1: float, m1: float, m2: float, rng: random.Random):
        self.p1, self.m1, self.m2, self.rand = p1, m1, m2, rng.random

    def sample(self) -> float:
        rand = self.rand
        return -(self.m1 if rand() < self.p1 else self.m2) * math.log(1.0 - rand())


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Lognormal:
    __slots__ = ("mu", "sigma", "rng")

    def __init__(self, mu: float, sigma: float, rng: random.Random):
        self.mu, self.sigma, self.rng = mu, sigma, rng

    def sample(self) -> float:
        return self.rng.lognormvariate(self.mu, self.sigma)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Gamma:
    __slots__ = ("shape", "scale", "rng")

    def __init__(self, shape: float, scale: float, rng: random.Random):
        self.shape, self.scale, self.rng = shape, scale, rng

    def sample(self) -> float:
        return self.rng.gammavariate(self.shape, self.scale)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
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

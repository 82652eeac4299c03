"""Quorum stores (N replicas, read quorum R, write quorum W, exponential replica contacts):
response times and stale reads."""

from __future__ import annotations

import math


def contact_moments(quorum: int, asked: int, mean_s: float) -> tuple[float, float]:
    """Mean and variance of the time until `quorum` of `asked` exponential contacts
    (mean `mean_s`) have answered: the quorum-th order statistic, a sum of exponential
    gaps with rates asked/m, (asked-1)/m, ... (Renyi)."""
    gaps = [mean_s / (asked - i) for i in range(min(quorum, asked))]
    return math.fsum(gaps), math.fsum(g * g for g in gaps)


def stale_read_probability(n: int, r: int, w: int, mean_s: float, write_rate: float) -> float:
    """P(a read misses the newest committed write of its key), keys written at Poisson rate
    `write_rate`. At commit W replicas hold the write; each of the other N - W still lacks
    it a time a later with probability exp(-a/m). The read asks R of N at random and misses
    only if all R are among those N - W and all still lack it: C(N-W, R)/C(N, R) e^{-Ra/m}.
    The age a of the newest commit is Exp(write rate) (commits of an M/G/inf are Poisson),
    so E[e^{-Ra/m}] = w m / (w m + R). Writes still in flight are ignored: exact as w m -> 0,
    an overestimate otherwise (a newer, uncommitted version also makes a read fresh)."""
    if r + w > n or write_rate <= 0:
        return 0.0
    wm = write_rate * mean_s
    return math.comb(n - w, r) / math.comb(n, r) * wm / (wm + r)

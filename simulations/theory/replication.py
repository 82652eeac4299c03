"""Replication: the delay from a write's commit to its apply on a replica, and the share of
replica reads that miss the latest write of their key."""

from __future__ import annotations

import math


def apply_delays(write_rate: float, lag_s: float, dist: str, n: int = 128) -> list[float]:
    """n quantiles of the time from a write's commit to its apply on a replica.

    Replicas apply writes in commit order, so a write also waits for every earlier write
    still in flight. With Poisson writes (rate W) and exponential lags (mean L):
    P(delay <= t) = (1 - e^{-t/L}) exp(-W L e^{-t/L}). A constant lag keeps the order itself.
    """
    if lag_s <= 0:
        return [0.0]
    if dist == "constant":
        return [lag_s]
    a = write_rate * lag_s
    out = []
    for k in range(n):
        q = (k + 0.5) / n
        lo, hi = 0.0, 1.0  # u = e^{-t/L}: (1 - u) e^{-a u} falls from 1 to 0 on [0, 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if (1.0 - mid) * math.exp(-a * mid) > q:
                lo = mid
            else:
                hi = mid
        out.append(-lag_s * math.log(0.5 * (lo + hi)))
    return out


def stale_read_ratio(read_shape: list[float], write_rates: list[float], lag_s: float,
                     dist: str) -> float:
    """Share of replica reads that miss the latest write of their key.

    A read of key i is stale iff the latest write of i (its age ~ Exp(w_i)) is not applied
    yet: P = E[1 - exp(-w_i D)] over the apply delay D. For one key, or a constant lag, this
    is queueing.stale_read_ratio; with many keys the shared log makes D longer than the lag.
    Keys are binned by write rate (1/64 of an e-fold) to keep a million keys fast.
    """
    total = math.fsum(write_rates)
    if total <= 0 or lag_s <= 0:
        return 0.0
    delays = apply_delays(total, lag_s, dist)
    bins: dict[int, list[float]] = {}
    for q, w in zip(read_shape, write_rates, strict=False):
        if q > 0 and w > 0:
            b = bins.setdefault(math.floor(math.log(w) * 64), [0.0, 0.0])
            b[0] += q
            b[1] += q * w
    return math.fsum(
        mass * math.fsum(-math.expm1(-qw / mass * d) for d in delays) / len(delays)
        for mass, qw in bins.values())

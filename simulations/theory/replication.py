"""Asynchronous replication: the delay from a write's commit to its apply on a replica, and
the share of replica reads that miss the latest write of their key."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .inputs import _nonneg, _popularity


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


def stale_read_ratio_shared_log(read_shape: list[float], write_rates: list[float], lag_s: float,
                                dist: str) -> float:
    """Share of replica reads that miss the latest write of their key, when the replica
    applies every key's writes in one log, in commit order (as the engine's replicas do).

    A read of key i is stale iff the latest write of i (its age ~ Exp(w_i)) is not applied
    yet: P = E[1 - exp(-w_i D)] over the apply delay D. For one key, or a constant lag, this
    is stale_read_ratio_per_key; with many keys the shared log makes D longer than the lag.
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


_CONSTANT = frozenset({"constant", "deterministic", "fixed"})


_EXPONENTIAL = frozenset({"exponential", "exp"})


def async_stale_read_probability(
    write_rate_per_key: float,
    lag_mean: float,
    dist: str = "exponential",
    *,
    in_order: bool = True,
) -> float:
    """P(stale read) = 1 - exp(-w E[lag]) for Poisson writes applied in order, any lag law.

    Derivation (PASTA: a Poisson read sees the time-stationary state).
    Writes commit at the points c_j of a Poisson(w) process, each with an
    independent lag l_j.  With in-order application the replica applies write
    k at a_k = max_{j<=k} (c_j + l_j).  The read at t is stale iff the latest
    write k* before t has a_{k*} > t, i.e. iff SOME write j committed before t
    is still in transit (c_j + l_j > t).  Marking each past write at age u
    with probability P(lag > u), the in-transit writes form a Poisson count
    with mean w * int_0^inf P(lag > u) du = w E[lag] (displacement/thinning
    theorem), so P(fresh) = exp(-w E[lag]) for ANY lag distribution --
    constant L gives 1 - exp(-w L) (stale iff a write committed in (t-L, t]).

    ``in_order=False`` models independent application with last-writer-wins
    (stale iff the latest write itself is in transit):
    P = int_0^inf w e^{-w u} P(lag > u) du, which is 1 - exp(-w L) for
    constant lag and w L / (1 + w L) for exponential lag.
    """
    w = _nonneg("write_rate_per_key", write_rate_per_key)
    lag = _nonneg("lag_mean", lag_mean)
    kind = str(dist).lower()
    if kind not in _CONSTANT and kind not in _EXPONENTIAL:
        raise ValueError(f"dist must be 'constant' or 'exponential', got {dist!r}")
    x = w * lag
    if in_order or kind in _CONSTANT:
        return float(-math.expm1(-x))
    return float(x / (1.0 + x))


def stale_read_ratio_per_key(
    read_popularity: Sequence[float],
    write_rates_per_key: Sequence[float],
    lag_mean: float,
    dist: str = "exponential",
    *,
    in_order: bool = True,
) -> float:
    """Stale-read fraction when each key's writes reach the replica apart from other keys'
    (no shared log): sum_i p_read_i P_stale(w_i) with async_stale_read_probability."""
    p = _popularity(read_popularity)
    ws = list(write_rates_per_key)
    if len(ws) != len(p):
        raise ValueError(
            f"read_popularity ({len(p)} keys) and write_rates_per_key "
            f"({len(ws)} keys) differ in length"
        )
    return float(
        math.fsum(
            pi * async_stale_read_probability(wi, lag_mean, dist, in_order=in_order)
            for pi, wi in zip(p, ws, strict=True)
        )
    )

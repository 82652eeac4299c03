"""Cache hit models: per key, the probability that a read finds its key cached.

Che's characteristic time for LRU [Che], its FIFO analogue, perfect LFU and TTL renewal
[Jung]; writes either fill an entry or, under write_around, remove it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .inputs import _integer, _nonneg, _popularity
from .roots import illinois

CHE_MODEL = "Che approximation (LRU)"


FIFO_MODEL = ("Che-like FIFO approximation, hit_i = p_i T / (1 + p_i T) "
              "(Fricker, Robert, Roberts 2012; Martina et al. 2014)")


LFU_MODEL = "perfect-LFU approximation (the capacity_keys most requested keys stay cached)"


TTL_MODEL = "TTL renewal model (Jung, Berger, Balakrishnan 2003)"


def _lru_present(r: float, w: float, t: float, around: bool) -> float:
    """Che: a key is cached iff touched within the characteristic time t. Reads touch; writes
    touch too (they fill the entry) unless write_around, where a write removes the entry."""
    rate = r + w
    if rate <= 0:
        return 0.0
    touched = -math.expm1(-rate * t)
    return r / rate * touched if around else touched


def _lifetime_present(r: float, w: float, life: float, around: bool) -> float:
    """P(key cached) when an entry lives `life` after its fill (FIFO's Che time, or a TTL).

    Renewal: a fill starts an up period; writes refill (resetting the clock) unless
    write_around, where a write ends it; a read after it ends misses and refills.
    """
    if around:
        if r <= 0:
            return 0.0
        up = -math.expm1(-w * life) / w if w > 0 else life
        return 1.0 if math.isinf(up) else up * r / (up * r + 1.0)
    if r + w <= 0:
        return 0.0
    if math.isinf(life) or w * life > 700:
        return 1.0
    up = math.expm1(w * life) / w if w > 0 else life
    return up * (r + w) / (up * (r + w) + 1.0)


def _characteristic_time(occupancy: Callable[[float], float], capacity: float) -> float:
    """T with occupancy(T) = capacity, by Illinois on ln T. Occupancy increases with T and,
    with rates that sum to 1, is at most T: so T >= capacity."""
    if occupancy(math.inf) <= capacity:
        return math.inf

    def f(x: float) -> float:
        return occupancy(math.exp(x)) - capacity

    lo = math.log(capacity)  # f(lo) <= 0
    f_lo, hi = f(lo), lo + 1.0
    f_hi = f(hi)
    while f_hi < 0:
        if hi > 700:  # exp would overflow: only keys with negligible rates are left out
            return math.inf
        lo, f_lo, hi = hi, f_hi, hi + 1.0
        f_hi = f(hi)
    x = illinois(f, lo, f_lo, hi, f_hi, lambda x, fx, lo, hi: abs(fx) <= 1e-12 * capacity
                 or hi - lo <= 1e-14 * max(1.0, abs(x)))[0]
    return math.exp(x)


def cache_presence(settings: dict[str, Any], reads: list[float], writes: list[float]
                   ) -> tuple[list[float] | None, str]:
    """P(key i is cached when a read of it arrives), per key, and the model used.

    `reads` and `writes` are per-key rates (per second) at the cache. None: not predicted.
    """
    n = max(len(reads), len(writes))
    rows = list(zip(reads + [0.0] * (n - len(reads)), writes + [0.0] * (n - len(writes)),
                    strict=True))
    capacity, ttl = settings["capacity_keys"], settings["ttl_s"]
    around = settings["write_policy"] == "write_around"
    eviction = settings["eviction"]
    # Writes insert keys too, except under write_around.
    inserted = [r > 0 if around else r + w > 0 for r, w in rows]
    if capacity == 0:
        return [0.0] * n, "capacity 0: every read misses"
    if sum(inserted) <= capacity:
        if ttl is None:
            return [float(k) for k in inserted], "every key fits: nothing is evicted"
        return [_lifetime_present(r, w, ttl, around) for r, w in rows], TTL_MODEL
    if eviction == "lfu":
        if ttl is not None or around:
            return None, "not predicted: LFU with a TTL or write_around"
        return _perfect_lfu(rows, capacity), LFU_MODEL
    present_at = _lru_present if eviction == "lru" else _lifetime_present
    # Presence depends on rate x time only: solve with rates summing to 1 (t in mean gaps).
    total = math.fsum(r + w for r, w in rows)
    rows = [(r / total, w / total) for r, w in rows]
    groups = _group_keys(rows) if n > EXACT_KEYS else [(r, w, 1) for r, w in rows]
    t = _characteristic_time(
        lambda t: math.fsum(k * present_at(r, w, t, around) for r, w, k in groups), capacity)
    if ttl is None:
        return [present_at(r, w, t, around) for r, w in rows], \
            CHE_MODEL if eviction == "lru" else FIFO_MODEL
    if eviction == "lru" and t >= ttl * total:
        # LRU keeps every entry touched within T >= ttl, so only expiry removes fresh entries.
        return [_lifetime_present(r, w, ttl * total, around) for r, w in rows], \
            TTL_MODEL + "; LRU never evicts a fresh entry here (Che time >= ttl_s)"
    return None, "not predicted: TTL with eviction"


EXACT_KEYS = 20_000  # beyond, the characteristic time is solved over groups of keys


def _group_keys(rows: list[tuple[float, float]], per_efold: int = 1024
                ) -> list[tuple[float, float, int]]:
    """Keys whose read and write rates agree within 0.1%, as (mean read, mean write, count):
    the per-key formulas are smooth, so the error is of second order (about 1e-8)."""
    log = math.log
    groups: dict[tuple, list] = {}
    for r, w in rows:
        k = (round(log(r) * per_efold) if r > 0 else None,
             round(log(w) * per_efold) if w > 0 else None)
        g = groups.get(k)
        if g is None:
            g = groups[k] = [0.0, 0.0, 0]
        g[0] += r
        g[1] += w
        g[2] += 1
    return [(r / k, w / k, k) for r, w, k in groups.values()]


def _perfect_lfu(rows: list[tuple[float, float]], capacity: int) -> list[float]:
    """The `capacity` keys requested most often are always cached."""
    present = [0.0] * len(rows)
    hottest = sorted(range(len(rows)), key=lambda i: -(rows[i][0] + rows[i][1]))
    for i in hottest[:capacity]:
        present[i] = 1.0 if rows[i][0] + rows[i][1] > 0 else 0.0
    return present


def flush_rates(writes: list[float], flush_s: float) -> list[float]:
    """Write-behind: per-key rate of the flushed writes (coalesced, so <= the write rate).

    The first write after a flush arms the timer and flush_s later every dirty key goes
    downstream once: a cycle lasts 1/W + flush_s, and key i is in it unless neither the
    arming write (i with probability w_i/W) nor any write of the next flush_s is to i.
    """
    total = math.fsum(writes)
    if total <= 0:
        return [0.0] * len(writes)
    cycle = 1.0 / total + flush_s
    return [(1.0 - (1.0 - w / total) * math.exp(-w * flush_s)) / cycle for w in writes]


def zipf_popularity(n: int, s: float) -> list[float]:
    """Zipf law over ranks 1..n: p_i = i^-s / sum_j j^-s (s = 0 is uniform)."""
    n = _integer("n (number of keys)", n, 1)
    s = _nonneg("s (Zipf exponent)", s)
    w = [i ** (-s) for i in range(1, n + 1)]
    total = math.fsum(w)
    return [float(x / total) for x in w]


def che_lru_hit_ratio(popularity: Sequence[float], capacity: float) -> float:
    """APPROXIMATION (Che) for LRU: sum_i(1-e^{-p_i T}) = C; hit = sum_i p_i(1-e^{-p_i T}) [Che].

    Independent reference model, request rate normalised to 1, ``popularity``
    sums to 1.  Returns 0.0 for capacity 0 and 1.0 when the capacity is at
    least the number of keys with positive popularity.  For uniform
    popularity it is exactly capacity / n.
    """
    p = _popularity(popularity)
    capacity = _nonneg("capacity", capacity, allow_inf=True)
    if capacity == 0.0:
        return 0.0
    positive = [x for x in p if x > 0.0]
    if capacity >= len(positive):
        return 1.0  # every requested key fits: only cold misses, hit ratio -> 1
    t = _characteristic_time(
        lambda t: math.fsum(_lru_present(x, 0.0, t, False) for x in positive), capacity)
    hit = math.fsum(x * _lru_present(x, 0.0, t, False) for x in positive)
    return float(min(1.0, max(0.0, hit)))


def ttl_hit_ratio(popularity: Sequence[float], rate: float, ttl: float) -> float:
    """TTL-from-fill cache, Poisson IRM: sum_i p_i x_i/(1 + x_i), x_i = p_i rate ttl [Jung 2003].

    Renewal–reward: a miss fills key i; the lam_i ttl expected requests in
    the following ttl are hits (reads do not extend the expiry); the first
    request after expiry is the cycle's single miss.
    """
    p = _popularity(popularity)
    rate = _nonneg("rate (total request rate)", rate)
    ttl = _nonneg("ttl", ttl, allow_inf=True)
    if ttl == 0.0 or rate == 0.0:
        return 0.0
    if math.isinf(ttl):
        return float(math.fsum(pi for pi in p if pi > 0.0))
    parts = []
    for pi in p:
        x = pi * rate * ttl
        parts.append(pi * x / (1.0 + x))
    total = math.fsum(parts)
    return float(min(1.0, max(0.0, total)))

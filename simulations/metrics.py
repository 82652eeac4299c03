"""Bounded-memory, hot-path metrics for the simulation engine.

Pure Python, standard library only (never imports Django or numpy).

* :class:`LatencyHistogram` -- DDSketch-style streaming histogram of positive
  values (milliseconds) with at most 1% relative error on every quantile and
  exact count / sum / mean / min / max.
* :class:`TimeAverage` -- time-weighted average of a piecewise-constant
  quantity (queue length, busy workers), with a warm-up ``mark``.

Quantile rank convention (``LatencyHistogram.quantile``): for ``n`` recorded
values sorted ascending as ``x[0] <= ... <= x[n-1]``, ``quantile(q)``
estimates ``x[floor(q * (n - 1))]`` -- numpy's ``method="lower"``.  For every
input the estimate is within ``ALPHA`` (1%) relative error of that order
statistic (values ``<= ZERO_FLOOR`` are reported as exactly ``0.0``); for
large samples of a continuous distribution it also agrees with numpy's
default ``method="linear"`` within the same 1%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

__all__ = [
    "ALPHA",
    "GAMMA",
    "ZERO_FLOOR",
    "LatencyHistogram",
    "TimeAverage",
]

# Final: compiled with mypyc, these are C constants rather than names looked up per use.
#: Guaranteed relative accuracy of every quantile.
ALPHA: Final = 0.01
#: Bucket growth factor: bucket ``i`` holds values in ``(GAMMA**(i-1), GAMMA**i]``.
GAMMA: Final = (1.0 + ALPHA) / (1.0 - ALPHA)
#: Values ``<= ZERO_FLOOR`` go to the zero bucket and are reported as ``0.0``.
ZERO_FLOOR: Final = 1e-6

_LOG_GAMMA = math.log(GAMMA)
# Bucket index ceil(log(x) / log(GAMMA)) is computed as
# ceil(log2(x) * _INV_LOG2_GAMMA): the same quantity, but math.log2 is about
# 3x faster than math.log (no optional-base argument parsing).  Rounding can
# only move a value lying (to ~1e-15) on a bucket boundary into the
# neighbouring bucket, whose representative is also within ALPHA of it.
_INV_LOG2_GAMMA: Final = 1.0 / math.log2(GAMMA)
_log2: Final = math.log2
# Representative value of bucket i: 2 * GAMMA**i / (GAMMA + 1)
#   = exp(i * log(GAMMA) + log(2 / (GAMMA + 1))); relative error <= ALPHA.
_LOG_REP_FACTOR = math.log(2.0 / (GAMMA + 1.0))
_INF = math.inf


def _bucket_value(index: int) -> float:
    """Representative value of bucket ``index`` (inf if it overflows)."""
    try:
        return math.exp(index * _LOG_GAMMA + _LOG_REP_FACTOR)
    except OverflowError:
        return _INF


class LatencyHistogram:
    """Streaming log-bucket histogram (DDSketch, ``alpha = 0.01``).

    ``record(x)`` accepts finite floats; values ``<= ZERO_FLOOR`` (including
    zero and negatives) are counted in a zero bucket whose quantile value is
    ``0.0``.  Count, sum, min and max are exact, so ``mean()`` is exact.
    Memory is one dict entry per distinct non-empty bucket: about 1,400
    buckets cover ``1e-3 .. 1e9`` ms.
    """

    __slots__ = ("_bins", "_zero", "_sum", "_min", "_max")

    def __init__(self) -> None:
        self._bins: dict[int, int] = {}
        self._zero = 0
        self._sum = 0.0
        self._min = _INF
        self._max = -_INF

    # -- hot path ---------------------------------------------------------

    def record(self, x: float) -> None:
        """Record one value (ms).  O(1), no allocation once the bucket exists."""
        self._sum += x
        if x < self._min:
            self._min = x
        if x > self._max:
            self._max = x
        if x > ZERO_FLOOR:
            i = math.ceil(_log2(x) * _INV_LOG2_GAMMA)
            b = self._bins
            b[i] = b.get(i, 0) + 1
        else:
            self._zero += 1

    # -- aggregates -------------------------------------------------------

    @property
    def count(self) -> int:
        """Exact number of recorded values."""
        return self._zero + sum(self._bins.values())

    @property
    def sum(self) -> float:
        """Exact (float) sum of recorded values."""
        return self._sum

    @property
    def min(self) -> float | None:
        """Exact smallest recorded value, None if empty."""
        return None if self._min == _INF else self._min

    @property
    def max(self) -> float | None:
        """Exact largest recorded value, None if empty."""
        return None if self._max == -_INF else self._max

    @property
    def num_buckets(self) -> int:
        """Number of non-empty buckets held (the memory footprint)."""
        return len(self._bins) + (1 if self._zero else 0)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self._zero > 0 or bool(self._bins)

    def mean(self) -> float | None:
        """Exact mean, None if empty."""
        n = self.count
        return self._sum / n if n else None

    # -- quantiles --------------------------------------------------------

    def quantile(self, q: float) -> float | None:
        """Estimate of ``x[floor(q * (n - 1))]`` within 1%; None if empty."""
        return self.quantiles((q,))[0]

    def quantiles(self, qs: Iterable[float]) -> list[float | None]:
        """Several quantiles with a single pass over the sorted buckets."""
        qs = list(qs)
        for q in qs:
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"quantile must be in [0, 1], got {q!r}")
        n = self.count
        if n == 0:
            return [None] * len(qs)
        zero = self._zero
        lo, hi = self._min, self._max
        keys = sorted(self._bins)
        bins = self._bins
        order = sorted(range(len(qs)), key=qs.__getitem__)
        last = n - 1
        out: list[float | None] = [None] * len(qs)
        pos = 0  # index into keys
        cum = zero  # number of values in buckets before keys[pos]
        for j in order:
            rank = int(qs[j] * (n - 1))  # 0-based order statistic wanted
            if rank < zero:
                out[j] = 0.0
                continue
            if rank == last:  # the largest value is known exactly
                out[j] = hi
                continue
            if rank == 0:  # no zero bucket: the smallest value is exact
                out[j] = lo
                continue
            while cum + bins[keys[pos]] <= rank:
                cum += bins[keys[pos]]
                pos += 1
            v = _bucket_value(keys[pos])
            # The true order statistic lies in [min, max]; clamping never
            # increases the error.
            out[j] = lo if v < lo else hi if v > hi else v
        return out

    def summary(
        self, quantiles: Iterable[float] = (0.5, 0.9, 0.95, 0.99)
    ) -> dict[str, float | None]:
        """``{"mean", "p50", "p90", ..., "max"}`` rounded to 3 decimals.

        Keys are ``"p" + format(100 * q, "g")`` (0.999 -> ``"p99.9"``).
        Values are None when the histogram is empty.
        """
        qs = tuple(quantiles)
        vals = self.quantiles(qs)
        mean = self.mean()
        out: dict[str, float | None] = {"mean": None if mean is None else round(mean, 3)}
        for q, v in zip(qs, vals, strict=True):
            out["p" + format(round(q * 100, 6), "g")] = None if v is None else round(v, 3)
        mx = self.max
        out["max"] = None if mx is None else round(mx, 3)
        return out

    # -- combination ------------------------------------------------------

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        """Add ``other``'s values into ``self`` (in place); returns ``self``."""
        bins = self._bins
        get = bins.get
        for i, c in other._bins.items():
            bins[i] = get(i, 0) + c
        self._zero += other._zero
        self._sum += other._sum
        if other._min < self._min:
            self._min = other._min
        if other._max > self._max:
            self._max = other._max
        return self

    def minus(self, earlier: LatencyHistogram) -> LatencyHistogram:
        """The values recorded since ``earlier``, a copy of this histogram taken before.

        Count and sum are exact; min and max are those of the outermost buckets (within
        ``ALPHA``), so every quantile keeps its 1% bound.
        """
        h = LatencyHistogram()
        get = earlier._bins.get
        for i, c in self._bins.items():
            d = c - get(i, 0)
            if d > 0:
                h._bins[i] = d
        h._zero = self._zero - earlier._zero
        h._sum = self._sum - earlier._sum
        if h._bins:
            h._min = _bucket_value(min(h._bins))
            h._max = _bucket_value(max(h._bins))
        if h._zero:
            h._min = 0.0
            if not h._bins:
                h._max = 0.0
        return h

    def copy(self) -> LatencyHistogram:
        h = LatencyHistogram()
        return h.merge(self)

    def reset(self) -> None:
        """Forget everything (keeps the dict object)."""
        self._bins.clear()
        self._zero = 0
        self._sum = 0.0
        self._min = _INF
        self._max = -_INF

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self.count}, buckets={self.num_buckets})"


class TimeAverage:
    """Time-weighted average of a piecewise-constant quantity.

    ``update(now, v)`` says the quantity becomes ``v`` at time ``now``
    (times must be non-decreasing).  ``mean(now)`` is the integral of the
    quantity over ``[mark, now]`` divided by ``now - mark``.
    """

    __slots__ = ("_start", "_last", "_value", "_area")

    def __init__(self, start: float = 0.0, value: float = 0.0) -> None:
        self._start = start
        self._last = start
        self._value = value
        self._area = 0.0

    def update(self, now: float, new_value: float) -> None:
        """The quantity changes to ``new_value`` at ``now``.  O(1)."""
        self._area += self._value * (now - self._last)
        self._last = now
        self._value = new_value

    def mark(self, now: float) -> None:
        """Start the averaging window at ``now`` (warm-up end).

        Everything before ``now`` is forgotten; the current value is kept.
        """
        self._start = now
        self._last = now
        self._area = 0.0

    def mean(self, now: float) -> float:
        """Time average over ``[mark, now]``; 0.0 if the window is empty."""
        span = now - self._start
        if span <= 0.0:
            return 0.0
        return (self._area + self._value * (now - self._last)) / span

    def integral(self, now: float) -> float:
        """Integral of the quantity over ``[mark, now]``."""
        return self._area + self._value * (now - self._last)

    @property
    def value(self) -> float:
        """Current value."""
        return self._value

    @property
    def start(self) -> float:
        """Start of the averaging window."""
        return self._start

"""Tests for simulations.metrics.

Quantile rank convention used throughout (and by LatencyHistogram.quantile):
for n values sorted ascending, the exact q-quantile is the order statistic
``sorted(xs)[floor(q * (n - 1))]`` (numpy's ``method="lower"``).  Every
estimate must be within ALPHA (1%) relative error of it; values
``<= ZERO_FLOOR`` are reported as exactly 0.0.
"""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations.metrics import (
    ALPHA,
    ZERO_FLOOR,
    LatencyHistogram,
    TimeAverage,
)

QS = (0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)
# The required accuracy is 1%, whatever the module's ALPHA; the slack covers
# float rounding for values lying exactly on a bucket boundary.
TOL = 0.01 * (1 + 1e-9)


def test_alpha_is_one_percent():
    assert ALPHA == 0.01


def exact_quantile(sorted_xs, q):
    """The reference: the floor(q * (n - 1))-th smallest value."""
    return sorted_xs[int(q * (len(sorted_xs) - 1))]


def assert_close(estimate, exact, *, what=""):
    if exact <= ZERO_FLOOR:
        assert estimate == 0.0, what
    else:
        assert abs(estimate - exact) <= TOL * exact, (what, estimate, exact)


def histogram_of(xs):
    h = LatencyHistogram()
    for x in xs:
        h.record(x)
    return h


def sample(kind, n=100_000, seed=12345):
    rng = random.Random(seed)
    if kind == "exponential":
        return [rng.expovariate(1 / 50.0) for _ in range(n)]  # mean 50 ms
    if kind == "lognormal":
        return [rng.lognormvariate(math.log(20.0), 2.0) for _ in range(n)]
    if kind == "uniform":
        return [rng.uniform(1.0, 1000.0) for _ in range(n)]
    raise ValueError(kind)


DISTRIBUTIONS = ("exponential", "lognormal", "uniform")


# -- LatencyHistogram -------------------------------------------------------


@pytest.mark.parametrize("kind", DISTRIBUTIONS)
def test_quantiles_of_large_samples_within_one_percent(kind):
    xs = sample(kind)
    h = histogram_of(xs)
    s = sorted(xs)
    for q in QS:
        assert_close(h.quantile(q), exact_quantile(s, q), what=(kind, q))
    # The batch form agrees with the single form.
    assert h.quantiles(QS) == [h.quantile(q) for q in QS]
    # Extremes are exact (estimates are clamped to [min, max]).
    assert h.quantile(0.0) == s[0] == h.min
    assert h.quantile(1.0) == s[-1] == h.max


@pytest.mark.parametrize("kind", DISTRIBUTIONS)
def test_large_samples_match_numpy_default_quantile(kind):
    np = pytest.importorskip("numpy")
    xs = sample(kind)
    h = histogram_of(xs)
    for q in (0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999):
        ref = float(np.quantile(np.asarray(xs), q))  # method="linear"
        assert abs(h.quantile(q) - ref) <= TOL * ref, (kind, q)


@pytest.mark.parametrize("kind", DISTRIBUTIONS)
def test_count_sum_mean_min_max_are_exact(kind):
    xs = sample(kind)
    h = histogram_of(xs)
    assert h.count == len(xs) == len(h)
    total = 0.0
    for x in xs:  # same accumulation order as record()
        total += x
    assert h.sum == total
    assert h.mean() == total / len(xs)
    assert math.isclose(h.mean(), math.fsum(xs) / len(xs), rel_tol=1e-12)
    assert h.min == min(xs)
    assert h.max == max(xs)


def test_empty_histogram():
    h = LatencyHistogram()
    assert h.count == 0
    assert not h
    assert h.quantile(0.5) is None
    assert h.mean() is None
    assert h.max is None and h.min is None
    assert h.summary() == {
        "mean": None,
        "p50": None,
        "p90": None,
        "p95": None,
        "p99": None,
        "max": None,
    }


def test_quantile_rejects_out_of_range_q():
    h = histogram_of([1.0])
    for q in (-0.01, 1.01, math.nan):
        with pytest.raises(ValueError):
            h.quantile(q)


def test_summary_rounds_to_three_decimals():
    xs = sample("exponential", n=10_000, seed=7)
    h = histogram_of(xs)
    s = h.summary()
    assert list(s) == ["mean", "p50", "p90", "p95", "p99", "max"]
    assert s["mean"] == round(h.mean(), 3)
    assert s["max"] == round(max(xs), 3)
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        assert s[key] == round(h.quantile(q), 3)
    assert list(h.summary((0.999, 0.5))) == ["mean", "p99.9", "p50", "max"]


def test_zero_bucket():
    h = histogram_of([0.0, 5e-7, ZERO_FLOOR, 2.0, 3.0])
    assert h.count == 5
    assert h.min == 0.0
    assert h.quantile(0.0) == 0.0
    assert h.quantile(0.5) == 0.0  # rank floor(0.5 * 4) = 2 -> ZERO_FLOOR -> 0
    assert_close(h.quantile(0.75), 2.0)
    assert h.quantile(1.0) == 3.0
    assert h.mean() == (5e-7 + ZERO_FLOOR + 5.0) / 5


def test_single_value_is_exact():
    h = histogram_of([123.456])
    assert all(h.quantile(q) == 123.456 for q in QS)


def test_merge_equals_recording_everything_in_one():
    xs = sample("lognormal", n=30_000, seed=3) + [0.0, 1e-7]
    random.Random(4).shuffle(xs)
    one = histogram_of(xs)
    parts = [histogram_of(xs[i::3]) for i in range(3)]
    merged = LatencyHistogram()
    for p in parts:
        assert merged.merge(p) is merged
    grid = [i / 1000 for i in range(1001)]
    assert merged.quantiles(grid) == one.quantiles(grid)
    assert merged.count == one.count
    assert merged.num_buckets == one.num_buckets
    assert merged.min == one.min and merged.max == one.max
    assert math.isclose(merged.sum, one.sum, rel_tol=1e-12)
    # Merging does not alter the source; merging an empty one changes nothing.
    assert parts[0].count == len(xs[0::3])
    before = merged.quantiles(grid)
    merged.merge(LatencyHistogram())
    assert merged.quantiles(grid) == before


def test_copy_and_reset():
    h = histogram_of(sample("uniform", n=1000))
    c = h.copy()
    h.reset()
    assert h.count == 0 and h.num_buckets == 0 and h.sum == 0.0
    assert h.quantile(0.5) is None and h.max is None
    assert c.count == 1000
    h.record(7.0)
    assert h.quantile(0.5) == 7.0 and h.max == 7.0 and h.min == 7.0


def test_memory_bounded_over_twelve_orders_of_magnitude():
    rng = random.Random(99)
    xs = [10.0 ** rng.uniform(-3.0, 9.0) for _ in range(1_000_000)]
    h = histogram_of(xs)
    assert h.count == 1_000_000
    # log(1e12) / log(GAMMA) ~ 1,382 buckets.
    assert h.num_buckets < 2000
    s = sorted(xs)
    for q in QS:
        assert_close(h.quantile(q), exact_quantile(s, q), what=q)


positive_floats = st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    xs=st.lists(positive_floats, min_size=1, max_size=200),
    q=st.floats(min_value=0.0, max_value=1.0),
)
def test_property_quantile_within_one_percent(xs, q):
    h = histogram_of(xs)
    assert_close(h.quantile(q), exact_quantile(sorted(xs), q), what=q)


@settings(max_examples=100, deadline=None)
@given(
    xs=st.lists(st.floats(min_value=1e-3, max_value=1e9), min_size=1, max_size=100),
    q=st.floats(min_value=0.0, max_value=1.0),
)
def test_property_quantile_typical_latencies(xs, q):
    h = histogram_of(xs)
    s = sorted(xs)
    assert_close(h.quantile(q), exact_quantile(s, q), what=q)
    assert h.min == s[0] and h.max == s[-1] and h.count == len(xs)


# -- TimeAverage ------------------------------------------------------------

# (time, new value) steps of a piecewise-constant function starting at 0 at t=0.
STEPS = [(0.0, 0.0), (2.0, 3.0), (5.0, 1.0), (9.0, 4.0), (12.5, 0.0), (14.0, 2.0)]


def integral(steps, a, b):
    """Integral over [a, b] of the step function, by summing rectangles."""
    total = 0.0
    for (t0, v), (t1, _) in zip(steps, [*steps[1:], (math.inf, None)], strict=True):
        lo, hi = max(t0, a), min(t1, b)
        if hi > lo:
            total += v * (hi - lo)
    return total


def test_time_average_step_function():
    ta = TimeAverage()
    for t, v in STEPS[1:]:
        ta.update(t, v)
    # By hand: 0*2 + 3*3 + 1*4 + 4*3.5 + 0*1.5 + 2*6 = 39 over [0, 20].
    assert integral(STEPS, 0.0, 20.0) == 39.0
    assert ta.mean(20.0) == pytest.approx(39.0 / 20.0)
    assert ta.integral(20.0) == pytest.approx(39.0)
    assert ta.value == 2.0
    # Querying never mutates the state.
    assert ta.mean(16.0) == pytest.approx(integral(STEPS, 0.0, 16.0) / 16.0)
    assert ta.mean(20.0) == pytest.approx(39.0 / 20.0)


def test_time_average_incremental_queries():
    ta = TimeAverage()
    applied = [STEPS[0]]
    for t, v in STEPS[1:]:
        ta.update(t, v)
        applied.append((t, v))
        for now in (t, t + 0.25, t + 1.0):
            assert ta.mean(now) == pytest.approx(integral(applied, 0.0, now) / now)


def test_time_average_mark_forgets_the_past_but_keeps_the_value():
    ta = TimeAverage()
    for t, v in STEPS[1:4]:  # up to the step to 4.0 at t=9
        ta.update(t, v)
    ta.mark(10.0)  # mid-segment: value 4.0 continues
    assert ta.start == 10.0
    assert ta.mean(10.0) == 0.0  # empty window
    assert ta.mean(11.0) == pytest.approx(4.0)
    for t, v in STEPS[4:]:
        ta.update(t, v)
    # [10, 12.5] at 4, [12.5, 14] at 0, [14, 20] at 2 -> (10 + 0 + 12) / 10.
    expected = integral(STEPS, 10.0, 20.0) / 10.0
    assert expected == pytest.approx(2.2)
    assert ta.mean(20.0) == pytest.approx(expected)


def test_time_average_empty_window_and_initial_value():
    assert TimeAverage().mean(0.0) == 0.0
    ta = TimeAverage(start=5.0, value=3.0)
    assert ta.mean(5.0) == 0.0
    assert ta.mean(7.0) == pytest.approx(3.0)


@pytest.mark.parametrize("kind", DISTRIBUTIONS)
def test_minus_holds_what_was_recorded_since_a_copy(kind):
    """The values since a copy (a live block of latencies): count and sum exact, every
    quantile within 1% of the order statistic of those values alone."""
    first, later = sample(kind)[:2000], sample(kind)[2000:]
    h = histogram_of(first)
    before = h.copy()
    for x in later:
        h.record(x)
    since = h.minus(before)
    assert since.count == len(later)
    assert math.isclose(since.sum, math.fsum(later), rel_tol=1e-9)
    s = sorted(later)
    for q in QS:
        assert_close(since.quantile(q), exact_quantile(s, q), what=(kind, q))
    assert not h.minus(h.copy())

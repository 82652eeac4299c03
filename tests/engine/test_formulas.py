"""Tests for simulations.theory: textbook values, limits, cross-checks and Monte-Carlo checks.

The Monte-Carlo tests use plain ``random`` with fixed seeds and compare with
3 standard errors (batch means where samples are autocorrelated).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import statistics
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations import theory as qt

# --------------------------------------------------------------------------
# Independent reference implementations (direct textbook sums)
# --------------------------------------------------------------------------


def erlang_b_direct(c: int, a: float) -> float:
    """B = (a^c/c!) / sum_{k<=c} a^k/k!, evaluated in log space."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
    m = max(logs)
    return math.exp(logs[c] - m) / math.fsum(math.exp(x - m) for x in logs)


def erlang_c_direct(c: int, a: float) -> float:
    """C = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a))."""
    terms = [a**k / math.factorial(k) for k in range(c)]
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (math.fsum(terms) + top)


def simpson(f, lo: float, hi: float, n: int = 4000) -> float:
    h = (hi - lo) / n
    s = f(lo) + f(hi)
    s += 4 * math.fsum(f(lo + i * h) for i in range(1, n, 2))
    s += 2 * math.fsum(f(lo + i * h) for i in range(2, n, 2))
    return s * h / 3


def mmc_response_survival_numeric(lam: float, mu: float, c: int, t: float) -> float:
    """P(T>t) by numerically convolving the M/M/c wait law with Exp(mu) service."""
    cw = erlang_c_direct(c, lam / mu)
    theta = c * mu - lam
    # Wq = 0 w.p. 1-C; else Wq ~ Exp(theta): P(Wq + S > t) = P(Wq > t) + int_0^t f(x) P(S > t-x)
    conv = simpson(lambda x: theta * math.exp(-theta * x) * math.exp(-mu * (t - x)), 0.0, t)
    return (1 - cw) * math.exp(-mu * t) + cw * (math.exp(-theta * t) + conv)


def batch_mean_se(xs: list[float], batches: int = 40) -> tuple[float, float]:
    size = len(xs) // batches
    means = [statistics.fmean(xs[i * size : (i + 1) * size]) for i in range(batches)]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(batches)


# --------------------------------------------------------------------------
# Erlang B / C
# --------------------------------------------------------------------------


def test_erlang_textbook_values():
    assert qt.erlang_b(1, 1.0) == pytest.approx(0.5, abs=1e-15)
    assert qt.erlang_b(2, 1.0) == pytest.approx(0.2, abs=1e-15)
    assert qt.erlang_c(2, 1.0) == pytest.approx(1 / 3, abs=1e-15)
    # Erlang B tables: B(10, 5) = 0.01838, B(5, 2) = 0.03670.
    assert qt.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-6)
    assert qt.erlang_b(5, 2.0) == pytest.approx(0.036697, abs=5e-6)
    # M/M/1: C = rho.
    assert qt.erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-14)
    assert qt.erlang_b(3, 0.0) == 0.0
    assert qt.erlang_c(3, 0.0) == 0.0
    assert isinstance(qt.erlang_b(3, 1), float)


@given(c=st.integers(1, 40), a=st.floats(0.01, 60.0))
def test_erlang_b_matches_direct_sum(c, a):
    assert qt.erlang_b(c, a) == pytest.approx(erlang_b_direct(c, a), rel=1e-9, abs=1e-300)


@given(c=st.integers(1, 40), frac=st.floats(0.01, 0.99))
def test_erlang_c_matches_direct_sum_and_exceeds_b(c, frac):
    a = frac * c
    cw = qt.erlang_c(c, a)
    assert cw == pytest.approx(erlang_c_direct(c, a), rel=1e-9, abs=1e-300)
    assert qt.erlang_b(c, a) <= cw <= 1.0


@pytest.mark.parametrize(("c", "a"), [(10_000, 9_500.0), (10_000, 9_990.0), (2_000, 2_500.0)])
def test_erlang_large_c_is_stable(c, a):
    b = qt.erlang_b(c, a)
    assert 0.0 < b < 1.0
    assert b == pytest.approx(erlang_b_direct(c, a), rel=1e-8)
    if a < c:
        assert b < qt.erlang_c(c, a) < 1.0


def test_erlang_invalid_input():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="c"):
            qt.erlang_b(bad, 1.0)
    with pytest.raises(ValueError):
        qt.erlang_b(2, -0.1)
    with pytest.raises(ValueError, match="a < c"):
        qt.erlang_c(2, 2.0)


# --------------------------------------------------------------------------
# M/M/c
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (3.0, 7.0), (0.0, 2.0)])
def test_mmc_with_one_server_is_mm1(lam, mu):
    m = qt.mmc(lam, mu, 1)
    rho = lam / mu
    assert m.rho == pytest.approx(rho)
    assert m.p_wait == pytest.approx(rho)
    assert m.mean_response == pytest.approx(1 / (mu - lam), rel=1e-12)
    assert m.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-12, abs=1e-15)
    assert m.mean_queue == pytest.approx(rho**2 / (1 - rho), rel=1e-12, abs=1e-15)
    assert m.mean_in_system == pytest.approx(rho / (1 - rho), rel=1e-12, abs=1e-15)
    assert qt.mm1(lam, mu) == m
    for q in (0.0, 0.5, 0.9, 0.99, 0.999):
        assert m.response_quantile(q) == pytest.approx(-math.log(1 - q) / (mu - lam), rel=1e-12)
        assert m.response_survival(m.response_quantile(q)) == pytest.approx(1 - q, rel=1e-9)


def test_mm2_closed_form():
    # M/M/2: L = 2 rho / (1 - rho^2), C = 2 rho^2 / (1 + rho).
    lam, mu = 1.5, 1.0
    rho = lam / (2 * mu)
    m = qt.mmc(lam, mu, 2)
    assert m.p_wait == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-13)
    assert m.mean_in_system == pytest.approx(2 * rho / (1 - rho**2), rel=1e-13)
    assert m.mean_response == pytest.approx(1 / (mu * (1 - rho**2)), rel=1e-13)


@given(
    c=st.integers(1, 60),
    frac=st.floats(0.01, 0.98),
    mu=st.floats(0.1, 100.0),
)
def test_mmc_littles_law_and_identities(c, frac, mu):
    lam = frac * c * mu
    m = qt.mmc(lam, mu, c)
    assert m.rho == pytest.approx(frac)
    assert m.mean_queue == pytest.approx(lam * m.mean_wait, rel=1e-9)
    assert m.mean_in_system == pytest.approx(m.mean_queue + lam / mu, rel=1e-9)
    assert m.mean_response == pytest.approx(m.mean_wait + 1 / mu, rel=1e-12)


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [
        (1.5, 1.0, 2),  # theta = 0.5 < mu
        (1.0, 1.0, 2),  # theta = mu: equal-rates limit
        (0.5, 1.0, 3),  # theta = 2.5 > mu
        (7.9, 1.0, 8),  # heavy load
        (2.0, 1.0, 3),  # theta = mu again
    ],
)
def test_mmc_response_survival_matches_numerical_convolution(lam, mu, c):
    m = qt.mmc(lam, mu, c)
    for t in (0.0, 0.3, 1.0, 2.5, 7.0, 15.0):
        expect = mmc_response_survival_numeric(lam, mu, c, t)
        assert m.response_survival(t) == pytest.approx(expect, rel=1e-8, abs=1e-14)


def test_mmc_response_survival_continuous_at_equal_rates():
    # c mu - lam -> mu from either side must approach the equal-rates limit e^{-t}(1 + C t).
    t = 1.7
    exact = qt.mmc(1.0, 1.0, 2)
    limit = math.exp(-t) * (1 + exact.p_wait * t)
    assert exact.response_survival(t) == pytest.approx(limit, rel=1e-14)
    for eps in (1e-6, 1e-9, 1e-12):
        for lam in (1.0 - eps, 1.0 + eps):
            assert qt.mmc(lam, 1.0, 2).response_survival(t) == pytest.approx(limit, rel=1e-5)


@given(
    c=st.integers(1, 30),
    frac=st.floats(0.01, 0.97),
    mu=st.floats(0.05, 50.0),
    q=st.floats(0.001, 0.9999),
)
@settings(deadline=None)
def test_mmc_response_quantile_inverts_cdf(c, frac, mu, q):
    m = qt.mmc(frac * c * mu, mu, c)
    t = m.response_quantile(q)
    assert t > 0
    assert m.response_survival(t) == pytest.approx(1 - q, rel=1e-9, abs=1e-15)
    # the response time is at least the service time: its quantile is >= Exp(mu)'s
    assert t >= -math.log1p(-q) / mu * (1 - 1e-12)


@given(c=st.integers(2, 64), frac=st.floats(0.05, 0.97), q=st.sampled_from([0.95, 0.99]))
@settings(deadline=None)
def test_mmc_response_quantile_takes_few_evaluations(c, frac, q):
    """Percentiles are a large design's main prediction cost (two per service, each
    bisection took some sixty evaluations of the CDF)."""
    m = qt.mmc(frac * c, 1.0, c)
    calls = []
    survival = m.response_survival
    object.__setattr__(m, "response_survival", lambda t: calls.append(t) or survival(t))
    m.response_quantile(q)
    assert len(calls) <= 30


def test_mmc_response_quantile_monotone_and_zero():
    m = qt.mmc(5.0, 1.0, 6)
    ts = [m.response_quantile(q) for q in (0.0, 0.1, 0.5, 0.9, 0.99, 0.999)]
    assert ts[0] == 0.0
    assert ts == sorted(ts)
    assert len(set(ts)) == len(ts)


def test_mmc_invalid_input():
    with pytest.raises(ValueError, match="unstable"):
        qt.mmc(2.0, 1.0, 2)
    with pytest.raises(ValueError, match="unstable"):
        qt.mmc(3.0, 1.0, 2)
    with pytest.raises(ValueError):
        qt.mmc(1.0, 1.0, 0)
    with pytest.raises(ValueError):
        qt.mmc(1.0, 0.0, 2)
    with pytest.raises(ValueError):
        qt.mmc(-1.0, 1.0, 2)
    m = qt.mmc(1.0, 1.0, 2)
    for q in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="q"):
            m.response_quantile(q)


def test_mm2_response_quantile_monte_carlo():
    """FCFS M/M/2 (Kiefer-Wolfowitz: each arrival takes the earliest-free server)."""
    lam, mu, c = 1.5, 1.0, 2
    model = qt.mmc(lam, mu, c)
    rng = random.Random(20240611)
    free = [0.0] * c
    t = 0.0
    resp: list[float] = []
    warm, n = 20_000, 420_000
    for i in range(n):
        t += rng.expovariate(lam)
        start = max(t, heapq.heappop(free))
        done = start + rng.expovariate(mu)
        heapq.heappush(free, done)
        if i >= warm:
            resp.append(done - t)
    mean, se = batch_mean_se(resp)
    assert abs(mean - model.mean_response) < 3 * se
    for q in (0.5, 0.9, 0.99):
        tq = model.response_quantile(q)
        frac, se = batch_mean_se([1.0 if r > tq else 0.0 for r in resp])
        assert abs(frac - (1 - q)) < 3 * se, (q, frac, se)
    # Power check: a naive exponential with mean W would be rejected at the median.
    naive = model.mean_response * math.log(2)
    frac, se = batch_mean_se([1.0 if r > naive else 0.0 for r in resp])
    assert abs(frac - 0.5) > 3 * se


# --------------------------------------------------------------------------
# M/M/c/K
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "a"), [(1, 1.0), (2, 1.5), (5, 3.0), (10, 25.0), (50, 40.0)])
def test_mmck_with_k_equal_c_is_erlang_b(c, a):
    r = qt.mmck(a, 1.0, c, c)
    assert r.p_block == pytest.approx(qt.erlang_b(c, a), rel=1e-12)
    assert r.mean_wait == pytest.approx(0.0, abs=1e-15)
    assert r.mean_queue == pytest.approx(0.0, abs=1e-15)
    assert r.mean_response == pytest.approx(1.0, rel=1e-12)
    assert r.p_wait == 0.0


@pytest.mark.parametrize(("lam", "mu", "c"), [(0.5, 1.0, 1), (1.5, 1.0, 2), (7.0, 2.0, 4)])
def test_mmck_with_large_k_converges_to_mmc(lam, mu, c):
    inf = qt.mmc(lam, mu, c)
    r = qt.mmck(lam, mu, c, 2_000)
    assert r.p_block < 1e-12
    assert r.mean_response == pytest.approx(inf.mean_response, rel=1e-9)
    assert r.mean_wait == pytest.approx(inf.mean_wait, rel=1e-9)
    assert r.mean_queue == pytest.approx(inf.mean_queue, rel=1e-9)
    assert r.mean_in_system == pytest.approx(inf.mean_in_system, rel=1e-9)
    assert r.utilisation == pytest.approx(inf.rho, rel=1e-9)
    assert r.p_wait == pytest.approx(inf.p_wait, rel=1e-9)


@pytest.mark.parametrize(("rho", "k"), [(0.5, 5), (0.9, 10), (1.0, 7), (2.0, 4), (1.3, 30)])
def test_mm1k_closed_form(rho, k):
    # M/M/1/K: P_K = (1 - rho) rho^K / (1 - rho^{K+1}); 1/(K+1) at rho = 1;
    # L = rho/(1-rho) - (K+1) rho^{K+1}/(1-rho^{K+1}); L = K/2 at rho = 1.
    r = qt.mmck(rho, 1.0, 1, k)
    if rho == 1.0:
        pk, mean_l = 1 / (k + 1), k / 2
    else:
        pk = (1 - rho) * rho**k / (1 - rho ** (k + 1))
        mean_l = rho / (1 - rho) - (k + 1) * rho ** (k + 1) / (1 - rho ** (k + 1))
    assert r.p_block == pytest.approx(pk, rel=1e-12)
    assert r.mean_in_system == pytest.approx(mean_l, rel=1e-12)
    assert r.mean_response == pytest.approx(mean_l / (rho * (1 - pk)), rel=1e-12)


@given(
    c=st.integers(1, 20),
    extra=st.integers(0, 60),
    a=st.floats(0.01, 100.0),
    mu=st.floats(0.1, 10.0),
)
def test_mmck_identities(c, extra, a, mu):
    k = c + extra
    r = qt.mmck(a * mu, mu, c, k)
    assert math.fsum(r.state_probabilities) == pytest.approx(1.0, abs=1e-12)
    assert len(r.state_probabilities) == k + 1
    assert 0.0 <= r.p_block <= 1.0
    assert r.throughput == pytest.approx(a * mu * (1 - r.p_block), rel=1e-12)
    # carried load: mean busy servers = throughput / mu
    assert r.utilisation == pytest.approx(r.throughput / (c * mu), rel=1e-9)
    assert r.utilisation <= 1.0 + 1e-12
    assert r.mean_in_system == pytest.approx(r.throughput * r.mean_response, rel=1e-9)
    assert r.mean_response == pytest.approx(r.mean_wait + 1 / mu, rel=1e-9)
    assert 0.0 <= r.p_wait <= 1.0


def test_mmck_overload_and_invalid():
    r = qt.mmck(30.0, 1.0, 10, 50)  # a = 3c: almost always full
    assert r.p_block == pytest.approx(2 / 3, rel=1e-3)
    assert r.throughput == pytest.approx(10.0, rel=1e-3)
    assert r.utilisation == pytest.approx(1.0, rel=1e-6)
    assert "state_probabilities" not in repr(r)
    z = qt.mmck(0.0, 2.0, 2, 5)
    assert z.p_block == 0.0 and z.mean_response == 0.5 and z.mean_wait == 0.0
    with pytest.raises(ValueError, match="k"):
        qt.mmck(1.0, 1.0, 3, 2)
    with pytest.raises(ValueError):
        qt.mmck(1.0, 1.0, 0, 2)


# --------------------------------------------------------------------------
# M/G/1 and Allen–Cunneen
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mean_s"), [(0.5, 1.0), (0.09, 10.0), (3.0, 0.2)])
def test_mg1_with_cv_one_is_mm1(lam, mean_s):
    g = qt.mg1(lam, mean_s, 1.0)
    m = qt.mmc(lam, 1 / mean_s, 1)
    for attr in ("mean_queue", "mean_wait", "mean_response", "mean_in_system", "rho"):
        assert getattr(g, attr) == pytest.approx(getattr(m, attr), rel=1e-12)


def test_md1_is_half_of_mm1_wait():
    lam, mean_s = 0.8, 1.0
    d = qt.mg1(lam, mean_s, 0.0)
    rho = lam * mean_s
    assert d.mean_wait == pytest.approx(rho * mean_s / (2 * (1 - rho)))  # = 2.0
    assert d.mean_wait == pytest.approx(qt.mm1(lam, 1 / mean_s).mean_wait / 2)
    assert d.mean_queue == pytest.approx(rho**2 / (2 * (1 - rho)))
    with pytest.raises(ValueError, match="unstable"):
        qt.mg1(1.0, 1.0, 0.5)


def test_allen_cunneen():
    # cv_a = cv_s = 1: exactly M/M/c
    a = qt.mgc_allen_cunneen(3.0, 0.5, 2, 1.0)
    m = qt.mmc(3.0, 2.0, 2)
    assert a.mean_wait == pytest.approx(m.mean_wait, rel=1e-12)
    assert a.mean_response == pytest.approx(m.mean_response, rel=1e-12)
    # c = 1 with Poisson arrivals: exactly Pollaczek-Khinchine
    for cv in (0.0, 0.5, 2.0):
        assert qt.mgc_allen_cunneen(0.7, 1.0, 1, cv).mean_wait == pytest.approx(
            qt.mg1(0.7, 1.0, cv).mean_wait, rel=1e-12
        )
    d = qt.mgc_allen_cunneen(3.0, 0.5, 2, 0.0, cv_a=0.0)
    assert d.mean_wait == 0.0 and d.mean_response == 0.5


# --------------------------------------------------------------------------
# GI/M/1, LSTs, load balancing
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mu"), [(0.1, 1.0), (0.5, 1.0), (0.95, 1.0), (4.0, 5.0)])
def test_gi_m1_with_poisson_arrivals_is_mm1(lam, mu):
    g = qt.gi_m1(1 / lam, qt.lst_erlang(1, lam), mu)
    m = qt.mm1(lam, mu)
    assert g.sigma == pytest.approx(lam / mu, rel=1e-12)
    assert g.p_wait == pytest.approx(m.p_wait, rel=1e-12)
    assert g.mean_wait == pytest.approx(m.mean_wait, rel=1e-10)
    assert g.mean_response == pytest.approx(m.mean_response, rel=1e-10)
    assert g.mean_queue == pytest.approx(m.mean_queue, rel=1e-10)
    for q in (0.5, 0.9, 0.99):
        assert g.response_quantile(q) == pytest.approx(m.response_quantile(q), rel=1e-9)


def test_d_m1_textbook_sigma():
    # D/M/1 at rho = 0.5: sigma = exp(-2 (1 - sigma)) -> 0.2031878699.
    g = qt.gi_m1(2.0, lambda s: math.exp(-2.0 * s), 1.0)
    assert g.sigma == pytest.approx(0.2031878699, rel=1e-8)
    assert g.sigma == pytest.approx(math.exp(-2 * (1 - g.sigma)), rel=1e-12)


def test_lsts():
    s = 0.37
    assert qt.lst_erlang(1, 2.0)(0.0) == 1.0
    assert qt.lst_gamma(1.0, 2.0)(s) == pytest.approx(qt.lst_erlang(1, 2.0)(s))
    assert qt.lst_gamma(3.0, 2.0)(s) == pytest.approx(qt.lst_erlang(3, 2.0)(s))
    assert qt.lst_hyperexp2(1.0, 2.0, 5.0)(s) == pytest.approx(qt.lst_erlang(1, 2.0)(s))
    # mean from the LST: -d/ds A*(0)
    h = 1e-6
    for lst, mean in [
        (qt.lst_erlang(4, 2.0), 2.0),
        (qt.lst_gamma(2.5, 0.5), 5.0),
        (qt.lst_hyperexp2(0.3, 1.0, 4.0), 0.3 / 1.0 + 0.7 / 4.0),
    ]:
        assert (1 - lst(h)) / h == pytest.approx(mean, rel=1e-5)


@pytest.mark.parametrize(("mean", "cv"), [(1.0, 1.0), (2.0, 1.5), (0.3, 4.0), (10.0, 1.01)])
def test_hyperexp2_balanced_moments(mean, cv):
    p1, r1, r2 = qt.hyperexp2_balanced(mean, cv)
    p2 = 1 - p1
    assert p1 / r1 == pytest.approx(p2 / r2)  # balanced means
    m1 = p1 / r1 + p2 / r2
    m2 = 2 * p1 / r1**2 + 2 * p2 / r2**2
    assert m1 == pytest.approx(mean, rel=1e-12)
    assert math.sqrt(m2 / m1**2 - 1) == pytest.approx(cv, rel=1e-9)
    with pytest.raises(ValueError):
        qt.hyperexp2_balanced(1.0, 0.9)


def test_gi_m1_orders_by_arrival_variability():
    mu, mean_a = 1.0, 1 / 0.8
    lam = 1 / mean_a
    erl = qt.gi_m1(mean_a, qt.lst_erlang(4, 4 * lam), mu)
    exp = qt.gi_m1(mean_a, qt.lst_erlang(1, lam), mu)
    h2 = qt.gi_m1(mean_a, qt.lst_hyperexp2(*qt.hyperexp2_balanced(mean_a, 2.0)), mu)
    assert erl.sigma < exp.sigma < h2.sigma < 1
    assert erl.mean_wait < exp.mean_wait < h2.mean_wait
    with pytest.raises(ValueError, match="unstable"):
        qt.gi_m1(1.0, qt.lst_erlang(1, 1.0), 1.0)
    with pytest.raises(ValueError, match="arrival_lst"):
        qt.gi_m1(2.0, lambda s: 0.5 / (0.5 + s) + 0.1, 1.0)


@pytest.mark.parametrize(("lam", "mu"), [(0.3, 1.0), (0.9, 1.0)])
def test_round_robin_n1_is_mm1(lam, mu):
    rr = qt.round_robin_mm1(lam, mu, 1)
    m = qt.mm1(lam, mu)
    assert rr.mean_response == pytest.approx(m.mean_response, rel=1e-10)
    assert rr.mean_wait == pytest.approx(m.mean_wait, rel=1e-10)
    assert qt.random_split_mm1(lam, mu, 1) == m


@pytest.mark.parametrize("n", [2, 3, 8, 32])
@pytest.mark.parametrize("load", [0.3, 0.7, 0.95])
def test_round_robin_beats_random_split(n, load):
    mu = 2.0
    lam = load * n * mu
    rr = qt.round_robin_mm1(lam, mu, n)
    rs = qt.random_split_mm1(lam, mu, n)
    assert rs.mean_wait == pytest.approx(qt.mm1(lam / n, mu).mean_wait)
    assert rr.rho == pytest.approx(rs.rho)
    assert rr.mean_wait < rs.mean_wait
    assert rr.mean_response < rs.mean_response
    assert rr.sigma < rs.p_wait


def test_round_robin_monte_carlo():
    """Lindley recursion for one server of a 3-way round robin (E_3/M/1)."""
    lam, mu, n = 2.4, 1.0, 3
    model = qt.round_robin_mm1(lam, mu, n)
    rng = random.Random(777)
    w = 0.0
    waits: list[float] = []
    warm, count = 10_000, 410_000
    for i in range(count):
        if i >= warm:
            waits.append(w)
        gap = sum(rng.expovariate(lam) for _ in range(n))
        w = max(0.0, w + rng.expovariate(mu) - gap)
    mean, se = batch_mean_se(waits)
    assert abs(mean - model.mean_wait) < 3 * se
    frac, se = batch_mean_se([1.0 if x > 0 else 0.0 for x in waits])
    assert abs(frac - model.sigma) < 3 * se


def test_jackson_tandem():
    lam = 1.2
    stations = [(2.0, 1), (1.0, 2), (0.5, 4)]
    expect = sum(qt.mmc(lam, mu, c).mean_response for mu, c in stations)
    assert qt.jackson_tandem(lam, stations) == pytest.approx(expect)
    assert qt.jackson_tandem(0.5, [(1.0, 1)]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="station 1"):
        qt.jackson_tandem(lam, [(2.0, 1), (1.0, 1)])
    with pytest.raises(ValueError):
        qt.jackson_tandem(lam, [])


# --------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------


def test_zipf_popularity():
    p = qt.zipf_popularity(4, 1.0)
    h = 1 + 1 / 2 + 1 / 3 + 1 / 4
    assert p == pytest.approx([1 / h, 1 / (2 * h), 1 / (3 * h), 1 / (4 * h)])
    assert qt.zipf_popularity(5, 0.0) == pytest.approx([0.2] * 5)
    assert math.fsum(qt.zipf_popularity(10_000, 1.1)) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError):
        qt.zipf_popularity(0, 1.0)


@pytest.mark.parametrize("n", [1, 10, 1000])
def test_che_uniform_is_capacity_over_n(n):
    p = [1 / n] * n
    for cap in range(0, n + 1, max(1, n // 10)):
        assert qt.che_lru_hit_ratio(p, cap) == pytest.approx(cap / n, abs=1e-9)
    assert qt.che_lru_hit_ratio(p, 0.5) == pytest.approx(0.5 / n, rel=1e-9)


def test_che_monotone_and_bounded():
    n = 500
    p = qt.zipf_popularity(n, 0.9)
    prev = -1.0
    for cap in [0, 1, 2, 5, 10, 50, 100, 250, 499, 500, 10_000]:
        h = qt.che_lru_hit_ratio(p, cap)
        assert h > prev or h == prev == 1.0
        assert min(cap / n, 1.0) - 1e-12 <= h <= 1.0
        prev = h
    assert qt.che_lru_hit_ratio(p, 0) == 0.0
    assert qt.che_lru_hit_ratio(p, n) == 1.0
    # keys that are never requested never occupy the cache
    assert qt.che_lru_hit_ratio([0.5, 0.5, 0.0, 0.0], 2) == 1.0
    with pytest.raises(ValueError, match="sum to 1"):
        qt.che_lru_hit_ratio([0.5, 0.4], 1)
    with pytest.raises(ValueError):
        qt.che_lru_hit_ratio(p, -1)


def test_che_matches_lru_simulation():
    n, cap = 300, 30
    p = qt.zipf_popularity(n, 0.8)
    predicted = qt.che_lru_hit_ratio(p, cap)
    rng = random.Random(4242)
    cache: OrderedDict[int, None] = OrderedDict()
    cum = list(itertools.accumulate(p))
    keys = rng.choices(range(n), cum_weights=cum, k=400_000)
    hits = []
    for i, key in enumerate(keys):
        if key in cache:
            cache.move_to_end(key)
            hit = 1.0
        else:
            hit = 0.0
            cache[key] = None
            if len(cache) > cap:
                cache.popitem(last=False)
        if i >= 20_000:
            hits.append(hit)
    simulated = statistics.fmean(hits)
    # Che is an approximation: known to be within ~1% for Zipf popularity.
    assert simulated == pytest.approx(predicted, abs=0.01)


def test_ttl_hit_ratio():
    p = qt.zipf_popularity(100, 1.0)
    assert qt.ttl_hit_ratio(p, 50.0, 0.0) == 0.0
    assert qt.ttl_hit_ratio(p, 50.0, 1e-12) < 1e-9
    assert qt.ttl_hit_ratio(p, 50.0, math.inf) == pytest.approx(1.0)
    assert qt.ttl_hit_ratio(p, 50.0, 1e9) == pytest.approx(1.0, abs=1e-6)
    values = [qt.ttl_hit_ratio(p, 50.0, ttl) for ttl in (0.01, 0.1, 1, 10, 100)]
    assert values == sorted(values)
    # single key: lam ttl / (1 + lam ttl)
    assert qt.ttl_hit_ratio([1.0], 2.0, 0.4) == pytest.approx(0.8 / 1.8)
    # uniform over 4 keys at rate 4: each key has rate 1
    assert qt.ttl_hit_ratio([0.25] * 4, 4.0, 3.0) == pytest.approx(0.75)


def test_ttl_hit_ratio_monte_carlo():
    rate, ttl = 2.0, 0.4
    rng = random.Random(99)
    t, expiry = 0.0, -math.inf
    hits = []
    for _ in range(200_000):
        t += rng.expovariate(rate)
        if t < expiry:
            hits.append(1.0)
        else:
            hits.append(0.0)
            expiry = t + ttl
    mean, se = batch_mean_se(hits)
    assert abs(mean - qt.ttl_hit_ratio([1.0], rate, ttl)) < 3 * se


# --------------------------------------------------------------------------
# Stale reads under asynchronous replication
# --------------------------------------------------------------------------


def test_stale_read_formula_and_monotonicity():
    w, lag = 0.5, 0.8
    expect = 1 - math.exp(-w * lag)
    for dist in ("constant", "exponential"):
        assert qt.async_stale_read_probability(w, lag, dist) == pytest.approx(expect)
    assert qt.async_stale_read_probability(w, lag, "exponential", in_order=False) == (
        pytest.approx(w * lag / (1 + w * lag))
    )
    assert qt.async_stale_read_probability(w, lag, "constant", in_order=False) == (
        pytest.approx(expect)
    )
    assert qt.async_stale_read_probability(0.0, lag, "constant") == 0.0
    assert qt.async_stale_read_probability(w, 0.0, "exponential") == 0.0
    grid = [0.0, 0.01, 0.1, 1.0, 10.0]
    for dist in ("constant", "exponential"):
        by_lag = [qt.async_stale_read_probability(w, x, dist) for x in grid]
        by_rate = [qt.async_stale_read_probability(x, lag, dist) for x in grid]
        assert by_lag == sorted(by_lag) and len(set(by_lag)) == len(by_lag)
        assert by_rate == sorted(by_rate) and len(set(by_rate)) == len(by_rate)
        assert all(0.0 <= v < 1.0 for v in by_lag + by_rate)
    with pytest.raises(ValueError, match="dist"):
        qt.async_stale_read_probability(w, lag, "pareto")


def _stale_read_monte_carlo(w: float, lag_mean: float, in_order: bool, seed: int) -> float:
    """Poisson writes, Exp lags; reads at deterministic, widely spaced times."""
    rng = random.Random(seed)
    gap = 15.0 * max(lag_mean, 1.0 / w)  # reads ~independent: P(lag > gap) ~ e^-15
    reads = 20_000
    horizon = gap * (reads + 1)
    commits, applied = [], []
    t, running = 0.0, -math.inf
    while True:
        t += rng.expovariate(w)
        if t > horizon:
            break
        arrive = t + rng.expovariate(1.0 / lag_mean)
        running = max(running, arrive) if in_order else arrive
        commits.append(t)
        applied.append(running)
    stale = 0
    for k in range(1, reads + 1):
        r = k * gap
        i = bisect.bisect_right(commits, r) - 1  # latest write committed at or before r
        if i >= 0 and applied[i] > r:
            stale += 1
    return stale / reads


@pytest.mark.parametrize(("w", "lag"), [(1.0, 0.7), (3.0, 0.1)])
def test_stale_read_in_order_monte_carlo(w, lag):
    predicted = qt.async_stale_read_probability(w, lag, "exponential")
    simulated = _stale_read_monte_carlo(w, lag, True, seed=31337)
    se = math.sqrt(predicted * (1 - predicted) / 20_000)
    assert abs(simulated - predicted) < 3 * se
    # the in-order answer is clearly different from the independent-apply one
    naive = qt.async_stale_read_probability(w, lag, "exponential", in_order=False)
    assert abs(simulated - naive) > 6 * se


def test_stale_read_out_of_order_monte_carlo():
    w, lag = 1.0, 0.7
    predicted = qt.async_stale_read_probability(w, lag, "exponential", in_order=False)
    simulated = _stale_read_monte_carlo(w, lag, False, seed=2718)
    se = math.sqrt(predicted * (1 - predicted) / 20_000)
    assert abs(simulated - predicted) < 3 * se


def test_stale_read_ratio():
    p = [0.5, 0.3, 0.2]
    ws = [0.1, 1.0, 10.0]
    expect = sum(pi * (1 - math.exp(-wi * 0.05)) for pi, wi in zip(p, ws, strict=True))
    assert qt.stale_read_ratio_per_key(p, ws, 0.05) == pytest.approx(expect)
    assert qt.stale_read_ratio_per_key([1.0], [2.0], 0.3) == pytest.approx(
        qt.async_stale_read_probability(2.0, 0.3, "constant")
    )
    with pytest.raises(ValueError, match="length"):
        qt.stale_read_ratio_per_key(p, ws[:2], 0.05)


# --------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------


def test_availability():
    assert qt.availability(99.0, 1.0) == pytest.approx(0.99)
    assert qt.availability(1.0, 0.0) == 1.0
    assert qt.series(0.9, 0.9) == pytest.approx(0.81)
    assert qt.parallel(0.9, 0.9) == pytest.approx(0.99)
    assert qt.series([0.9, 0.8, 0.5]) == pytest.approx(0.36)
    assert qt.parallel((0.5, 0.5, 0.5)) == pytest.approx(0.875)
    assert qt.series(0.7) == qt.parallel(0.7) == pytest.approx(0.7)
    a = qt.availability(1000.0, 10.0)
    assert qt.parallel(a, a) > a > qt.series(a, a)
    with pytest.raises(ValueError):
        qt.availability(0.0, 1.0)
    with pytest.raises(ValueError):
        qt.series(1.2)
    with pytest.raises(ValueError):
        qt.parallel()

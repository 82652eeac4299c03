"""GI/M/1 (renewal arrivals, exponential service), the Laplace-Stieltjes transforms of
inter-arrival laws, and round robin over M/M/1 servers (each an E_n/M/1) [Kleinrock ch. 6]."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .inputs import _integer, _positive, _probability, _probability_level, _real


def lst_erlang(k: int, rate_per_phase: float) -> Callable[[float], float]:
    """LST of Erlang-k with rate r per phase (mean k/r): A*(s) = (r / (r + s))^k."""
    k = _integer("k (number of phases)", k, 1)
    r = _positive("rate_per_phase", rate_per_phase)

    def lst(s: float) -> float:
        return (r / (r + s)) ** k

    return lst


def lst_hyperexp2(p1: float, r1: float, r2: float) -> Callable[[float], float]:
    """LST of H2 (Exp(r1) w.p. p1, else Exp(r2)): A*(s) = p1 r1/(r1+s) + (1-p1) r2/(r2+s)."""
    p1 = _probability("p1", p1)
    r1 = _positive("r1", r1)
    r2 = _positive("r2", r2)
    p2 = 1.0 - p1

    def lst(s: float) -> float:
        return p1 * r1 / (r1 + s) + p2 * r2 / (r2 + s)

    return lst


def lst_gamma(shape: float, rate: float) -> Callable[[float], float]:
    """LST of Gamma(shape, rate) (mean shape/rate): A*(s) = (rate / (rate + s))^shape."""
    shape = _positive("shape", shape)
    r = _positive("rate", rate)

    def lst(s: float) -> float:
        return (r / (r + s)) ** shape

    return lst


def hyperexp2_balanced(mean: float, cv: float) -> tuple[float, float, float]:
    """Balanced-means H2 (p1/r1 = p2/r2) with given mean and cv >= 1 [Whitt 1982]: (p1, r1, r2).

    p1 = (1 + sqrt((cv^2 - 1)/(cv^2 + 1)))/2, r1 = 2 p1/mean, r2 = 2 (1 - p1)/mean.
    Check: E[X] = p1/r1 + p2/r2 = mean; E[X^2] = 2p1/r1^2 + 2p2/r2^2 = mean^2/(2 p1 p2)
    and 2 p1 p2 = (1 - x^2)/2 = 1/(cv^2 + 1) with x = 2p1 - 1, so E[X^2]/mean^2 - 1 = cv^2.
    """
    mean = _positive("mean", mean)
    cv = _real("cv", cv)
    if not 1.0 <= cv < math.inf:
        raise ValueError(f"balanced H2 needs a finite cv >= 1, got {cv!r}")
    cv2 = cv * cv
    p1 = (1.0 + math.sqrt((cv2 - 1.0) / (cv2 + 1.0))) / 2.0
    p2 = 1.0 - p1
    if p2 <= 0.0:
        raise ValueError(f"cv={cv!r} too large for a balanced H2 in floating point")
    return float(p1), float(2.0 * p1 / mean), float(2.0 * p2 / mean)


@dataclass(frozen=True)
class GIM1:
    """Steady state of GI/M/1 FCFS [Kleinrock ch. 6]."""

    mean_a: float
    mu: float
    sigma: float  # root of sigma = A*(mu (1 - sigma)) in (0, 1)
    rho: float  # lam / mu with lam = 1 / mean_a
    p_wait: float  # = sigma (arrival-epoch probability the server is busy)
    mean_queue: float  # Lq (time average, Little: lam Wq)
    mean_in_system: float  # L (time average, Little: lam W)
    mean_wait: float  # Wq = sigma / (mu (1 - sigma))
    mean_response: float  # W = 1 / (mu (1 - sigma))

    @property
    def utilisation(self) -> float:
        """Fraction of time the server is busy (= rho)."""
        return self.rho

    def response_quantile(self, q: float) -> float:
        """q-quantile of the response time, exponential with rate mu (1 - sigma):
        -ln(1-q) / (mu (1 - sigma)) [Kleinrock ch. 6]."""
        q = _probability_level(q)
        return float(-math.log1p(-q) / (self.mu * (1.0 - self.sigma)))


def gi_m1(mean_a: float, arrival_lst: Callable[[float], float], mu: float) -> GIM1:
    """GI/M/1: sigma = A*(mu(1-sigma)), Wq = sigma/(mu(1-sigma)), W = 1/(mu(1-sigma)) [Kleinrock].

    ``arrival_lst(s) = E[exp(-s A)]`` must be the LST of the inter-arrival
    distribution whose mean is ``mean_a``.  f(s) = A*(mu(1-s)) - s is convex
    with f(0) > 0, f(1) = 0 and f'(1) = mu mean_a - 1 > 0 when rho < 1, so
    it has exactly one root in (0, 1); it is found by bisection (the bracket's
    upper end is 1 - 2^-j for the first j with f < 0).
    """
    mean_a = _positive("mean_a (mean inter-arrival time)", mean_a)
    mu = _positive("mu (service rate)", mu)
    if not callable(arrival_lst):
        raise ValueError("arrival_lst must be a callable s -> E[exp(-s A)]")
    rho = 1.0 / (mean_a * mu)
    if rho >= 1.0:
        raise ValueError(f"unstable GI/M/1: rho = 1/(mean_a*mu) = {rho!r} >= 1")
    at0 = float(arrival_lst(0.0))
    if abs(at0 - 1.0) > 1e-9:
        raise ValueError(f"arrival_lst(0) must be 1 for a probability distribution, got {at0!r}")

    def f(s: float) -> float:
        return float(arrival_lst(mu * (1.0 - s))) - s

    lo = 0.0
    if f(lo) <= 0.0:  # A*(mu) = 0 only for degenerate input; sigma -> 0
        sigma = 0.0
    else:
        hi = None
        for j in range(1, 60):
            s = 1.0 - 2.0 ** (-j)
            if f(s) < 0.0:
                hi = s
                break
            lo = s
        if hi is None:
            raise ValueError(
                f"could not bracket the GI/M/1 root (rho={rho!r} too close to 1, "
                "or arrival_lst inconsistent with mean_a)"
            )
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if f(mid) > 0.0:
                lo = mid
            else:
                hi = mid
        sigma = 0.5 * (lo + hi)
    lam = 1.0 / mean_a
    wq = sigma / (mu * (1.0 - sigma))
    w = 1.0 / (mu * (1.0 - sigma))
    return GIM1(
        mean_a=float(mean_a),
        mu=float(mu),
        sigma=float(sigma),
        rho=float(rho),
        p_wait=float(sigma),
        mean_queue=float(lam * wq),
        mean_in_system=float(lam * w),
        mean_wait=float(wq),
        mean_response=float(w),
    )


def round_robin_mm1(lam: float, mu: float, n: int) -> GIM1:
    """Round robin of Poisson(lam) over n Exp(mu) servers: each is E_n/M/1 (phase rate lam).

    Each server receives every n-th arrival, so its inter-arrival time is the
    sum of n Exp(lam) gaps; solved with :func:`gi_m1`.
    """
    lam = _positive("lam (total arrival rate)", lam)
    mu = _positive("mu (service rate)", mu)
    n = _integer("n (number of servers)", n, 1)
    if lam >= n * mu:
        raise ValueError(f"unstable: per-server load lam/(n mu) = {lam / (n * mu)!r} >= 1")
    return gi_m1(n / lam, lst_erlang(n, lam), mu)

"""Analytic queueing, caching, replication and availability formulas.

Pure Python, standard library only (``math``); never imports Django or numpy.
The simulation test-suite compares simulated results with these formulas and
the report prints them next to simulated values, so every function is the
textbook result (cited in its docstring) or is explicitly labelled as an
approximation.

Conventions
-----------
* Times are in any consistent unit; rates are per that same unit.
* ``lam`` is an arrival rate, ``mu`` a per-server service rate, ``c`` the
  number of servers, ``a = lam / mu`` the offered load in Erlangs.
* ``q`` in the quantile methods is a probability in ``[0, 1)``; the returned
  value ``t`` is the smallest ``t`` with ``P(X <= t) >= q``.
* Invalid input (``c < 1``, negative rates, unstable load where the formula
  needs stability, ...) raises :class:`ValueError` with a clear message.
* Every number returned is a plain Python ``float`` (or ``int`` where a count
  is echoed back).

References
----------
* [Kleinrock] L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley 1975.
* [GSTH] D. Gross, J. Shortle, J. Thompson, C. Harris, *Fundamentals of
  Queueing Theory*, 4th ed., Wiley 2008.
* [Harchol-Balter] M. Harchol-Balter, *Performance Modeling and Design of
  Computer Systems*, CUP 2013.
* [Che] H. Che, Y. Tung, Z. Wang, "Hierarchical Web caching systems: modeling,
  design and experimental results", IEEE JSAC 20(7), 2002; and C. Fricker,
  P. Robert, J. Roberts, "A versatile and accurate approximation for LRU
  cache performance", ITC 2012.
* [Jung] J. Jung, A. Berger, H. Balakrishnan, "Modeling TTL-based Internet
  caches", INFOCOM 2003.
* [Allen] A. O. Allen, *Probability, Statistics and Queueing Theory*, 2nd ed.,
  Academic Press 1990 (Allen–Cunneen approximation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "GGcApprox",
    "GIM1",
    "MG1",
    "MMc",
    "MMcK",
    "async_stale_read_probability",
    "availability",
    "che_lru_hit_ratio",
    "erlang_b",
    "erlang_c",
    "gi_m1",
    "hyperexp2_balanced",
    "jackson_tandem",
    "lst_erlang",
    "lst_exponential",
    "lst_gamma",
    "lst_hyperexp2",
    "mg1",
    "mgc_allen_cunneen",
    "mm1",
    "mmc",
    "mmck",
    "parallel",
    "random_split_mm1",
    "round_robin_mm1",
    "series",
    "stale_read_ratio",
    "ttl_hit_ratio",
    "zipf_popularity",
]


# --------------------------------------------------------------------------
# Input validation helpers
# --------------------------------------------------------------------------


def _real(name: str, x: object) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def _positive(name: str, x: object, *, allow_inf: bool = False) -> float:
    v = _real(name, x)
    if not v > 0.0 or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return v


def _nonneg(name: str, x: object, *, allow_inf: bool = False) -> float:
    v = _real(name, x)
    if v < 0.0 or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a non-negative finite number, got {x!r}")
    return v


def _integer(name: str, x: object, minimum: int) -> int:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if isinstance(x, int):
        v = x
    else:
        f = _real(name, x)
        if math.isinf(f) or not f.is_integer():
            raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
        v = int(f)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return v


def _probability_level(q: object) -> float:
    v = _real("q", q)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"quantile level q must satisfy 0 <= q < 1, got {q!r}")
    return v


def _probability(name: str, x: object) -> float:
    v = _real(name, x)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {x!r}")
    return v


def _popularity(popularity: Iterable[float]) -> list[float]:
    p = [_nonneg("popularity entry", x) for x in popularity]
    if not p:
        raise ValueError("popularity must contain at least one key")
    total = math.fsum(p)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"popularity must sum to 1 (got {total!r})")
    # Remove the rounding residue so downstream sums are exact-ish.
    return [x / total for x in p]


def _bisect_decreasing(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Bisection for ``f(t) = target`` with ``f`` decreasing, ``f(lo) >= target >= f(hi)``."""
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------
# Erlang B / Erlang C
# --------------------------------------------------------------------------


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability of M/M/c/c, recursion B(k)=aB(k-1)/(k+aB(k-1)) [GSTH §2.6]."""
    c = _integer("c (number of servers)", c, 1)
    a = _nonneg("a (offered load lam/mu)", a)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return float(b)


def erlang_c(c: int, a: float) -> float:
    """Erlang C P(wait>0) in M/M/c, C = cB/(c - a(1-B)) with B = Erlang B [GSTH §2.3]."""
    c = _integer("c (number of servers)", c, 1)
    a = _nonneg("a (offered load lam/mu)", a)
    if a >= c:
        raise ValueError(f"Erlang C needs a < c (stable M/M/c); got a={a!r}, c={c!r}")
    b = erlang_b(c, a)
    return float(c * b / (c - a * (1.0 - b)))


# --------------------------------------------------------------------------
# M/M/c
# --------------------------------------------------------------------------


def _two_exp_tail(r1: float, r2: float, t: float) -> float:
    """(e^{-r1 t} - e^{-r2 t}) / (r2 - r1), symmetric in r1, r2; limit t e^{-r t} when equal."""
    lo, hi = (r1, r2) if r1 <= r2 else (r2, r1)
    d = hi - lo
    if d == 0.0 or d * t == 0.0:
        return t * math.exp(-lo * t)
    return math.exp(-lo * t) * (-math.expm1(-d * t)) / d


@dataclass(frozen=True)
class MMc:
    """Steady state of the M/M/c FCFS queue [GSTH §2.3; Kleinrock §3.5]."""

    lam: float
    mu: float
    c: int
    offered_load: float  # a = lam / mu (Erlangs)
    rho: float  # per-server utilisation lam / (c mu)
    p_wait: float  # Erlang C: P(an arrival waits)
    mean_queue: float  # Lq
    mean_in_system: float  # L
    mean_wait: float  # Wq
    mean_response: float  # W = Wq + 1/mu

    @property
    def utilisation(self) -> float:
        """Fraction of time each server is busy (= rho)."""
        return self.rho

    @property
    def wait_decay_rate(self) -> float:
        """Rate c mu - lam of the exponential conditional waiting time."""
        return self.c * self.mu - self.lam

    def wait_survival(self, t: float) -> float:
        """P(Wq > t) = C exp(-(c mu - lam) t) for t >= 0 [GSTH §2.3]."""
        t = _nonneg("t", t, allow_inf=True)
        return float(self.p_wait * math.exp(-self.wait_decay_rate * t))

    def wait_quantile(self, q: float) -> float:
        """q-quantile of Wq: 0 if q <= 1-C, else ln(C/(1-q))/(c mu - lam) [GSTH §2.3]."""
        q = _probability_level(q)
        if q <= 1.0 - self.p_wait:
            return 0.0
        return float(math.log(self.p_wait / (1.0 - q)) / self.wait_decay_rate)

    def response_survival(self, t: float) -> float:
        """P(T>t) = e^{-mu t} + C mu (e^{-mu t} - e^{-theta t})/(theta - mu), theta = c mu - lam.

        Derivation: T = Wq + S with S ~ Exp(mu) independent of Wq, and Wq = 0
        w.p. 1-C, else Exp(theta).  The hypoexponential tail is
        P(E_theta + E_mu > t) = (theta e^{-mu t} - mu e^{-theta t})/(theta - mu), so
        P(T>t) = (1-C) e^{-mu t} + C (theta e^{-mu t} - mu e^{-theta t})/(theta - mu),
        which rearranges to the form above; when theta = mu the fraction
        tends to t e^{-mu t}, giving e^{-mu t} (1 + C mu t).  For c = 1 it
        reduces to exp(-(mu - lam) t).
        """
        t = _nonneg("t", t, allow_inf=True)
        if math.isinf(t):
            return 0.0
        mu = self.mu
        s = math.exp(-mu * t) + self.p_wait * mu * _two_exp_tail(mu, self.wait_decay_rate, t)
        return float(min(1.0, max(0.0, s)))

    def response_quantile(self, q: float) -> float:
        """q-quantile of T: -ln(1-q)/(mu-lam) if c=1, else bisection on the exact CDF above."""
        q = _probability_level(q)
        if q == 0.0:
            return 0.0
        if self.c == 1:
            return float(-math.log1p(-q) / (self.mu - self.lam))
        if self.p_wait == 0.0:
            return float(-math.log1p(-q) / self.mu)
        target = 1.0 - q
        hi = max(1.0 / self.mu, 1.0 / self.wait_decay_rate) * max(1.0, -math.log1p(-q))
        while self.response_survival(hi) > target:
            hi *= 2.0
        return float(_bisect_decreasing(self.response_survival, target, 0.0, hi))

    def as_dict(self) -> dict[str, float]:
        """Plain-dict view (for reports / JSON)."""
        return {
            "lam": self.lam,
            "mu": self.mu,
            "c": self.c,
            "offered_load": self.offered_load,
            "rho": self.rho,
            "p_wait": self.p_wait,
            "mean_queue": self.mean_queue,
            "mean_in_system": self.mean_in_system,
            "mean_wait": self.mean_wait,
            "mean_response": self.mean_response,
        }


def mmc(lam: float, mu: float, c: int) -> MMc:
    """M/M/c: C = Erlang C, Lq = C rho/(1-rho), Wq = C/(c mu - lam), W = Wq + 1/mu [GSTH §2.3]."""
    lam = _nonneg("lam (arrival rate)", lam)
    mu = _positive("mu (service rate)", mu)
    c = _integer("c (number of servers)", c, 1)
    if lam >= c * mu:
        raise ValueError(
            f"unstable M/M/c: lam={lam!r} >= c*mu={c * mu!r} (needs rho = lam/(c mu) < 1)"
        )
    a = lam / mu
    rho = lam / (c * mu)
    p_wait = erlang_c(c, a)
    wq = p_wait / (c * mu - lam)
    w = wq + 1.0 / mu
    return MMc(
        lam=float(lam),
        mu=float(mu),
        c=c,
        offered_load=float(a),
        rho=float(rho),
        p_wait=float(p_wait),
        mean_queue=float(p_wait * rho / (1.0 - rho)),
        mean_in_system=float(lam * w),
        mean_wait=float(wq),
        mean_response=float(w),
    )


def mm1(lam: float, mu: float) -> MMc:
    """M/M/1 (= mmc with c=1): W = 1/(mu - lam), Wq = rho/(mu - lam) [Kleinrock §3.2]."""
    return mmc(lam, mu, 1)


# --------------------------------------------------------------------------
# M/M/c/K
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MMcK:
    """Steady state of M/M/c/K (K = total capacity incl. in service) [GSTH §2.5]."""

    lam: float
    mu: float
    c: int
    k: int
    offered_load: float  # a = lam / mu (may exceed c)
    p_block: float  # P_K: fraction of arrivals rejected (PASTA)
    throughput: float  # admitted rate lam (1 - P_K)
    utilisation: float  # mean busy servers / c = throughput / (c mu)
    p_wait: float  # P(an *admitted* arrival waits) = sum_{n=c}^{K-1} p_n / (1 - P_K)
    mean_queue: float  # Lq
    mean_in_system: float  # L
    mean_wait: float  # Wq of admitted customers = Lq / throughput
    mean_response: float  # W of admitted customers = L / throughput
    state_probabilities: tuple[float, ...] = field(repr=False)  # p_0 .. p_K

    def as_dict(self) -> dict[str, float]:
        """Plain-dict view (without the state probabilities)."""
        return {
            "lam": self.lam,
            "mu": self.mu,
            "c": self.c,
            "k": self.k,
            "offered_load": self.offered_load,
            "p_block": self.p_block,
            "throughput": self.throughput,
            "utilisation": self.utilisation,
            "p_wait": self.p_wait,
            "mean_queue": self.mean_queue,
            "mean_in_system": self.mean_in_system,
            "mean_wait": self.mean_wait,
            "mean_response": self.mean_response,
        }


def mmck(lam: float, mu: float, c: int, k: int) -> MMcK:
    """M/M/c/K: p_n ∝ a^n/n! (n<=c), a^c/c! (a/c)^(n-c) (n<=K); Little on lam(1-P_K) [GSTH §2.5].

    K is the total capacity (in service + waiting); any load, including a > c.
    Wq and W are for admitted customers: Lq / lam_eff and L / lam_eff with
    lam_eff = lam (1 - P_K); P_K is also the blocking probability (PASTA).
    """
    lam = _nonneg("lam (arrival rate)", lam)
    mu = _positive("mu (service rate)", mu)
    c = _integer("c (number of servers)", c, 1)
    k = _integer("k (total capacity)", k, 1)
    if k < c:
        raise ValueError(f"k (total capacity, incl. in service) must be >= c; got k={k}, c={c}")
    a = lam / mu
    if a == 0.0:
        probs = [1.0] + [0.0] * k
    else:
        # Log-space weights (stable for large c, K and any load), then normalise.
        log_a = math.log(a)
        logw = [0.0] * (k + 1)
        for n in range(1, k + 1):
            logw[n] = logw[n - 1] + log_a - math.log(min(n, c))
        m = max(logw)
        w = [math.exp(x - m) for x in logw]
        total = math.fsum(w)
        probs = [x / total for x in w]
    p_block = probs[k]
    throughput = lam * (1.0 - p_block)
    mean_l = math.fsum(n * p for n, p in enumerate(probs))
    mean_lq = math.fsum((n - c) * probs[n] for n in range(c + 1, k + 1))
    busy = math.fsum(min(n, c) * p for n, p in enumerate(probs))
    admitted = 1.0 - p_block
    p_wait = min(1.0, math.fsum(probs[c:k]) / admitted) if admitted > 0.0 else 0.0
    if throughput > 0.0:
        wq = mean_lq / throughput
        w_resp = mean_l / throughput
    else:  # lam = 0: limits as lam -> 0
        wq = 0.0
        w_resp = 1.0 / mu
    return MMcK(
        lam=float(lam),
        mu=float(mu),
        c=c,
        k=k,
        offered_load=float(a),
        p_block=float(p_block),
        throughput=float(throughput),
        utilisation=float(busy / c),
        p_wait=float(p_wait),
        mean_queue=float(mean_lq),
        mean_in_system=float(mean_l),
        mean_wait=float(wq),
        mean_response=float(w_resp),
        state_probabilities=tuple(float(p) for p in probs),
    )


# --------------------------------------------------------------------------
# M/G/1 and the Allen–Cunneen G/G/c approximation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MG1:
    """Steady state of M/G/1 FCFS (Pollaczek–Khinchine mean value formula)."""

    lam: float
    mean_s: float
    cv_s: float
    rho: float
    mean_queue: float  # Lq
    mean_in_system: float  # L
    mean_wait: float  # Wq
    mean_response: float  # W

    @property
    def utilisation(self) -> float:
        """Fraction of time the server is busy (= rho)."""
        return self.rho


def mg1(lam: float, mean_s: float, cv_s: float) -> MG1:
    """Pollaczek–Khinchine: Wq = rho E[S] (1 + cv^2) / (2 (1 - rho)) [Kleinrock ch. 5]."""
    lam = _nonneg("lam (arrival rate)", lam)
    mean_s = _positive("mean_s (mean service time)", mean_s)
    cv_s = _nonneg("cv_s (service-time coefficient of variation)", cv_s)
    rho = lam * mean_s
    if rho >= 1.0:
        raise ValueError(f"unstable M/G/1: rho = lam*mean_s = {rho!r} >= 1")
    wq = rho * mean_s * (1.0 + cv_s * cv_s) / (2.0 * (1.0 - rho))
    w = wq + mean_s
    return MG1(
        lam=float(lam),
        mean_s=float(mean_s),
        cv_s=float(cv_s),
        rho=float(rho),
        mean_queue=float(lam * wq),
        mean_in_system=float(lam * w),
        mean_wait=float(wq),
        mean_response=float(w),
    )


@dataclass(frozen=True)
class GGcApprox:
    """Allen–Cunneen APPROXIMATION for G/G/c (predictions only, not exact)."""

    lam: float
    mean_s: float
    c: int
    cv_s: float
    cv_a: float
    rho: float
    p_wait: float  # Erlang C of the M/M/c with the same means (approximate)
    mean_queue: float  # Lq (approximate)
    mean_in_system: float  # L (approximate)
    mean_wait: float  # Wq (approximate)
    mean_response: float  # W (approximate)

    @property
    def utilisation(self) -> float:
        """Fraction of time each server is busy (= rho, exact)."""
        return self.rho


def mgc_allen_cunneen(
    lam: float, mean_s: float, c: int, cv_s: float, cv_a: float = 1.0
) -> GGcApprox:
    """APPROXIMATION (Allen–Cunneen): Wq ≈ Wq(M/M/c) (cv_a^2 + cv_s^2)/2 [Allen]."""
    lam = _nonneg("lam (arrival rate)", lam)
    mean_s = _positive("mean_s (mean service time)", mean_s)
    c = _integer("c (number of servers)", c, 1)
    cv_s = _nonneg("cv_s", cv_s)
    cv_a = _nonneg("cv_a", cv_a)
    base = mmc(lam, 1.0 / mean_s, c)
    wq = base.mean_wait * (cv_a * cv_a + cv_s * cv_s) / 2.0
    w = wq + mean_s
    return GGcApprox(
        lam=float(lam),
        mean_s=float(mean_s),
        c=c,
        cv_s=float(cv_s),
        cv_a=float(cv_a),
        rho=base.rho,
        p_wait=base.p_wait,
        mean_queue=float(lam * wq),
        mean_in_system=float(lam * w),
        mean_wait=float(wq),
        mean_response=float(w),
    )


# --------------------------------------------------------------------------
# GI/M/1 and Laplace–Stieltjes transforms
# --------------------------------------------------------------------------


def lst_exponential(rate: float) -> Callable[[float], float]:
    """LST of Exp(rate): A*(s) = rate / (rate + s)."""
    r = _positive("rate", rate)

    def lst(s: float) -> float:
        return r / (r + s)

    return lst


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

    @property
    def decay_rate(self) -> float:
        """mu (1 - sigma): rate of the exponential response / conditional wait."""
        return self.mu * (1.0 - self.sigma)

    def wait_survival(self, t: float) -> float:
        """P(Wq > t) = sigma exp(-mu (1 - sigma) t) [Kleinrock ch. 6]."""
        t = _nonneg("t", t, allow_inf=True)
        return float(self.sigma * math.exp(-self.decay_rate * t))

    def wait_quantile(self, q: float) -> float:
        """q-quantile of Wq: 0 if q <= 1 - sigma, else ln(sigma/(1-q)) / (mu (1 - sigma))."""
        q = _probability_level(q)
        if q <= 1.0 - self.sigma:
            return 0.0
        return float(math.log(self.sigma / (1.0 - q)) / self.decay_rate)

    def response_survival(self, t: float) -> float:
        """P(T > t) = exp(-mu (1 - sigma) t): GI/M/1 response is exponential [Kleinrock ch. 6]."""
        t = _nonneg("t", t, allow_inf=True)
        return float(math.exp(-self.decay_rate * t))

    def response_quantile(self, q: float) -> float:
        """q-quantile of the (exponential) response time: -ln(1-q) / (mu (1 - sigma))."""
        q = _probability_level(q)
        return float(-math.log1p(-q) / self.decay_rate)


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


# --------------------------------------------------------------------------
# Load balancing over N identical M/M/1 servers; Jackson tandem networks
# --------------------------------------------------------------------------


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


def random_split_mm1(lam: float, mu: float, n: int) -> MMc:
    """Uniform random split of Poisson(lam) over n servers: each is M/M/1 with lam/n (thinning)."""
    lam = _nonneg("lam (total arrival rate)", lam)
    n = _integer("n (number of servers)", n, 1)
    return mmc(lam / n, mu, 1)


def jackson_tandem(lam: float, stations: Sequence[tuple[float, int]]) -> float:
    """Mean response of a Poisson(lam) tandem of M/M/c stations (mu, c): sum of M/M/c W [GSTH §4.1].

    Exact for Jackson networks (Burke: each station's departures are Poisson(lam)).
    """
    if len(stations) == 0:
        raise ValueError("stations must contain at least one (mu, c) pair")
    total = 0.0
    for i, st in enumerate(stations):
        try:
            mu, c = st
        except (TypeError, ValueError):
            raise ValueError(f"station {i} must be a (mu, c) pair, got {st!r}") from None
        try:
            total += mmc(lam, mu, c).mean_response
        except ValueError as e:
            raise ValueError(f"station {i}: {e}") from None
    return float(total)


# --------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------


def zipf_popularity(n: int, s: float) -> list[float]:
    """Zipf law over ranks 1..n: p_i = i^-s / sum_j j^-s (s = 0 is uniform)."""
    n = _integer("n (number of keys)", n, 1)
    s = _nonneg("s (Zipf exponent)", s)
    w = [i ** (-s) for i in range(1, n + 1)]
    total = math.fsum(w)
    return [float(x / total) for x in w]


def _che_characteristic_time(p: list[float], capacity: float) -> float:
    """Root T of sum_i (1 - exp(-p_i T)) = capacity, 0 < capacity < #keys with p_i > 0.

    F(T) is increasing with F(T) < T, so T > capacity; the upper end of the
    bracket is found by doubling.  The root is then polished by bracketed
    Newton/bisection in x = ln T (bisection steps are geometric midpoints).
    """

    def f(x: float) -> float:
        t = math.exp(x)
        return math.fsum(-math.expm1(-pi * t) for pi in p) - capacity

    def g(x: float) -> tuple[float, float]:
        t = math.exp(x)
        val = math.fsum(-math.expm1(-pi * t) for pi in p) - capacity
        deriv = t * math.fsum(pi * math.exp(-pi * t) for pi in p)  # dF/d(ln T)
        return val, deriv

    xl = math.log(capacity)
    if f(xl) >= 0.0:  # only by rounding: F(T) < T
        return capacity
    xh = xl + math.log(2.0)
    while f(xh) < 0.0:
        xl = xh
        xh += math.log(2.0)
        if xh > 700.0:
            raise ValueError("Che: characteristic time overflow (capacity too close to #keys)")
    # Safeguarded Newton (Numerical Recipes rtsafe) on x = ln T.
    x = 0.5 * (xl + xh)
    dx_old = xh - xl
    dx = dx_old
    val, der = g(x)
    for _ in range(300):
        if ((x - xh) * der - val) * ((x - xl) * der - val) > 0.0 or abs(2.0 * val) > abs(
            dx_old * der
        ):
            dx_old = dx
            dx = 0.5 * (xh - xl)
            x = xl + dx
        else:
            dx_old = dx
            dx = val / der
            x -= dx
        if abs(dx) < 1e-14 * max(1.0, abs(x)) or val == 0.0:
            break
        val, der = g(x)
        if val < 0.0:
            xl = x
        else:
            xh = x
    return math.exp(x)


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
    t = _che_characteristic_time(positive, capacity)
    hit = math.fsum(pi * -math.expm1(-pi * t) for pi in positive)
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


# --------------------------------------------------------------------------
# Asynchronous replication: stale reads
# --------------------------------------------------------------------------

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


def stale_read_ratio(
    read_popularity: Sequence[float],
    write_rates_per_key: Sequence[float],
    lag_mean: float,
    dist: str = "exponential",
    *,
    in_order: bool = True,
) -> float:
    """Overall stale-read fraction sum_i p_read_i P_stale(w_i) (async_stale_read_probability)."""
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


# --------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------


def availability(mtbf: float, mttr: float) -> float:
    """Steady-state availability of an alternating up/down renewal process: MTBF / (MTBF + MTTR)."""
    mtbf = _positive("mtbf", mtbf, allow_inf=True)
    mttr = _nonneg("mttr", mttr)
    if math.isinf(mtbf):
        return 1.0
    return float(mtbf / (mtbf + mttr))


def _availabilities(args: tuple) -> list[float]:
    if len(args) == 1 and not isinstance(args[0], (int, float)):
        args = tuple(args[0])
    if not args:
        raise ValueError("need at least one availability")
    return [_probability("availability", a) for a in args]


def series(*a: float) -> float:
    """Series system (all must be up, independent failures): prod_i A_i."""
    vals = _availabilities(a)
    return float(math.prod(vals))


def parallel(*a: float) -> float:
    """Parallel system (any one up suffices, independent failures): 1 - prod_i (1 - A_i)."""
    vals = _availabilities(a)
    return float(1.0 - math.prod(1.0 - x for x in vals))

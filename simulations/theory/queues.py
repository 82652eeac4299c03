"""Queues with Poisson arrivals: Erlang B and C, M/M/c, M/M/c/K, M/G/1 (Pollaczek-Khinchine)
and the Allen-Cunneen approximation for G/G/c; a random split over M/M/1 servers and Jackson
tandems [GSTH, Kleinrock, Allen]."""


from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .inputs import _integer, _nonneg, _positive, _probability_level
from .roots import illinois

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
        """q-quantile of T: -ln(1-q)/(mu-lam) if c=1, else the root of the exact CDF above by
        regula falsi (Illinois): about ten evaluations where bisection took sixty, which made
        the percentiles of a 400-service design most of its prediction time."""
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

        def excess(t: float) -> float:  # increasing in t, 0 at the quantile
            return target - self.response_survival(t)

        t, _, _, _ = illinois(excess, 0.0, target - 1.0, hi, excess(hi),
                              lambda t, y, lo, hi: abs(y) <= 1e-14 * target,
                              lambda lo, hi: hi - lo <= 1e-15 * hi)
        return float(t)


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
# Random split over N identical M/M/1 servers; Jackson tandem networks
# --------------------------------------------------------------------------


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

"""The queueing model of a pool of workers: the textbook model that fits it, exact where one
exists (M/M/c, M/M/c/K), else an approximation (Pollaczek-Khinchine, Allen-Cunneen)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import theory as qt
from .design import NO_TIME
from .moments import Moments


@dataclass
class _PoolFit:
    offered: float | None  # lambda E[holding] / workers; None: not predicted
    utilisation: float | None  # busy share of the workers
    model: str
    wait: Moments | None = None  # None: no steady state or not predicted
    saturated: bool = False
    mmc: qt.MMc | None = None  # set when M/M/c is exact, for latency percentiles
    p_block: float | None = None
    admitted_rps: float | None = None
    note: str = ""
    lam: float | None = None  # arrival rate, per second

    @property
    def mean_queue(self) -> float | None:
        """Requests waiting, time-averaged: Little's law on the admitted rate."""
        if self.wait is None or self.lam is None:
            return None
        return (self.admitted_rps if self.p_block is not None else self.lam) * self.wait.mean


def _waits_like_mmc(mean: float, p_wait: float) -> Moments:
    """Approximate wait variance: no wait w.p. 1 - p_wait, else exponential (as in M/M/c)."""
    if p_wait <= 0 or mean <= 0:
        return Moments(mean, 0.0)
    return Moments(mean, max(2 * mean * mean / p_wait - mean * mean, 0.0))


def _mmck_wait(m: qt.MMcK) -> Moments:
    """Exact wait of an admitted arrival: finding n >= c jobs, it waits Erlang(n-c+1, c mu)."""
    rate = m.c * m.mu
    admitted = 1.0 - m.p_block
    if admitted <= 0:
        return Moments()
    mean = second = 0.0
    for n in range(m.c, m.k):
        share, k = m.state_probabilities[n] / admitted, n - m.c + 1
        mean += share * k / rate
        second += share * k * (k + 1) / (rate * rate)
    return Moments(mean, max(second - mean * mean, 0.0))


MAX_LIMIT = 100_000  # M/M/c/K sums over every state up to the limit


NOT_PREDICTED = "not predicted"


def _limit_unreached(lam: float, mean_s: float, c: int, limit: int) -> bool:
    """Whether the queue practically never fills: P(limit waiting) = C rho^limit in M/M/c."""
    m = qt.mmc(lam, 1.0 / mean_s, c)
    return m.p_wait * m.rho**limit < 1e-12


def queue_model(lam: float, hold: Moments, c: int, exponential: bool,
                limit: int | None = None, cv_a: float = 1.0) -> _PoolFit:
    """The textbook model that fits a pool: exact where one exists, else an approximation."""
    fit = _fit_queue(lam, hold, c, exponential, limit, cv_a)
    fit.lam = lam
    return fit


def _fit_queue(lam: float, hold: Moments, c: int, exponential: bool, limit: int | None,
               cv_a: float) -> _PoolFit:
    if hold.mean <= NO_TIME:
        return _PoolFit(0.0, 0.0, "no service time", Moments())
    offered = lam * hold.mean / c
    poisson = abs(cv_a - 1.0) < 1e-12
    unstable = offered >= 1.0 or lam >= c * (1.0 / hold.mean)  # both roundings queueing uses
    if limit is not None and (unstable or not _limit_unreached(lam, hold.mean, c, limit)):
        if not (exponential and poisson) or limit > MAX_LIMIT:
            why = "exponential holding times" if limit <= MAX_LIMIT else \
                f"queue limits up to {MAX_LIMIT}"
            return _PoolFit(offered, min(offered, 1.0), NOT_PREDICTED,
                            saturated=unstable, note=f"a queue limit is modelled for {why} only")
        m = qt.mmck(lam, 1.0 / hold.mean, c, c + limit)
        return _PoolFit(offered, m.utilisation, "M/M/c/K", _mmck_wait(m),
                        p_block=m.p_block, admitted_rps=m.throughput)
    if unstable:
        return _PoolFit(offered, 1.0, "saturated", saturated=True,
                        note="offered load >= capacity: the queue grows without bound")
    if exponential and poisson:
        m = qt.mmc(lam, 1.0 / hold.mean, c)
        theta = m.wait_decay_rate
        wait = Moments(m.mean_wait, max(2 * m.p_wait / theta**2 - m.mean_wait**2, 0.0))
        return _PoolFit(offered, m.rho, "M/M/c", wait, mmc=m)
    if c == 1 and poisson:
        g = qt.mg1(lam, hold.mean, hold.cv)
        return _PoolFit(offered, g.rho, "M/G/1 (Pollaczek-Khinchine)",
                        _waits_like_mmc(g.mean_wait, g.rho))
    a = qt.mgc_allen_cunneen(lam, hold.mean, c, hold.cv, cv_a)
    return _PoolFit(offered, a.rho, "Allen-Cunneen approximation",
                    _waits_like_mmc(a.mean_wait, a.p_wait))

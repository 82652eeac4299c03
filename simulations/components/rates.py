"""A client's rate over time (its `schedule`): the shapes as straight pieces, and arrivals
drawn from it.

Every shape becomes one piecewise-linear rate: points (t, rps) joined by straight lines, a
jump being two points at one time. After the last point the rate either holds the last
point's rate or, for the periodic shapes (diurnal, bursts), runs the points from
`cycle_from` on again and again. Straight pieces keep the integral Lambda(t) of the rate
quadratic on each piece, so it is inverted exactly: no root finding per arrival.

Arrivals by time change: the client's renewal gaps (gap_sampler, mean 1, its arrival_cv)
are drawn in operational time tau, and an arrival at tau happens at t = Lambda^-1(tau).
With arrival_cv 1 that is exactly a non-homogeneous Poisson process; with another cv the
gaps keep that cv in operational time, so `arrival_cv` means what it means at a constant
rate (thinning would only work for Poisson: it turns any stream towards Poisson). It costs
one draw and one inversion per arrival, none rejected, however far the peak is above the
mean.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from .._mypyc import mypyc_attr
from ..kernel import Kernel

DIURNAL_PIECES = 48  # straight pieces per period of a diurnal sine: within 0.11% of its swing

INFINITY = math.inf


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class RateSchedule:
    """rate(t) through points (times[i], rates[i]), times non-decreasing from 0."""

    __slots__ = ("times", "rates", "area", "cycle_from", "period", "cycle_area")

    def __init__(self, times: list[float], rates: list[float], cycle_from: int):
        self.times = times
        self.rates = rates
        area = [0.0]  # Lambda at each point
        for i in range(1, len(times)):
            area.append(area[-1] + (times[i] - times[i - 1]) * (rates[i] + rates[i - 1]) / 2)
        self.area = area
        self.cycle_from = cycle_from
        self.period = times[-1] - times[cycle_from]  # 0: the last rate holds
        self.cycle_area = area[-1] - area[cycle_from]

    # -- the rate and its integral ----------------------------------------------------------
    def rate(self, t: float) -> float:
        """The rate at t (just after t where it jumps)."""
        t = self._folded(t)[0]
        times = self.times
        i = bisect_right(times, t)
        if i >= len(times):
            return self.rates[-1]
        t0, t1 = times[i - 1], times[i]
        r0, r1 = self.rates[i - 1], self.rates[i]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    def integral(self, t: float) -> float:
        """Lambda(t): the arrivals expected from time 0 to t."""
        t, cycles = self._folded(t)
        times, rates = self.times, self.rates
        i = bisect_right(times, t)
        if i >= len(times):
            return self.area[-1] + (t - times[-1]) * rates[-1]
        t0, r0 = times[i - 1], rates[i - 1]
        r = r0 + (rates[i] - r0) * (t - t0) / (times[i] - t0)
        return self.area[i - 1] + (t - t0) * (r0 + r) / 2 + cycles * self.cycle_area

    def _folded(self, t: float) -> tuple[float, float]:
        """A time within the first run of the points, and how many cycles lie before it."""
        start = self.times[self.cycle_from]
        if self.period <= 0 or t < self.times[-1]:
            return t, 0.0
        cycles = math.floor((t - start) / self.period)
        return start + (t - start - cycles * self.period), float(cycles)

    def inverse(self, tau: float) -> float:
        """The first time at which Lambda reaches tau; infinity if it never does."""
        area, times = self.area, self.times
        shift = 0.0
        if tau > area[-1]:
            if self.period > 0:
                if self.cycle_area <= 0:
                    return INFINITY
                cycles = math.floor((tau - area[self.cycle_from]) / self.cycle_area)
                tau -= cycles * self.cycle_area
                shift = cycles * self.period
                if tau > area[-1]:  # rounding at a cycle's end
                    tau, shift = tau - self.cycle_area, shift + self.period
            else:
                last = self.rates[-1]
                return times[-1] + (tau - area[-1]) / last if last > 0 else INFINITY
        i = bisect_left(area, tau)
        if i == 0:
            return shift + times[0]
        left = tau - area[i - 1]
        t0 = times[i - 1]
        r0 = self.rates[i - 1]
        slope = (self.rates[i] - r0) / (times[i] - t0)
        # r0 x + slope x^2 / 2 = left, in the form that stays exact as slope -> 0
        root = math.sqrt(max(r0 * r0 + 2.0 * slope * left, 0.0))
        return shift + min(t0 + 2.0 * left / (r0 + root), times[i]) if left > 0 else shift + t0

    # -- figures over a window --------------------------------------------------------------
    def mean(self, start: float, end: float) -> float:
        if end <= start:
            return self.rate(start)
        return (self.integral(end) - self.integral(start)) / (end - start)

    def peak(self, start: float, end: float) -> float:
        """The highest rate from start to end."""
        best = max(self.rate(start), self.rate(end))
        times, rates, period = self.times, self.rates, self.period
        for i, t in enumerate(times):
            if period > 0 and i >= self.cycle_from:  # its first copy from start on
                t += period * max(math.ceil((start - t) / period), 0)
            if start <= t <= end:
                best = max(best, rates[i])
        return best


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class ScheduledGaps:
    """The gap from now to the next arrival of a client whose rate follows a schedule."""

    __slots__ = ("rates", "unit", "kernel", "tau")

    def __init__(self, rates: RateSchedule, unit: Callable[[], float], kernel: Kernel):
        self.rates = rates
        self.unit = unit  # renewal gaps of mean 1 in operational time
        self.kernel = kernel
        self.tau = 0.0  # operational time of the last arrival

    def begin(self, now: float) -> None:
        """Start the stream afresh at `now` (the start, or a `set` of the rate)."""
        self.tau = self.rates.integral(now)

    def sample(self) -> float:
        self.tau += self.unit()
        return self.rates.inverse(self.tau) - self.kernel.now


# -- the shapes ----------------------------------------------------------------------------
# Each takes the client's rate_rps (`base`) and the schedule's parameters as the validator
# left them (defaults filled in), and gives points and where they start repeating.

Points = tuple[list[float], list[float], int]


def _held(times: list[float], rates: list[float]) -> Points:
    return times, rates, len(times) - 1


def _points(base: float, s: dict[str, Any]) -> Points:
    """rate_rps until the first point, then straight lines through the points."""
    first = float(s["points"][0][0])
    times, rates = [0.0, first], [base, base]
    for t, r in s["points"]:
        times.append(float(t))
        rates.append(float(r))
    return _held(times, rates)


def _step(base: float, s: dict[str, Any]) -> Points:
    return _held([0.0, s["at_s"], s["at_s"]], [base, base, s["to_rps"]])


def _ramp(base: float, s: dict[str, Any]) -> Points:
    return _held([0.0, s["start_s"], s["end_s"]], [base, base, s["to_rps"]])


def _spike(base: float, s: dict[str, Any]) -> Points:
    at, top = s["at_s"], s["at_s"] + s["rise_s"]
    down = top + s["hold_s"]
    return _held([0.0, at, top, down, down + s["decay_s"]],
                 [base, base, s["peak_rps"], s["peak_rps"], base])


def _diurnal(base: float, s: dict[str, Any]) -> Points:
    """base at the trough, peak_rps at peak_at_s and every period_s from there."""
    period, peak_at, swing = s["period_s"], s["peak_at_s"], s["peak_rps"] - base

    def rate(t: float) -> float:
        return base + swing * (1.0 + math.cos(2.0 * math.pi * (t - peak_at) / period)) / 2.0

    step = period / DIURNAL_PIECES
    before = max(math.ceil(peak_at / step) - 1, 0)  # pieces' ends between 0 and peak_at
    times = ([0.0] if peak_at > 0 else []) + [peak_at - k * step for k in range(before, 0, -1)]
    cycle_from = len(times)
    times += [peak_at + k * step for k in range(DIURNAL_PIECES + 1)]
    return times, [rate(t) for t in times], cycle_from


def _bursts(base: float, s: dict[str, Any]) -> Points:
    """base, with burst_s at burst_rps from first_s and every every_s after."""
    first, end = s["first_s"], s["first_s"] + s["burst_s"]
    burst, every = s["burst_rps"], s["every_s"]
    times = [0.0, first, first, end, end, first + every]
    return times, [base, base, burst, burst, base, base], 1


SHAPES: dict[str, Callable[[float, dict[str, Any]], Points]] = {
    "points": _points, "step": _step, "ramp": _ramp, "spike": _spike, "diurnal": _diurnal,
    "bursts": _bursts}


def rate_schedule(base: float, schedule: dict[str, Any]) -> RateSchedule:
    """The rate over time of a client with rate_rps `base` and this (valid) schedule."""
    times, rates, cycle_from = SHAPES[schedule["shape"]](float(base), schedule)
    return RateSchedule(times, rates, cycle_from)

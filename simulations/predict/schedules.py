"""Clients whose rate follows a schedule: what the schedule itself gives (its expected
arrivals, mean and peak rate over the measured part of the run), and which pools the peak
takes over capacity, with the backlog a fluid model builds there.

Every other prediction is of a steady state: it takes each schedule at its mean rate
(`_Design.rate`). That says nothing of the hours above the mean, which is what these
figures are for.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from ..theory.fluid import fluid_backlog
from .design import POOLS, _Design
from .load import _Load, _Shared
from .timing import _Timing

SCHEDULE_ASSUMPTION = (
    "Clients with a schedule: every steady-state figure (loads, utilisations, waits, "
    "latencies, saturation, cost per request) takes each schedule at its mean rate over "
    "the measured part of the run (warmup_s to duration_s), as if that rate were constant. "
    "peak_utilisation is a pool's offered load with every scheduled client at its peak at "
    "once; where it is 1 or more, the steady-state figures hide a backlog, which "
    "peak_backlog estimates as a fluid (arrivals above capacity pile up, randomness ignored; "
    "each client's share of requests reaching the pool as at its mean rate).")

FLUID_STEPS = 2000  # the measured part of the run in this many steps for the fluid backlog,
MAX_EDGES = 20_000  # and at most this many more at the schedules' points


def schedule_figures(design: _Design, load: _Load, timing: _Timing
                     ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Per scheduled client: its expected arrivals, mean and peak rate; per pool: its
    utilisation at the peak and, above capacity, the fluid backlog."""
    start, end = design.measured
    clients = {cid: {"expected_arrivals": s.integral(end) - s.integral(start),
                     "mean_rps": s.mean(start, end), "peak_rps": s.peak(start, end),
                     "measured_s": [start, end]}
               for cid, s in design.schedules.items()}
    peak = _Timing(design, _Load(design, 1.0, _Shared(), peak=True))
    pools: dict[str, dict[str, Any]] = {}
    for cid, fit in peak.fits.items():
        if design.kind[cid] not in POOLS or fit.offered is None or \
                not math.isfinite(fit.offered):
            continue
        pools[cid] = {"peak_utilisation": fit.offered}
        steady = timing.fits.get(cid)
        if fit.offered >= 1.0 and steady is not None and steady.lam and steady.offered:
            capacity = steady.lam / steady.offered  # requests per second its workers serve
            pools[cid].update(_backlog(design, load, cid, capacity))
    return clients, pools


def _backlog(design: _Design, load: _Load, cid: str, capacity: float) -> dict[str, Any]:
    """The fluid backlog at a pool over the measured part of the run: its arrivals in each
    step are every client's arrivals in that step times the share of them that reaches
    the pool (at the mean rate)."""
    from_client: dict[str, float] = defaultdict(float)
    for (origin, _, _), r in load.flows[cid].items():
        from_client[origin] += r
    steady = 0.0  # what unscheduled origins (and write-behind flushes) send, per second
    shares = {}
    for origin, r in from_client.items():
        if origin in design.schedules and load.origin_rate.get(origin):
            shares[origin] = r / load.origin_rate[origin]
        else:
            steady += r
    edges = _edges(design)
    totals = {o: [design.schedules[o].integral(t) for t in edges] for o in shares}
    spans = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    arrived = [steady * span + math.fsum(share * (totals[o][k + 1] - totals[o][k])
                                         for o, share in shares.items())
               for k, span in enumerate(spans)]
    backlog = fluid_backlog(arrived, [capacity * span for span in spans])
    worst = max(range(len(backlog)), key=backlog.__getitem__)
    out: dict[str, Any] = {"capacity_rps": capacity, "peak_backlog": backlog[worst],
                           "peak_backlog_at_s": edges[worst + 1]}
    drained = next((k for k in range(worst, len(backlog)) if backlog[k] == 0.0), None)
    if backlog[worst] > 0 and drained is not None:
        out["drain_s"] = edges[drained + 1] - edges[worst + 1]
    return out


def _edges(design: _Design) -> list[float]:
    """Steps of the measured part of the run: an even grid, and every point of the
    schedules within it (so that a step or a spike's edge is not smeared over a step), their
    repeats included unless there are too many."""
    start, end = design.measured
    edges = {start + (end - start) * k / FLUID_STEPS for k in range(FLUID_STEPS + 1)}
    for s in design.schedules.values():
        times = list(s.times)
        if s.period > 0:
            cycle = s.times[s.cycle_from:]
            repeats = math.ceil((end - cycle[0]) / s.period)
            if repeats * len(cycle) <= MAX_EDGES:
                times += [t + k * s.period for k in range(1, repeats + 1) for t in cycle]
        edges.update(t for t in times if start < t < end)
    return sorted(edges)

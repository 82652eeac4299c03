"""Topics: each consumer group's mean lag and wait."""

from __future__ import annotations

import math
from typing import Any

from .. import registry
from .. import theory as qt
from .design import MS, NO_TIME, _Design, _topic_groups
from .load import _Load
from .timing import _Timing

TOPIC_MODEL = ("each partition a FIFO queue at the worker it is dealt to, at the rate of its "
               "keys (by the key hash): M/G/1 (Pollaczek-Khinchine; M/M/1 for exponential "
               "service) per partition when the worker has a slot for each, one M/G/1 for all "
               "its partitions when it has one slot; lag = messages waiting + in service")


def _topic_lags(design: _Design, load: _Load, timing: _Timing, cid: str) -> dict[str, Any]:
    """Mean lag and wait of each consumer group. Exact for Poisson arrivals when every worker
    takes messages from this group only and has a slot per partition (independent queues)
    or a single slot (a work-conserving server: its number in system does not depend on the
    order it serves partitions in); other slot counts are not predicted."""
    n = design.settings[cid]["partitions"]
    rates = [0.0] * n
    for (origin, op, via), rate in load.flows[cid].items():
        for j in range(n):
            rates[j] += rate * load.shape((origin, op, via + (("shard", n, j),)))[1]
    total = math.fsum(rates)
    out: dict[str, Any] = {}
    for name, links in _topic_groups(design.calls[cid]).items():
        lag = waiting = 0.0
        note = None
        for k, link in enumerate(links):
            w, parts = link.to, rates[k::len(links)]
            hold = timing.holding.get(w, (None, False))[0]
            slots = registry.slots(design.settings[w])
            if not math.fsum(parts):
                continue
            if design.graph.in_degree(w) > 1:
                note = f"not predicted: worker '{w}' also takes messages from elsewhere"
            elif hold is None:
                note = f"not predicted: the time of worker '{w}' is not predicted"
            elif 1 < slots < len(parts):
                note = f"not predicted: worker '{w}' has fewer slots than partitions, but more " \
                       "than one"
            elif hold.mean > NO_TIME:
                for lam in (parts if slots >= len(parts) else [math.fsum(parts)]):
                    if lam * hold.mean >= 1.0:
                        note = f"saturated at worker '{w}': the lag grows without bound"
                    elif lam > 0:
                        m = qt.mg1(lam, hold.mean, hold.cv)
                        lag, waiting = lag + m.mean_in_system, waiting + m.mean_queue
        out[name] = {"note": note} if note else {
            "mean_lag": lag, "mean_wait_ms": waiting / total * MS if total > 0 else 0.0,
            "model": TOPIC_MODEL + ("" if load.arrival_cv([cid]) == 1.0 else
                                    " (arrivals are not Poisson here: approximate)")}
    return out

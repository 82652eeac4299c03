"""A service or worker pool run as a group of instances (components/fleet.py): how many
instances it runs at a rate, what that costs, the backlog a step above capacity builds and
the sessions it misses (the formulas: theory/scaling.py and fluid.py)."""

from __future__ import annotations

import math
from typing import Any

from .. import theory as qt
from ..registry import instance_cost, size_of


def instance_count(s: dict[str, Any], rate: float, holding_s: float,
                   consumer: bool = False) -> int:
    """The instances a group runs at `rate`: its fixed count, or the count its autoscaler
    settles at (target tracking's fixed point) when that can be worked out. A `consumer`
    (worker pool) has one queue for all its instances, and its queue figure is its backlog:
    messages waiting plus those in process."""
    if s["autoscale"] == "none":
        return s["instances"]
    low, high = s["min_instances"], s["max_instances"]
    workers = size_of(s)[0]
    if s["autoscale"] == "rps":
        return qt.instances_needed(rate, 1.0, s["scale_target"], low, high)
    if holding_s <= 0:
        return low
    capacity = workers / holding_s
    if s["autoscale"] == "utilisation":
        return qt.instances_needed(rate, capacity, s["scale_target"], low, high)
    if consumer:  # the fewest whose M/M/(n c) backlog per instance is within the target
        for n in range(low, high + 1):
            if rate < n * capacity and (qt.mmc(rate, 1.0 / holding_s, n * workers).mean_queue
                                        + rate * holding_s) / n <= s["scale_target"]:
                return n
        return high
    # queue: the fewest instances whose M/M/c mean queue each is within the target
    for n in range(low, high + 1):
        if rate / n < capacity and qt.mmc(rate / n, 1.0 / holding_s, workers).mean_queue \
                <= s["scale_target"]:
            return n
    return high


def fleet_fields(s: dict[str, Any], rate: float, holding_s: float, count: int,
                 step: tuple[float, float],
                 balancer: dict[str, Any] | None, consumer: bool = False) -> dict[str, Any]:
    """The group's predicted figures at `rate`, and the step from its rate at the start to
    its highest (`step`: both offered rates) if higher, behind `balancer` (the settings of
    the first in front; None: none). `consumer`: a worker pool (instance_count)."""
    start, high = step
    health_s = balancer["health_check_s"] if balancer else 0.0
    sticky = balancer is not None and balancer["algorithm"] == "ip_hash"
    workers = size_of(s)[0]
    capacity = workers / holding_s if holding_s > 0 else math.inf
    out: dict[str, Any] = {"count": count, "capacity_rps_per_instance": capacity,
                           "cost_per_hour": instance_cost(s) * count,
                           "model": "fixed count" if s["autoscale"] == "none" else
                           "target tracking fixed point: the fewest n whose backlog per "
                           "instance, (L_q of M/M/(n c) + rate x S) / n, is within the target"
                           if consumer and s["autoscale"] == "queue" else
                           "target tracking fixed point: ceil(rate / (capacity x target))"}
    if s["autoscale"] != "none" and high > start:
        reaction = qt.reaction_s(s["scale_period_s"], s["scale_out_cooldown_s"],
                                 s["boot_s"] + health_s)
        before = instance_count(s, start, holding_s, consumer)
        backlog = qt.step_backlog(high, capacity * before, reaction)
        after = instance_count(s, high, holding_s, consumer)
        out["step"] = {"to_rps": high, "count": after, "reaction_s": reaction,
                       "backlog": backlog, "drain_s": qt.drain_s(backlog, high, capacity * after),
                       "model": "fluid: (rate - capacity) x (period + cooldown + boot + "
                                "health check); drained at capacity after - rate"}
    if s.get("sessions") == "local":
        out["session_miss_ratio"] = qt.session_miss_share(count, sticky)
        out["sessions_lost_share_per_failure"] = qt.sessions_lost_share(count)
    return out

"""Groups of instances: capacity, the count target tracking settles at, how late the group
reacts to a step (its backlog meanwhile: fluid.py), and what local sessions cost.

Sources:
* Target tracking: AWS, "Target tracking scaling policies for Amazon EC2 Auto Scaling"
  (docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html): the
  group is sized so that the tracked metric per instance is at the target, i.e. desired =
  ceil(current x metric / target); its fixed point for a load that does not depend on the
  count is ceil(load / target per instance).
* A step's backlog and its drain: fluid.py.
* Sessions held by one of N servers picked independently per request (round robin over many
  interleaved users, random): a request lands where its user's last session is with
  probability 1/N (M. Harchol-Balter, *Performance Modeling and Design of Computer Systems*,
  CUP 2013, ch. 24 on dispatching: round robin and random spread a user's requests evenly).
"""

from __future__ import annotations

import math

from .inputs import _integer, _nonneg, _positive

EPSILON = 1e-9  # 3.0000000001 instances needed is 3


def instance_capacity(workers: int, speed: float, service_s: float) -> float:
    """Requests per second one instance completes when every worker is busy: c speed / S."""
    return _integer("workers", workers, 1) * _positive("speed", speed) / _positive(
        "service_s", service_s)


def instances_needed(rate: float, capacity: float, target: float, low: int = 1,
                     high: int | None = None) -> int:
    """The count target tracking settles at: ceil(rate / (capacity x target)), within
    [low, high]. `capacity` is one instance's (requests/s at full use) and `target` the
    utilisation aimed at; for a requests-per-instance target pass capacity 1 and that
    target."""
    needed = _nonneg("rate", rate) / (_positive("capacity", capacity) * _positive(
        "target", target))
    n = max(low, math.ceil(needed - EPSILON))
    return n if high is None else min(n, high)


def reaction_s(period_s: float, cooldown_s: float, boot_s: float) -> float:
    """How long a group runs short after a step, at worst: the step lands just after an
    evaluation (a period to see it), a scale-out just happened (its cooldown), then the
    new instances boot (and pass a balancer's health check)."""
    return _nonneg("period_s", period_s) + _nonneg("cooldown_s", cooldown_s) + _nonneg(
        "boot_s", boot_s)


def session_miss_share(n: int, sticky: bool) -> float:
    """Share of a user's later requests that land on an instance without their local
    session: (N - 1) / N when each request picks an instance independently (round robin over
    many users, random), 0 when sticky (ip_hash) and the group does not change."""
    n = _integer("n", n, 1)
    return 0.0 if sticky else (n - 1) / n


def sessions_lost_share(n: int) -> float:
    """Share of the active local sessions one instance failure loses: the 1/N the failed
    instance held (users are spread evenly)."""
    return 1.0 / _integer("n", n, 1)

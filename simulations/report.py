"""The report (format playground.report/v1) of a run, with analytic predictions beside it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

from .components.base import OUTCOME_NAMES
from .metrics import LatencyHistogram
from .predict import predict

if TYPE_CHECKING:
    from .components.base import Component, Link
    from .components.client import Client
    from .kernel import Kernel
    from .scenario import Scenario

REPORT_FORMAT = "playground.report/v1"


class Run(Protocol):
    """What a report reads of a run (engine.Simulation, which imports this module)."""

    scenario: Scenario
    seed: int
    kernel: Kernel
    warmup_s: float
    wall_s: float
    components: dict[str, Component]
    links: dict[int, Link]

    def clients(self) -> list[Client]: ...


def build_report(sim: Run) -> dict[str, Any]:
    now = sim.kernel.now
    clients = sim.clients()
    latency = LatencyHistogram()
    for c in clients:
        latency.merge(c.latency)
    succeeded = sum(c.succeeded for c in clients)
    failed = sum(sum(c.failures.values()) for c in clients)
    failures = {name: sum(c.failures[name] for c in clients) for name in OUTCOME_NAMES[1:]}
    measured = max(now - sim.warmup_s, 0.0)
    summary = {
        "requests": sum(c.requests for c in clients), "succeeded": succeeded,
        "failed": failed, "failures": failures,  # by outcome: 429s apart from 503s
        "success_ratio": succeeded / (succeeded + failed) if succeeded + failed else 0.0,
        "throughput_rps": succeeded / measured if measured else 0.0,
        "latency_ms": latency.summary((0.5, 0.9, 0.95, 0.99)),
    }
    costs = {cid: c.cost_per_hour(now) for cid, c in sim.components.items()}
    summary["cost_per_hour"] = math.fsum(costs.values())
    if summary["throughput_rps"]:  # else there is no cost per request
        summary["cost_per_million_requests"] = \
            summary["cost_per_hour"] / (summary["throughput_rps"] * 3600.0) * 1e6
    report = {
        "format": REPORT_FORMAT, "scenario": sim.scenario.name, "seed": sim.seed,
        "duration_s": now, "warmup_s": sim.warmup_s,
        "events_processed": sim.kernel.events, "wall_s": sim.wall_s,
        "summary": summary,
        "components": {cid: {**c.report(now), "cost_per_hour": costs[cid]}
                       for cid, c in sim.components.items()},
    }
    # Links with payloads or protocols (absent when there are none, as in older reports),
    # by "from->to" (two call links never join the same two components).
    links = {f"{fields['from']}->{fields['to']}": fields for link in sim.links.values()
             if (fields := link.report(now)) is not None}
    if links:
        report["links"] = links
    # From the scenario alone, never from the run: each checks the other.
    report["predictions"] = predict(sim.scenario)
    return _tidy(report)


def _tidy(value: Any) -> Any:
    """Round floats for reading (ratios and ms to 4 decimals); never emit NaN."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value

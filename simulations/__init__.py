"""The System Design Playground engine: a discrete-event simulator of system designs.

Pure Python; it never imports Django or the web app.

    from simulations import run, validate, Simulation
    report = run(json.load(open("design.json")), seed=7)
"""

from __future__ import annotations

from typing import Any

from .engine import Simulation
from .registry import KINDS, registry_json
from .scenario import FORMAT, LIMITS, Scenario, ScenarioError, load, validate

__all__ = ["FORMAT", "KINDS", "LIMITS", "Scenario", "ScenarioError", "Simulation", "load",
           "registry_json", "run", "validate"]


def run(scenario: Scenario | dict[str, Any], seed: int | None = None,
        duration_s: float | None = None) -> dict[str, Any]:
    """Validate and run a scenario headless; returns the report."""
    return Simulation(scenario, seed=seed, duration_s=duration_s).run()

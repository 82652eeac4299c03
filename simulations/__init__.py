"""The System Design Playground engine: a discrete-event simulator of system designs.

Pure Python; it never imports Django or the web app. Compiled with mypyc when built
(simulations/compiled.py): then COMPILED is true.

    from simulations import run, validate, Simulation
    report = run(json.load(open("design.json")), seed=7)
"""

from __future__ import annotations

from typing import Any

from . import compiled

COMPILED = compiled.use_build(__path__)

from .engine import Simulation  # noqa: E402 (after the choice of modules)
from .registry import KINDS, registry_json  # noqa: E402
from .scenario import (  # noqa: E402
    FORMAT,
    LIMITS,
    Scenario,
    ScenarioError,
    check_draft,
    load,
    validate,
)

__all__ = ["COMPILED", "FORMAT", "KINDS", "LIMITS", "Scenario", "ScenarioError", "Simulation",
           "check_draft", "load", "registry_json", "run", "validate"]


def run(scenario: Scenario | dict[str, Any], seed: int | None = None,
        duration_s: float | None = None) -> dict[str, Any]:
    """Validate and run a scenario headless; returns the report."""
    return Simulation(scenario, seed=seed, duration_s=duration_s).run()

"""Grading a design by running it: an assignment's goals, checked over several seeds.

An assignment gives a brief (the starting scenario: its clients are the traffic every design
is graded under) and goals. A design is graded as the assignment sees it: the brief's clients
with the brief's parameters, none of the design's own scheduled events (they could bend the
traffic), the assignment's fault drill instead, the assignment's duration; then one headless
run per seed. A goal is met only if it holds on every seed: a design should meet its goals
reliably, not by luck, so the worst figure over the seeds is the one shown.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .registry import KINDS
from .scenario import LIMITS, Event, ScenarioError, _errors_of, validate

MAX_SEEDS = 10
MAX_GRADED_S = 3600.0  # simulated seconds of one graded run: grading stays minutes, not hours

Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Goals(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    p99_ms_max: Annotated[float, Field(gt=0, le=3_600_000, allow_inf_nan=False)] | None = None
    success_ratio_min: Ratio | None = None
    cost_per_hour_max: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None
    faults: Annotated[list[Event], Field(max_length=20)] = []
    allowed_kinds: list[Literal[tuple(KINDS)]] | None = None  # type: ignore[valid-type]
    max_components: Annotated[int, Field(ge=1, le=LIMITS["components"])] | None = None
    seeds: Annotated[list[Annotated[int, Field(ge=0, le=2**31)]],
                     Field(min_length=1, max_length=MAX_SEEDS)] = [1, 2, 3]
    duration_s: Annotated[float, Field(gt=0, le=MAX_GRADED_S, allow_inf_nan=False)] = 120.0
    warmup_s: Annotated[float, Field(ge=0, le=MAX_GRADED_S, allow_inf_nan=False)] = 10.0


def check_goals(data: Any, brief: dict[str, Any] | None = None) -> Goals:
    """The goals, or ScenarioError naming each wrong field (`goals.p99_ms_max: ...`). With the
    brief, also checks the fault drill targets components the brief has."""
    try:
        goals = Goals.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_errors_of(exc, ("goals",))) from None
    errors = []
    if count_goals(goals) == 0:
        errors.append("goals: set at least one of p99_ms_max, success_ratio_min, "
                      "cost_per_hour_max")
    if goals.warmup_s >= goals.duration_s:
        errors.append(f"goals.warmup_s: must be < duration_s ({goals.duration_s:g})")
    for i, fault in enumerate(goals.faults):
        if fault.at_s > goals.duration_s:
            errors.append(f"goals.faults[{i}].at_s: must be <= duration_s "
                          f"({goals.duration_s:g})")
    if brief is not None:
        ids = {c.get("id") for c in brief.get("components", []) if isinstance(c, dict)}
        if not _clients(brief):
            errors.append("brief: needs at least one client: its traffic grades the designs")
        for i, fault in enumerate(goals.faults):
            targets = fault.target if isinstance(fault.target, list) else [fault.target]
            errors += [f"goals.faults[{i}].target: the brief has no component {t!r}"
                       for t in targets if t not in ids]
    if errors:
        raise ScenarioError(errors)
    return goals


def _clients(doc: dict[str, Any]) -> dict[str, dict]:
    return {c["id"]: c for c in doc.get("components", [])
            if isinstance(c, dict) and c.get("kind") == "client"}


def graded_document(design: dict[str, Any], brief: dict[str, Any], goals: Goals
                    ) -> dict[str, Any]:
    """The design as it is graded, or ScenarioError saying why it cannot be."""
    doc = copy.deepcopy(design)
    if not isinstance(doc, dict) or not isinstance(doc.get("components"), list):
        raise ScenarioError(["(design): not a scenario document"])
    errors = []
    traffic = _clients(brief)
    mine = _clients(doc)
    for cid in traffic.keys() - mine.keys():
        errors.append(f"components: the assignment's client {cid!r} is missing (the "
                      "assignment's traffic comes from it)")
    for cid in mine.keys() - traffic.keys():
        errors.append(f"components: client {cid!r} is not the assignment's (traffic is "
                      "fixed by the assignment)")
    for comp in doc["components"]:
        if isinstance(comp, dict) and comp.get("id") in traffic:
            comp["params"] = copy.deepcopy(traffic[comp["id"]].get("params", {}))
    if goals.allowed_kinds is not None:
        allowed = set(goals.allowed_kinds) | {"client"}
        for i, comp in enumerate(doc["components"]):
            if isinstance(comp, dict) and comp.get("kind") not in allowed:
                errors.append(f"components[{i}].kind: {comp.get('kind')!r} is not allowed in "
                              f"this assignment (allowed: {', '.join(sorted(allowed))})")
    if goals.max_components is not None and len(doc["components"]) > goals.max_components:
        errors.append(f"components: {len(doc['components'])} components, the assignment "
                      f"allows at most {goals.max_components}")
    ids = {c.get("id") for c in doc["components"] if isinstance(c, dict)}
    for fault in goals.faults:
        targets = fault.target if isinstance(fault.target, list) else [fault.target]
        errors += [f"components: the fault drill fails {t!r} at {fault.at_s:g} s but the "
                   f"design has no component {t!r}" for t in targets if t not in ids]
    if errors:
        raise ScenarioError(errors)
    doc["duration_s"] = goals.duration_s
    doc["warmup_s"] = goals.warmup_s
    doc["events"] = [f.model_dump() for f in goals.faults]
    validate(doc)
    return doc


GOAL_TEXT = {
    "p99_ms": ("p99 latency at most {:g} ms", "p99_ms_max", max),
    "success_ratio": ("success ratio at least {:g}", "success_ratio_min", min),
    "cost_per_hour": ("cost at most {:g} per hour", "cost_per_hour_max", max),
}


def measured(report: dict[str, Any]) -> dict[str, float | None]:
    """The figures goals are about, from a report (or a live frame's summary)."""
    summary = report.get("summary", report)
    latency = summary.get("latency_ms") or {}
    return {"p99_ms": latency.get("p99"), "success_ratio": summary.get("success_ratio"),
            "cost_per_hour": summary.get("cost_per_hour")}


def _met(goal: str, target: float, value: float | None) -> bool:
    if value is None:  # no request answered: no latency to meet a goal with
        return False
    return value >= target if goal == "success_ratio" else value <= target


def goal_list(goals: Goals) -> list[dict[str, Any]]:
    """The goals an assignment sets, in words: what the editor shows beside the canvas."""
    return [{"goal": goal, "text": text.format(getattr(goals, field)),
             "target": getattr(goals, field)}
            for goal, (text, field, _) in GOAL_TEXT.items() if getattr(goals, field) is not None]


def evaluate(figures: list[dict[str, float | None]], goals: Goals) -> list[dict[str, Any]]:
    """Each goal the assignment sets, met or missed, with the worst figure over the runs."""
    out, at_worst = [], worst(figures)
    for item in goal_list(goals):
        goal, target = item["goal"], item["target"]
        values = [f[goal] for f in figures]
        out.append({**item, "measured": at_worst[goal], "per_seed": values,
                    "met": all(_met(goal, target, v) for v in values)})
    return out


def grade(design: dict[str, Any], brief: dict[str, Any], goals: Goals,
          run: Callable[[dict[str, Any], int], dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    """Run the design once per seed under the assignment's traffic and faults and check
    every goal. A design that cannot be graded meets nothing and says why."""
    if run is None:
        from .engine import Simulation

        def run(doc: dict[str, Any], seed: int) -> dict[str, Any]:
            return Simulation(doc, seed=seed).run()

    try:
        doc = graded_document(design, brief, goals)
    except ScenarioError as exc:
        return {"gradable": False, "errors": exc.errors, "met": False, "goals": [],
                "score": 0, "out_of": count_goals(goals), "seeds": goals.seeds}
    figures = [measured(run(doc, seed)) for seed in goals.seeds]
    results = evaluate(figures, goals)
    score = sum(r["met"] for r in results)
    return {"gradable": True, "errors": [], "met": score == len(results), "goals": results,
            "score": score, "out_of": len(results), "seeds": goals.seeds,
            "worst": worst(figures)}


def worst(figures: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each figure at its worst over the runs (also those no goal is about: a leaderboard
    ranks by cost)."""
    out = {}
    for goal, (_, _, worst_of) in GOAL_TEXT.items():
        values = [f[goal] for f in figures]
        out[goal] = None if None in values else worst_of(values)
    return out


def count_goals(goals: Goals) -> int:
    return len(goal_list(goals))


def grade_plain(design: dict[str, Any], brief: dict[str, Any], goals: dict[str, Any]
                ) -> dict[str, Any]:
    """`grade` with plain data in and out: what a grading child process runs."""
    return grade(design, brief, check_goals(goals))

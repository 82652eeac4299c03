"""Property tests of the validator and the engine on random scenario documents.

Valid documents (tests/engine/strategies.py) are random designs with random parameters,
events, failures, timeouts and retries, short (<= 5 s) and modest (<= 2000 rps), so the
file runs in well under a minute. Invalid documents are mutations of valid ones.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import ScenarioError, Simulation, run, validate
from tests.engine.strategies import (
    error_path_ok,
    invalid_scenarios,
    json_values,
    valid_scenarios,
)

SETTINGS = settings(max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RATIO_KEYS = {"success_ratio", "hit_ratio", "available_ratio", "utilisation"}
QUANTILES = ("p50", "p90", "p95", "p99")
TOL = 1e-3  # reports round floats to 4 decimals


def without_wall(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "wall_s"}


def is_ratio(key: str) -> bool:
    return key.endswith("_ratio") or key in ("utilisation", "availability")


def check_report(report: dict[str, Any]) -> None:
    """No NaN or Infinity anywhere; null only for the statistics of an empty latency
    histogram (or a prediction not made); ratios in [0, 1]; measured numbers non-negative;
    quantiles ordered."""
    def walk(value: Any, path: str, in_latency: bool, predicted: bool) -> None:
        if value is None:
            assert in_latency or predicted, f"{path} is null outside a latency summary"
        elif isinstance(value, bool | str):
            pass
        elif isinstance(value, int | float):
            assert math.isfinite(value), f"{path} = {value}"
            assert predicted or value >= 0, f"{path} = {value} is negative"
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}", in_latency or k == "latency_ms",
                     predicted or k == "predictions")
                if is_ratio(k) and not isinstance(v, dict | list | None):
                    assert isinstance(v, int | float) and 0.0 <= v <= 1.0, f"{path}.{k} = {v}"
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", in_latency, predicted)
        else:
            raise AssertionError(f"{path}: unexpected {type(value).__name__}")

    walk(report, "report", False, False)
    assert report["summary"]["success_ratio"] is not None
    for cid, comp in report["components"].items():
        for key in RATIO_KEYS & set(comp):
            assert comp[key] is not None, f"components.{cid}.{key} is null"

    def latency(summary: dict[str, Any], path: str) -> None:
        values = [summary.get(q) for q in QUANTILES if q in summary]
        if summary.get("mean") is None:
            assert all(v is None for v in summary.values()), path
            return
        assert all(v is not None for v in values), path
        assert values == sorted(values), f"{path}: quantiles out of order {values}"
        assert values[-1] <= summary["max"] + TOL, path

    s = report["summary"]
    latency(s["latency_ms"], "summary.latency_ms")
    for cid, comp in report["components"].items():
        latency(comp["latency_ms"], f"components.{cid}.latency_ms")
    assert s["requests"] >= s["succeeded"] + s["failed"]
    done = s["succeeded"] + s["failed"]
    assert s["success_ratio"] == pytest.approx(s["succeeded"] / done if done else 0.0, abs=TOL)
    measured = report["duration_s"] - report["warmup_s"]
    assert s["throughput_rps"] == pytest.approx(s["succeeded"] / measured, rel=TOL, abs=TOL)
    assert (s["latency_ms"]["mean"] is not None) == (s["succeeded"] > 0)


def check_conservation(sim: Simulation, kinds_to_skip: tuple[str, ...] = ("client",)) -> None:
    """No request is lost: everything a component took in is answered or still held."""
    for cid, c in sim.components.items():
        if c.kind in kinds_to_skip:
            continue
        accounted = c.total_ok + c.total_rejected + c.total_failed + c.in_flight()
        assert c.total_in == accounted, (
            f"{cid} ({c.kind}): in {c.total_in} != ok {c.total_ok} + rejected "
            f"{c.total_rejected} + failed {c.total_failed} + in flight {c.in_flight()}")
        assert min(c.total_in, c.total_ok, c.total_rejected, c.total_failed) >= 0


@SETTINGS
@given(valid_scenarios())
def test_valid_scenarios_validate(doc):
    scenario = validate(doc)
    assert [c.id for c in scenario.components] == [c["id"] for c in doc["components"]]
    # Settings carry every registry parameter of the kind, defaults filled in.
    for comp, spec in zip(scenario.components, doc["components"], strict=True):
        for name, value in spec["params"].items():
            assert comp.settings[name] == value


@SETTINGS
@given(valid_scenarios())
def test_no_request_is_lost_and_reports_are_sane(doc):
    """(2) conservation on every non-client component, (3) a finite, consistent report."""
    sim = Simulation(doc)
    sim.advance(doc["duration_s"])
    check_conservation(sim)
    report = sim.report()
    check_report(report)
    assert report["duration_s"] == pytest.approx(doc["duration_s"], abs=TOL)
    # With no warm-up, the counts of the report obey the same conservation.
    for cid, comp in report["components"].items():
        c = sim.components[cid]
        if comp["kind"] == "client":
            continue
        assert comp["arrivals"] == comp["completed"] + comp["rejected"] + comp["failed"] + \
            c.in_flight(), cid
        if comp["kind"] == "cache":
            assert comp["hits"] + comp["misses"] <= comp["arrivals"]


@SETTINGS
@given(valid_scenarios(warmup=True))
def test_reports_with_warmup_are_sane(doc):
    report = run(doc)
    check_report(report)
    assert report["warmup_s"] == pytest.approx(doc.get("warmup_s", 0.0), abs=TOL)


def test_clients_conserve_requests():
    """A client's requests: issued == succeeded + failed (after retries) + outstanding."""
    from tests.engine.strategies import contract_example

    doc = contract_example()
    doc.update(duration_s=10, warmup_s=0, events=[])
    doc["components"][0]["params"].update(timeout_ms=80, retries=2, backoff_ms=5)
    sim = Simulation(doc)
    sim.advance(doc["duration_s"])
    client = sim.components["users"]
    assert client.total_ok > 0
    check_conservation(sim, kinds_to_skip=())


def test_same_seed_same_report_different_seed_usually_differs():
    outcomes: list[bool] = []

    @SETTINGS
    @given(valid_scenarios(warmup=True), st.integers(0, 2**32), st.integers(0, 2**32))
    def check(doc, seed_a, seed_b):
        first = without_wall(run(doc, seed=seed_a))
        assert first == without_wall(run(doc, seed=seed_a))
        assert first == without_wall(Simulation(doc, seed=seed_a).run())
        if seed_a != seed_b and first["summary"]["requests"] >= 20:
            outcomes.append(first != without_wall(run(doc, seed=seed_b)))

    check()
    assert len(outcomes) >= 10, "too few examples with traffic to judge"
    assert sum(outcomes) >= 0.9 * len(outcomes), outcomes


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(invalid_scenarios())
def test_invalid_documents_raise_scenario_error_naming_paths(doc):
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    errors = info.value.errors
    assert errors and all(isinstance(line, str) for line in errors)
    for line in errors:
        assert error_path_ok(doc, line), f"error line names no real path: {line!r}"


@settings(max_examples=60, deadline=None, database=None)
@given(json_values(20))
def test_random_json_is_rejected_cleanly(value):
    with pytest.raises(ScenarioError) as info:
        validate(value)
    for line in info.value.errors:
        assert error_path_ok(value, line), line

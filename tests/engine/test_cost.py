"""The running cost of a design: per component, per hour, per million requests.

Each component costs `cost_per_hour` per unit of what sizes it (a worker, 1000 cache keys,
else the component itself); the report averages it over the measured time, so a `set` that
resizes a component mid-run is paid for the time it held.
"""

from __future__ import annotations

import pytest

from simulations import KINDS, Simulation, run
from simulations.registry import HOURLY_COST
from tests.engine.scenarios import chain
from tests.engine.strategies import contract_example

TOL = 1e-3  # reports round floats to 4 decimals


def contract_design() -> dict:
    """The contract's example design, run for a minute without its events."""
    doc = contract_example()
    doc.update(duration_s=60, warmup_s=10, events=[])
    return doc


def test_every_kind_has_a_cost_and_the_defaults_name_real_kinds():
    for kind in KINDS.values():
        param = kind.param("cost_per_hour")
        assert param.default >= 0 and param.minimum == 0
    assert set(HOURLY_COST) <= set(KINDS)


def test_costs_add_up():
    doc = contract_design()
    doc["components"][2]["params"]["cost_per_hour"] = 0.2  # app1: 0.2 per worker-hour
    report = run(doc)
    # Default prices: 0.10 per service worker, 0.50 per database worker, 0.05 per 1000 cache
    # keys, 0.025 per load balancer; users cost nothing.
    expected = {"users": 0.0, "lb": 0.025, "app1": 8 * 0.2, "app2": 8 * 0.10,
                "cache": 5000 / 1000 * 0.05, "db": 4 * 0.50}
    costs = {cid: c["cost_per_hour"] for cid, c in report["components"].items()}
    assert costs == pytest.approx(expected, abs=TOL)
    assert report["summary"]["cost_per_hour"] == pytest.approx(sum(expected.values()), abs=TOL)
    assert report["predictions"]["cost"]["cost_per_hour"] == pytest.approx(
        sum(expected.values()), abs=TOL)


def test_cost_per_million_requests_is_cost_per_hour_over_hourly_throughput():
    report = run(contract_design())
    s = report["summary"]
    assert s["cost_per_million_requests"] == pytest.approx(
        s["cost_per_hour"] / (s["throughput_rps"] * 3600) * 1e6, rel=TOL)
    # Predicted at the offered rate (400 rps): every request counted as served.
    predicted = report["predictions"]["cost"]
    assert predicted["cost_per_million_requests"] == pytest.approx(
        predicted["cost_per_hour"] / (400 * 3600) * 1e6, rel=TOL)


def test_no_throughput_no_cost_per_request():
    report = run(chain({"rate_rps": 0.0}, [("service", {"service_ms": 1.0})], duration_s=10))
    assert report["summary"]["cost_per_hour"] == pytest.approx(0.10, abs=TOL)
    assert "cost_per_million_requests" not in report["summary"]
    assert "cost_per_million_requests" not in report["predictions"]["cost"]


def test_a_set_of_workers_changes_the_cost():
    """4 workers for the first 30 of 60 measured seconds, then 12: the report averages 8
    workers' cost over the run; a live frame shows the cost of the design as it stands."""
    doc = chain({"rate_rps": 100.0}, [("svc", "service", {"workers": 4, "service_ms": 5.0})],
                duration_s=70.0, warmup_s=10.0)
    sim = Simulation(doc, live=True)
    sim.advance(40.0)
    assert sim.frame()["summary"]["cost_per_hour"] == pytest.approx(4 * 0.10)
    sim.apply({"action": "set", "target": "svc", "params": {"workers": 12}})
    assert sim.frame()["summary"]["cost_per_hour"] == pytest.approx(12 * 0.10)
    sim.advance(70.0)
    report = sim.report()
    assert report["components"]["svc"]["cost_per_hour"] == pytest.approx(8 * 0.10, abs=TOL)
    assert report["summary"]["cost_per_hour"] == pytest.approx(8 * 0.10, abs=TOL)
    # Predictions read the design as written: 4 workers.
    assert report["predictions"]["cost"]["cost_per_hour"] == pytest.approx(4 * 0.10)


def test_a_set_of_the_price_changes_the_cost():
    doc = chain({"rate_rps": 10.0}, [("svc", "service", {"workers": 2, "service_ms": 1.0})],
                duration_s=100.0)
    doc["events"] = [{"at_s": 25, "action": "set", "target": "svc",
                      "params": {"cost_per_hour": 1.0}}]
    report = run(doc)
    # 0.2 per hour for 25 s, then 2.0 for 75 s.
    assert report["summary"]["cost_per_hour"] == pytest.approx((0.2 * 25 + 2.0 * 75) / 100,
                                                               abs=TOL)

"""Each client's own figures in live frames (its latency percentiles, answers per second and
error ratio), so groups placed side by side can be compared on screen; checked against
M/M/1 theory with a fixed seed."""

from __future__ import annotations

import math

import pytest

from simulations import Simulation

RATE = 50.0  # requests per second from each group's users


def two_groups() -> dict:
    """Two independent groups, each users -> one single-worker service (M/M/1): the slow
    group's service takes 10 ms (rho 0.5), the fast one's 4 ms (rho 0.2)."""
    comps, links = [], []
    for name, service_ms in (("slow", 10.0), ("fast", 4.0)):
        comps += [{"id": f"users_{name}", "kind": "client", "params": {"rate_rps": RATE}},
                  {"id": f"app_{name}", "kind": "service",
                   "params": {"workers": 1, "service_ms": service_ms}}]
        links.append({"from": f"users_{name}", "to": f"app_{name}"})
    return {"format": "playground.scenario/v1", "name": "two groups", "seed": 3,
            "duration_s": 400, "warmup_s": 0, "components": comps, "links": links}


def mm1(service_ms: float) -> tuple[float, float]:
    """M/M/1 response time (exponential with rate mu - lambda): mean and median, in ms."""
    gap = 1000.0 / service_ms - RATE
    return 1000.0 / gap, 1000.0 * math.log(2) / gap


def test_each_client_carries_its_own_latency_throughput_and_errors():
    sim = Simulation(two_groups(), live=True)
    means = {"users_slow": [], "users_fast": []}
    p50s = {"users_slow": [], "users_fast": []}
    for t in range(20, 400, 5):  # frames 5 s apart: disjoint rolling windows
        sim.advance(t)
        frame = sim.frame()
        clients = {cid: frame["components"][cid] for cid in means}
        for cid, state in clients.items():
            assert state["p50"] <= state["p95"] <= state["p99"], cid
            assert state["error_ratio"] == 0.0
            means[cid].append(state["mean"])
            p50s[cid].append(state["p50"])
        # the groups' answers add up to the design's
        assert sum(s["ok_rps"] for s in clients.values()) == \
            pytest.approx(frame["summary"]["ok_rps"], rel=0.01)
    for cid, service_ms in (("users_slow", 10.0), ("users_fast", 4.0)):
        mean, median = mm1(service_ms)
        # averages over 76 windows of ~250 requests each: within 10% of theory
        assert sum(means[cid]) / len(means[cid]) == pytest.approx(mean, rel=0.10), cid
        assert sum(p50s[cid]) / len(p50s[cid]) == pytest.approx(median, rel=0.10), cid
    assert min(means["users_slow"]) > max(means["users_fast"])  # apart in every window


def test_a_failing_group_shows_its_own_error_ratio():
    doc = two_groups()
    doc["events"] = [{"at_s": 10, "action": "fail", "target": "app_slow"}]
    sim = Simulation(doc, live=True)
    sim.advance(15)
    comps = sim.frame()["components"]
    assert comps["users_slow"]["error_ratio"] == 1.0 and comps["users_slow"]["ok_rps"] == 0
    assert comps["users_fast"]["error_ratio"] == 0.0
    assert comps["users_fast"]["ok_rps"] == pytest.approx(RATE, rel=0.3)
    assert comps["users_slow"]["p99"] is None  # no answer in the last 5 s: no latency

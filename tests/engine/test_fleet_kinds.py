"""Sizes and instances beyond the service (issue 17): a worker pool run as instances of a
size, autoscaled on its backlog, and a database of a named size, checked against M/M/c and
the predictions with fixed seeds and stated tolerances."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import Simulation, run, theory
from simulations.engine import ScenarioError
from simulations.registry import SIZES
from tests.engine.scenarios import chain

TOL = 1e-3  # reports round to 4 decimals


def pool(rate: float, worker: dict, **doc) -> dict:
    """client -> queue -> worker "w"."""
    return chain({"rate_rps": rate}, [("q", "queue", {"enqueue_ms": 0.0}),
                                      ("w", "worker", {"service_ms": 20.0, **worker})], **doc)


def test_a_worker_pool_of_a_size_shares_its_load_over_its_instances():
    """3 `medium` instances (4 workers at speed 1 each) taking 500 messages/s of 20 ms:
    utilisation = lam S / (n c speed) = 5/6 for the pool and each instance (within 0.02),
    the queue's wait within 15% of M/M/12 (the instances share one queue), and the cost is
    3 times the size's price (seed 1, 300 s measured, about 150,000 messages)."""
    workers, speed, price = SIZES["medium"]
    doc = pool(500.0, {"size": "medium", "instances": 3}, duration_s=400, warmup_s=100)
    doc["seed"] = 1
    report = run(doc)
    w, q = report["components"]["w"], report["components"]["q"]
    rho = 500.0 * 0.020 / speed / (3 * workers)
    assert w["utilisation"] == pytest.approx(rho, abs=0.02)
    assert [inst["utilisation"] for inst in w["instances"]["per_instance"]] == pytest.approx(
        [rho] * 3, abs=0.02)
    mmc = theory.mmc(500.0, speed / 0.020, 3 * workers)
    assert q["mean_wait_ms"] == pytest.approx(mmc.mean_wait * 1000, rel=0.15)
    assert w["cost_per_hour"] == pytest.approx(3 * price, abs=TOL)
    predicted = report["predictions"]["components"]["w"]
    assert predicted["utilisation"] == pytest.approx(rho, abs=TOL)
    assert predicted["instances"]["count"] == 3
    queue = report["components"]["q"]["cost_per_hour"]
    assert report["predictions"]["cost"]["cost_per_hour"] == pytest.approx(3 * price + queue,
                                                                           abs=TOL)


def test_a_faster_size_divides_the_work():
    """A `large` worker instance (8 workers at speed 1.25): a 20 ms message takes 16 ms."""
    workers, speed, _ = SIZES["large"]
    report = run(pool(100.0, {"size": "large"}, duration_s=120, warmup_s=20))
    w = report["components"]["w"]
    assert w["latency_ms"]["mean"] == pytest.approx(20.0 / speed, rel=0.05)
    assert w["utilisation"] == pytest.approx(100 * 0.020 / speed / workers, abs=0.02)


BACKLOG = {"size": "small", "autoscale": "queue", "scale_target": 1.5, "min_instances": 1,
           "max_instances": 20, "scale_period_s": 10.0, "scale_out_cooldown_s": 20.0,
           "scale_in_cooldown_s": 60.0, "boot_s": 10.0}


@pytest.mark.parametrize("start", [1, 12])
def test_a_worker_pool_autoscaled_on_its_backlog_settles_where_predicted(start):
    """400 messages/s of 20 ms over `small` instances (2 workers), tracking a backlog
    (waiting + in process) of 1.5 per instance. The fewest instances whose M/M/(2n) backlog
    is within 1.5 each: n = 6 (8 + 0.35 messages, 1.39 each; 5 would hold 10.2, 2.04 each),
    and 6 is the autoscaler's fixed point (ceil(8.35 / 1.5) = 6). It holds 6 for the last
    200 s, checked every 10 s, from below and from above."""
    doc = pool(400.0, {**BACKLOG, "instances": start}, duration_s=600, warmup_s=400)
    doc["seed"] = 3
    expected = 6
    for n in (expected - 1, expected):
        backlog = theory.mmc(400.0, 50.0, 2 * n).mean_queue + 8.0
        assert (backlog / n <= 1.5) == (n == expected)
    sim = Simulation(doc)
    fleet = sim.components["w"].fleet
    counts = []
    for t in range(400, 601, 10):
        sim.advance(t)
        counts.append(fleet.present())
    assert counts == [expected] * len(counts)
    report = sim.report()
    assert report["predictions"]["components"]["w"]["instances"]["count"] == expected
    assert report["components"]["w"]["instances"]["mean"] == pytest.approx(expected)
    assert report["components"]["w"]["utilisation"] == pytest.approx(
        400 * 0.020 / (2 * expected), abs=0.02)


def test_a_worker_pool_scales_out_on_a_backlog_and_back_in():
    """A step from 100 to 400 messages/s at 100 s: the pool grows from two instances to
    the six it needs (above), and returns to two (ceil(2.0x / 1.5): 2 in process and a
    little waiting) when the rate falls back at 400 s. Nothing fails or is lost by scaling
    in (draining instances finish what they hold)."""
    doc = pool(100.0, {**BACKLOG, "instances": 2, "drain_s": 60.0}, duration_s=700)
    doc["events"] = [{"at_s": 100.0, "action": "set", "target": "client",
                      "params": {"rate_rps": 400.0}},
                     {"at_s": 400.0, "action": "set", "target": "client",
                      "params": {"rate_rps": 100.0}}]
    doc["seed"] = 2
    sim = Simulation(doc)
    fleet = sim.components["w"].fleet
    sim.advance(390)
    assert fleet.present() == 6
    sim.advance(700)
    assert fleet.present() == 2
    report = sim.report()
    w = report["components"]["w"]
    assert w["failed"] == 0 and w["lost"] == 0
    assert w["instances"]["scale_outs"] >= 1 and w["instances"]["scale_ins"] >= 1
    predicted = report["predictions"]["components"]["w"]["instances"]
    assert predicted["step"]["count"] == 6 and "M/M/(n c)" in predicted["model"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(low=st.integers(1, 3), extra=st.integers(0, 4), metric=st.sampled_from(
    ["utilisation", "queue", "rps"]), period=st.sampled_from([1.0, 2.5]),
    boot=st.sampled_from([0.0, 2.0, 7.0]), rates=st.lists(st.sampled_from(
        [0.0, 50.0, 400.0, 1500.0]), min_size=1, max_size=4), seed=st.integers(0, 99))
def test_worker_instances_stay_within_bounds_and_never_work_before_boot(
        low, extra, metric, period, boot, rates, seed):
    high = low + extra
    target = {"utilisation": 0.7, "queue": 2.0, "rps": 100.0}[metric]
    doc = pool(100.0, {"workers": 2, "service_ms": 10.0, "autoscale": metric,
                       "scale_target": target, "instances": low, "min_instances": low,
                       "max_instances": high, "scale_period_s": period,
                       "scale_out_cooldown_s": 0.0, "scale_in_cooldown_s": 0.0,
                       "boot_s": boot, "drain_s": 1.0}, duration_s=60)
    doc["seed"] = seed
    doc["events"] = [{"at_s": 10.0 * (i + 1), "action": "set", "target": "client",
                      "params": {"rate_rps": r}} for i, r in enumerate(rates)]
    sim = Simulation(doc)
    worker = sim.components["w"]
    fleet = worker.fleet
    for k in range(1, 121):
        sim.advance(k * 0.5)
        assert low <= fleet.present() <= high
        assert sum(inst.busy for inst in fleet.instances) == worker.busy
        for inst in fleet.instances:
            assert inst.busy <= inst.workers
            if inst.born > 0:  # booted during the run
                assert inst.ready >= inst.born + boot - 1e-9
            assert inst.first_start >= inst.ready


def test_a_database_of_a_size_has_its_workers_speed_and_price():
    """An `xlarge` database (16 workers at speed 1.5, 3.12 an hour) at 1,000 reads/s of
    15 ms: utilisation lam S / (c speed) = 0.625 within 0.02, mean latency within 5% of
    M/M/16 at mu = speed / S, as predicted; a custom one costs cost_per_hour per worker."""
    workers, speed, price = SIZES["xlarge"]
    doc = chain({"rate_rps": 1000.0}, [("db", "database", {
        "size": "xlarge", "workers": 1, "read_ms": 15.0, "write_ms": 15.0})],
        duration_s=250, warmup_s=50)
    doc["seed"] = 4
    report = run(doc)
    db = report["components"]["db"]
    mmc = theory.mmc(1000.0, speed / 0.015, workers)
    assert db["utilisation"] == pytest.approx(mmc.rho, abs=0.02)
    assert db["latency_ms"]["mean"] == pytest.approx(mmc.mean_response * 1000, rel=0.05)
    assert db["cost_per_hour"] == pytest.approx(price, abs=TOL)
    predicted = report["predictions"]["components"]["db"]
    assert predicted["utilisation"] == pytest.approx(mmc.rho, abs=TOL)
    assert predicted["latency_ms"]["mean"] == pytest.approx(mmc.mean_response * 1000, rel=1e-3)
    assert report["predictions"]["cost"]["cost_per_hour"] == pytest.approx(price, abs=TOL)


def test_a_database_resized_live_takes_its_new_size():
    """A `set` of size: the workers and speed change at once, and the cost follows."""
    doc = chain({"rate_rps": 100.0}, [("db", "database", {
        "workers": 2, "read_ms": 10.0, "write_ms": 10.0})], duration_s=20)
    doc["events"] = [{"at_s": 10.0, "action": "set", "target": "db",
                      "params": {"size": "large"}}]
    sim = Simulation(doc)
    db = sim.components["db"]
    sim.advance(5)
    assert db.workers == 2 and db.cost_now() == pytest.approx(2 * 0.50)
    sim.advance(15)
    assert db.workers == SIZES["large"][0] and db.cost_now() == pytest.approx(SIZES["large"][2])


@pytest.mark.parametrize(("params", "path", "fragment"), [
    ({"autoscale": "queue", "min_instances": 5, "max_instances": 2}, "max_instances", "<="),
    ({"autoscale": "rps", "instances": 9, "max_instances": 4}, "instances", "within"),
    ({"autoscale": "utilisation", "scale_target": 1.5}, "scale_target", "<= 1"),
    ({"size": "huge"}, "size", "one of"),
    ({"instances": 0}, "instances", ">= 1"),
    ({"sessions": "local"}, "sessions", ""),
])
def test_bad_worker_groups_are_refused_naming_the_field(params, path, fragment):
    with pytest.raises(ScenarioError) as err:
        run(pool(10.0, params, duration_s=10))
    assert any(e.startswith(f"components[2].params.{path}") and fragment in e
               for e in err.value.errors), err.value.errors


def test_a_cache_has_no_size():
    """A cache's size is its capacity_keys (and its price per 1,000 keys): no `size`."""
    doc = chain({"rate_rps": 10.0}, [("c", "cache", {"capacity_keys": 10, "size": "small"})],
                duration_s=10)
    with pytest.raises(ScenarioError) as err:
        run(doc)
    assert any(e.startswith("components[1].params.size") for e in err.value.errors)


def test_a_worker_pool_fed_by_a_topic_scales_on_its_groups_lag():
    """A topic's consumer may run as instances too; its backlog is its group's lag (the
    messages in process counted twice: the figure errs high). 8 partitions at 300
    messages/s of 20 ms on `small` instances (2 workers): 6 workers busy on average, so one
    instance cannot keep up; the group grows to at least 4 (8 workers, one per partition)
    and processes every message but those still in flight at the end."""
    doc = chain({"rate_rps": 300.0, "keys": 1000},
                [("t", "topic", {"partitions": 8, "append_ms": 0.0}),
                 ("w", "worker", {**BACKLOG, "service_ms": 20.0, "instances": 1,
                                  "max_instances": 8, "scale_in_cooldown_s": 600.0})],
                duration_s=200)
    doc["seed"] = 5
    report = run(doc)
    w = report["components"]["w"]
    assert w["instances"]["now"] >= 4 and w["instances"]["scale_outs"] >= 1
    assert w["failed"] == 0 and w["lost"] == 0
    assert w["completed"] >= 0.95 * w["arrivals"]


def test_instances_behind_a_shard_router_split_its_share():
    """A shard router watches its targets as a balancer does but has no health check or
    algorithm: a sharded service run as instances takes them from no balancer (it raised
    KeyError). The shards take every request (100/s over 50 s measured; how they split
    depends on the keys), each spread over its 2 instances."""
    doc = {"format": "playground.scenario/v1", "name": "s", "seed": 1, "duration_s": 60,
           "warmup_s": 10,
           "components": [{"id": "u", "kind": "client", "params": {"rate_rps": 100}},
                          {"id": "r", "kind": "shard_router", "params": {}},
                          *({"id": s, "kind": "service",
                             "params": {"instances": 2, "service_ms": 5}} for s in "ab")],
           "links": [{"from": "u", "to": "r"}, {"from": "r", "to": "a"},
                     {"from": "r", "to": "b"}]}
    comps = run(doc)["components"]
    assert comps["u"]["failed"] == 0
    served = {shard: [inst["served"] for inst in comps[shard]["instances"]["per_instance"]]
              for shard in "ab"}
    assert sum(map(sum, served.values())) == pytest.approx(5000, rel=0.05)
    for counts in served.values():
        assert min(counts) > 0.3 * sum(counts)

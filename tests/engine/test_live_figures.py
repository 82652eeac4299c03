"""The figures live frames carry beside the predictions (issue 15): mean latency, mean wait
and stale-read ratio over the rate window, checked against queueing theory with fixed seeds;
and the design as a `set` left it, which live predictions start from."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from simulations import Simulation
from simulations import queueing as qt
from simulations.predict import predict
from tests.engine.scenarios import chain

ROOT = Path(__file__).resolve().parents[2]


def frames_every_second(sim: Simulation, start: int, end: int) -> list[dict]:
    out = []
    for t in range(start, end):
        sim.advance(t)
        out.append(sim.frame())
    return out


def test_frames_carry_the_mean_latency_and_wait_of_an_mmc_pool():
    """M/M/4 at 75%: the mean of the per-second figures is Erlang C's within 8% over 300 s
    (about 90,000 requests; the per-second means are unweighted, a bias well below that)."""
    lam, mu, c = 300.0, 100.0, 4
    doc = chain({"rate_rps": lam}, [("service", {"workers": c, "service_ms": 1000 / mu})],
                duration_s=400, warmup_s=10)
    sim = Simulation(doc, seed=5, live=True)
    frames = frames_every_second(sim, 11, 311)
    pool = [f["components"]["s1"] for f in frames]
    theory = qt.mmc(lam, mu, c)
    latency = math.fsum(p["latency_ms"] for p in pool) / len(pool)
    wait = math.fsum(p["wait_ms"] for p in pool) / len(pool)
    assert abs(latency - theory.mean_response * 1000) / (theory.mean_response * 1000) < 0.08
    assert abs(wait - theory.mean_wait * 1000) / (theory.mean_wait * 1000) < 0.15
    # percentiles over whole blocks of 5 s (about 1,500 requests each): their means are
    # the response-time quantiles of M/M/c within 10%
    blocks = [f["components"]["s1"] for f in frames[4::5]]
    for name, q in (("p95_ms", 0.95), ("p99_ms", 0.99)):
        measured = math.fsum(b[name] for b in blocks) / len(blocks)
        expected = theory.response_quantile(q) * 1000
        assert abs(measured - expected) / expected < 0.10, name
    # the client's latency is its pool's plus nothing else here
    client = math.fsum(f["components"]["client"]["latency_ms"] for f in frames) / len(frames)
    assert abs(client - latency) / latency < 0.02


def test_no_latency_before_warm_up_ends():
    doc = chain({"rate_rps": 100}, [("service", {"workers": 2, "service_ms": 5})],
                duration_s=30, warmup_s=5)
    sim = Simulation(doc, seed=1, live=True)
    sim.advance(4.9)
    assert not {"latency_ms", "p95_ms", "p99_ms"} & set(sim.frame()["components"]["s1"])
    sim.advance(7)
    assert sim.frame()["components"]["s1"]["latency_ms"] > 5
    sim.advance(10)  # the first block after warm-up ends
    pool = sim.frame()["components"]["s1"]
    assert pool["p99_ms"] >= pool["p95_ms"] > 5


def test_a_replicas_live_stale_read_ratio_is_the_predicted_one():
    """Lesson 7's async replica before its link is cut (60 s): the stale reads of 20..59 s
    against the async-replication prediction (0.22), within 0.04."""
    doc = json.loads((ROOT / "docs/lessons/07-read-replicas-and-lag.json").read_text())
    sim = Simulation(doc, seed=2, live=True)
    frames = frames_every_second(sim, 20, 60)
    stale = [f["components"]["replica_async"]["stale_read_ratio"] for f in frames]
    predicted = predict(doc)["components"]["replica_async"]["stale_read_ratio"]
    assert abs(math.fsum(stale) / len(stale) - predicted) < 0.04
    assert {f["components"]["replica_sync"]["stale_read_ratio"] for f in frames} == {0.0}
    assert "stale_read_ratio" not in frames[-1]["components"]["primary_async"]


def test_the_design_now_holds_every_set_scheduled_or_live():
    doc = chain({"rate_rps": 320},
                [("service", {"workers": 8, "service_ms": 10, "blocking": False}),
                 ("database", {"workers": 8, "read_ms": 2, "write_ms": 5})], duration_s=60)
    doc["events"] = [{"at_s": 5, "action": "set", "target": "s1", "params": {"workers": 16}}]
    sim = Simulation(doc, seed=3, live=True)
    sim.advance(4)
    assert sim.param_changes == {} and sim.design_now()["components"][1]["params"] == \
        doc["components"][1]["params"]
    sim.advance(6)
    sim.apply({"action": "set", "target": "s2", "params": {"workers": 4}})
    sim.apply({"action": "set", "target": "s1", "params": {"service_ms": 5}})
    assert sim.param_changes == {"s1": {"workers": 16, "service_ms": 5}, "s2": {"workers": 4}}
    assert sim.params_changed_at == 6
    now = predict(sim.design_now())["components"]
    assert now["s1"]["utilisation"] == pytest.approx(320 * 0.005 / 16)
    assert predict(doc)["components"]["s1"]["utilisation"] == pytest.approx(320 * 0.010 / 8)
    # a replay of the log gets there too (checkpoints and takeovers rebuild runs this way)
    again = Simulation.replay(doc, 3, sim.command_log, until=7)
    assert again.param_changes == sim.param_changes


def lesson(name: str) -> dict:
    return json.loads((ROOT / "docs/lessons" / name).read_text())


def test_a_shard_routers_keys_per_shard_and_keys_moved_by_the_last_change():
    """Lesson 11: a fourth node joins at 60 s. A consistent-hash ring moves about a quarter
    of the keys (those the new node takes), hash mod N about three quarters."""
    doc = lesson("11-consistent-hashing-node-joins.json")
    sim = Simulation(doc, seed=1, live=True)
    sim.advance(59)
    before = sim.frame()["components"]
    # the fourth node failed at 0 s, before any key was seen: that change moved none
    assert before["router_ring"]["keys"][3] == 0 and before["router_ring"]["moved"][1] == 0
    sim.advance(61)
    after = sim.frame()["components"]
    for router, share in (("router_ring", 0.25), ("router_mod", 0.75)):
        at, moved, ratio = after[router]["moved"]
        assert at == 60 and abs(ratio - share) < 0.06
        keys = after[router]["keys"]
        assert abs(moved - ratio * sum(keys)) < 1 and keys[3] > 0
        assert sum(keys) >= sum(before[router]["keys"])  # every key seen stays owned


def test_a_topics_lag_per_partition_adds_up_to_its_groups_lag():
    doc = json.loads((ROOT / "docs/examples/topic-consumer-groups.json").read_text())
    sim = Simulation(doc, seed=1, live=True)
    for f in frames_every_second(sim, 20, 60):
        topic = f["components"]["events"]
        assert {g: sum(lags) for g, lags in topic["partition_lag"].items()} == topic["lag"]
    assert len(topic["partition_lag"]["analytics"]) == 6


def test_a_failovers_timeline_is_heartbeat_then_promotion():
    """Lesson 16: the primary fails at 50 s; the heartbeat misses it heartbeat_s later and a
    replica is primary promotion_s after that: writes stop for the predicted downtime."""
    doc = lesson("16-active-passive-failover.json")
    db = next(c for c in doc["components"] if c["id"] == "db")["params"]
    sim = Simulation(doc, seed=1, live=True)
    sim.advance(49)
    assert "failover" not in sim.frame()["components"]["db"]
    sim.advance(51)
    assert sim.frame()["components"]["db"]["failover"][:3] == [50, None, None]
    sim.advance(70)
    failed, detected, promoted, new, lost = sim.frame()["components"]["db"]["failover"]
    assert detected == 50 + db["heartbeat_s"] and promoted == detected + db["promotion_s"]
    assert promoted - failed == \
        predict(doc)["components"]["db"]["write_downtime_per_failover_s"]
    assert new == "standby" and lost == sim.report()["components"]["db"]["lost_writes"]


def test_retries_and_each_links_breaker_in_the_retry_storm_lesson():
    """Lesson 17, once the inventory slows down (40 s): the callers without a breaker send
    each request about four times (1 + 3 retries of timed-out attempts); the breaker opens
    and closes again after a trial once the inventory is fast again (90 s)."""
    doc = lesson("17-retry-storm-and-circuit-breaker.json")
    sim = Simulation(doc, seed=1, live=True)
    sim.advance(20)
    calm = sim.frame()["components"]
    assert calm["users_storm"]["retries_rps"] == 0
    assert calm["users_breaker"]["breakers"] == {}
    states = set()
    for k in range(160, 360):
        sim.advance(k / 4)
        states |= set(sim.frame()["components"]["users_breaker"]["breakers"].values())
    assert "open" in states and states <= {"open", "half_open"}
    storm = sim.frame()["components"]["users_storm"]
    assert (storm["rps"] + storm["retries_rps"]) / storm["rps"] > 3
    assert "breakers" not in storm  # no breaker configured
    sim.advance(100)  # the slow-down ended at 90 s: a trial succeeded, the breaker closed
    assert sim.frame()["components"]["users_breaker"]["breakers"] == {}


def cdn_design(**cdn: object) -> dict:
    return chain({"rate_rps": 400, "keys": 200, "key_skew": 0.0},
                 [("cdn", {"mode": "pull", "edge_ms": 1, **cdn}),
                  ("service", {"workers": 50, "service_ms": 5})], duration_s=60)


def test_a_cdns_misses_split_into_expired_evicted_and_first():
    """200 equally popular keys at 400 rps: with room for all and a 1 s TTL the misses after
    the first seconds are expirations; with room for 50 and no TTL they are evictions."""
    for params, kind in (({"capacity_keys": 1000, "ttl_s": 1.0}, 0),
                         ({"capacity_keys": 50}, 1)):
        sim = Simulation(cdn_design(**params), seed=2, live=True)
        frames = frames_every_second(sim, 10, 40)
        split = [f["components"]["s1"]["miss_rps"] for f in frames]
        for f, row in zip(frames, split, strict=True):
            cdn = f["components"]["s1"]
            assert abs(sum(row) - cdn["rps"] * (1 - cdn["hit_ratio"])) <= 3  # rounding
        share = math.fsum(row[kind] for row in split) / math.fsum(sum(row) for row in split)
        assert share > 0.98, (params, share)
        assert all(row[2] == 0 for row in split)  # every key was seen in the first 10 s


def test_a_quorum_stores_figures_per_side_of_a_partition():
    """Lesson 14, partitioned from 40 s to 80 s (one replica of three cut off with its third
    of the users): the CP store refuses every request of the cut-off side and serves the
    other in full, fresh; the AP store refuses none, and the cut-off side reads stale far more
    often. Outside the partition there is no per-side figure."""
    sim = Simulation(lesson("14-quorum-partition-cp-vs-ap.json"), seed=1, live=True)
    sim.advance(39)
    assert "sides" not in sim.frame()["components"]["cp"]
    frames = frames_every_second(sim, 45, 80)
    for f in frames:
        (near_in, near_refused, near_stale), (far_in, far_refused, far_stale) = \
            f["components"]["cp"]["sides"]
        assert near_refused == 0 and near_stale == 0 and far_in > 0 and far_refused == far_in
        assert far_stale is None  # nothing read there
        ap = f["components"]["ap"]["sides"]
        assert ap[0][1] == ap[1][1] == 0
    stale = [[f["components"]["ap"]["sides"][i][2] for f in frames] for i in (0, 1)]
    assert math.fsum(stale[1]) / len(frames) > math.fsum(stale[0]) / len(frames) + 0.1
    sim.advance(85)
    assert "sides" not in sim.frame()["components"]["ap"]

"""Tests for simulations.predict: fixed designs whose expected values are derived here from
the formulas in simulations.theory (or by hand), never copied from a run."""

from __future__ import annotations

import json
import math

import pytest

from simulations import theory as qt
from simulations.predict import predict
from simulations.scenario import validate


def comp(cid: str, kind: str, **params) -> dict:
    return {"id": cid, "kind": kind, "params": params}


def link(src: str, dst: str, **fields) -> dict:
    return {"from": src, "to": dst, **fields}


def design(components: list[dict], links: list[dict]) -> dict:
    return {"format": "playground.scenario/v1", "name": "test", "duration_s": 100,
            "components": components, "links": links}


def run(components: list[dict], links: list[dict]) -> dict:
    out = predict(validate(design(components, links)))
    assert "error" not in out
    return out


def finite_everywhere(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_everywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_everywhere(v) for v in value)
    return True


# --- pools ---------------------------------------------------------------------------------

def test_mmc_service_has_erlang_c_wait_and_exact_percentiles():
    out = run([comp("c", "client", rate_rps=30), comp("s", "service", workers=4, service_ms=100)],
              [link("c", "s", latency_ms=5)])
    s = out["components"]["s"]
    m = qt.mmc(30, 10, 4)
    assert s["model"] == "M/M/c"
    assert s["offered_rps"] == pytest.approx(30)
    assert s["utilisation"] == pytest.approx(0.75)
    erlang_wait = qt.erlang_c(4, 3.0) / (4 * 10 - 30)
    assert s["mean_wait_ms"] == pytest.approx(erlang_wait * 1000)
    assert s["mean_queue"] == pytest.approx(m.mean_queue)
    assert s["latency_ms"]["mean"] == pytest.approx(m.mean_response * 1000)
    assert s["latency_ms"]["p95"] == pytest.approx(m.response_quantile(0.95) * 1000)
    assert s["latency_ms"]["p99"] == pytest.approx(m.response_quantile(0.99) * 1000)
    # The client adds the link's latency both ways.
    assert out["clients"]["c"]["mean_latency_ms"] == pytest.approx(m.mean_response * 1000 + 10)


def test_constant_single_worker_is_pollaczek_khinchine():
    out = run([comp("c", "client", rate_rps=50),
               comp("s", "service", service_ms=10, service_dist="constant")],
              [link("c", "s")])
    s = out["components"]["s"]
    assert s["model"] == "M/G/1 (Pollaczek-Khinchine)"
    assert s["mean_wait_ms"] == pytest.approx(qt.mg1(50, 0.010, 0.0).mean_wait * 1000)
    assert "p95" not in s["latency_ms"]


def test_mixed_read_write_database_uses_the_hyperexponential_mixture():
    out = run([comp("c", "client", rate_rps=40, read_ratio=0.75),
               comp("db", "database", read_ms=5, write_ms=20)],
              [link("c", "db")])
    db = out["components"]["db"]
    p, m = (0.75, 0.25), (0.005, 0.020)
    mean = p[0] * m[0] + p[1] * m[1]
    second = p[0] * 2 * m[0] ** 2 + p[1] * 2 * m[1] ** 2
    cv = math.sqrt(second / mean**2 - 1)
    assert db["model"] == "M/G/1 (Pollaczek-Khinchine)"
    assert db["utilisation"] == pytest.approx(40 * mean)
    assert db["mean_wait_ms"] == pytest.approx(qt.mg1(40, mean, cv).mean_wait * 1000)
    assert db["latency_ms"]["mean"] == pytest.approx((qt.mg1(40, mean, cv).mean_wait + mean)
                                                     * 1000)


def test_lognormal_pool_is_allen_cunneen():
    out = run([comp("c", "client", rate_rps=200),
               comp("s", "service", workers=3, service_ms=12, service_dist="lognormal",
                    service_cv=0.5)],
              [link("c", "s")])
    s = out["components"]["s"]
    assert s["model"] == "Allen-Cunneen approximation"
    expected = qt.mgc_allen_cunneen(200, 0.012, 3, 0.5).mean_wait
    assert s["mean_wait_ms"] == pytest.approx(expected * 1000)


def test_queue_limit_gives_mmck_blocking_and_admitted_rate():
    out = run([comp("c", "client", rate_rps=100),
               comp("s", "service", workers=2, service_ms=25, queue_limit=3)],
              [link("c", "s")])
    s = out["components"]["s"]
    m = qt.mmck(100, 40, 2, 5)
    assert s["model"] == "M/M/c/K"
    assert s["blocking_probability"] == pytest.approx(m.p_block)
    assert s["admitted_rps"] == pytest.approx(m.throughput)
    assert s["utilisation"] == pytest.approx(m.utilisation)
    assert s["mean_wait_ms"] == pytest.approx(m.mean_wait * 1000)
    assert s["mean_queue"] == pytest.approx(m.mean_queue)
    assert s["offered_utilisation"] == pytest.approx(1.25)
    assert not s["saturated"]


def test_blocking_service_holds_its_worker_during_calls():
    """With blocking (the default) a worker is busy for its own work and the call."""
    out = run([comp("c", "client", rate_rps=20),
               comp("s", "service", workers=2, service_ms=10),
               comp("db", "database", read_ms=20, write_ms=20)],
              [link("c", "s"), link("s", "db", latency_ms=5)])
    db_response = qt.mmc(20, 50, 1).mean_response
    holding = 0.010 + 0.010 + db_response  # own work, the link both ways, the database
    assert out["components"]["s"]["utilisation"] == pytest.approx(20 * holding / 2)
    free = run([comp("c", "client", rate_rps=20),
                comp("s", "service", workers=2, service_ms=10, blocking=False),
                comp("db", "database", read_ms=20, write_ms=20)],
               [link("c", "s"), link("s", "db", latency_ms=5)])
    s = free["components"]["s"]
    assert s["utilisation"] == pytest.approx(20 * 0.010 / 2)
    assert s["model"] == "M/M/c"
    wait = qt.mmc(20, 100, 2).mean_wait
    assert s["latency_ms"]["mean"] == pytest.approx((wait + 0.010 + 0.010 + db_response) * 1000)
    assert "p95" not in s["latency_ms"]  # its latency includes the call


def test_queue_feeds_a_pool_of_competing_workers():
    out = run([comp("c", "client", rate_rps=100),
               comp("q", "queue", enqueue_ms=2),
               comp("w1", "worker", workers=1, service_ms=30),
               comp("w2", "worker", workers=3, service_ms=30)],
              [link("c", "q"), link("q", "w1"), link("q", "w2")])
    parts = out["components"]
    assert parts["w1"]["offered_rps"] == pytest.approx(25)
    assert parts["w2"]["offered_rps"] == pytest.approx(75)
    assert parts["w2"]["utilisation"] == pytest.approx(75 * 0.030 / 3)
    pooled = qt.mmc(100, 1 / 0.030, 4)
    assert parts["q"]["mean_wait_ms"] == pytest.approx(pooled.mean_wait * 1000)
    assert parts["q"]["mean_queue"] == pytest.approx(pooled.mean_queue)
    assert parts["q"]["latency_ms"]["mean"] == pytest.approx(2)  # answered at enqueue
    assert out["clients"]["c"]["mean_latency_ms"] == pytest.approx(2)


# --- routing -------------------------------------------------------------------------------

def test_round_robin_balancer_halves_the_offered_rate():
    out = run([comp("c", "client", rate_rps=120), comp("lb", "load_balancer"),
               comp("a", "service", service_ms=5), comp("b", "service", service_ms=5)],
              [link("c", "lb"), link("lb", "a"), link("lb", "b")])
    parts = out["components"]
    assert parts["a"]["offered_rps"] == pytest.approx(60)
    assert parts["b"]["offered_rps"] == pytest.approx(60)
    assert parts["lb"]["per_target_rps"] == pytest.approx({"a": 60, "b": 60})


def test_weighted_balancer_and_client_split_by_weight():
    out = run([comp("c", "client", rate_rps=100), comp("lb", "load_balancer", algorithm="weighted"),
               comp("a", "service", service_ms=1), comp("b", "service", service_ms=1),
               comp("d", "service", service_ms=1)],
              [link("c", "lb", weight=3), link("c", "d"), link("lb", "a"),
               link("lb", "b", weight=4)])
    parts = out["components"]
    assert parts["lb"]["offered_rps"] == pytest.approx(75)
    assert parts["d"]["offered_rps"] == pytest.approx(25)
    assert parts["a"]["offered_rps"] == pytest.approx(15)
    assert parts["b"]["offered_rps"] == pytest.approx(60)


def test_service_calls_every_link_that_carries_the_op():
    out = run([comp("c", "client", rate_rps=10, read_ratio=0.3),
               comp("s", "service", service_ms=1),
               comp("x", "database", read_ms=1, write_ms=1),
               comp("y", "database", read_ms=1, write_ms=1)],
              [link("c", "s"), link("s", "x"), link("s", "y", route="write")])
    assert out["components"]["x"]["offered_rps"] == pytest.approx(10)
    assert out["components"]["y"]["offered_rps"] == pytest.approx(7)


def test_ip_hash_shards_keys_like_the_engine():
    out = run([comp("c", "client", rate_rps=100, keys=10, key_skew=1.0),
               comp("lb", "load_balancer", algorithm="ip_hash"),
               comp("a", "service", service_ms=1), comp("b", "service", service_ms=1)],
              [link("c", "lb"), link("lb", "a"), link("lb", "b")])
    p = qt.zipf_popularity(10, 1.0)
    to_a = sum(pi for key, pi in enumerate(p) if (key * 2654435761 & 0xFFFFFFFF) % 2 == 0)
    assert out["components"]["a"]["offered_rps"] == pytest.approx(100 * to_a)


# --- caches --------------------------------------------------------------------------------

def cache_design(cache: dict, read_ratio: float = 0.8, keys: int = 1000, skew: float = 0.9,
                 rate: float = 200) -> list:
    return [[comp("c", "client", rate_rps=rate, read_ratio=read_ratio, keys=keys,
                  key_skew=skew),
             comp("s", "service", workers=4, service_ms=2),
             comp("k", "cache", **cache),
             comp("db", "database", workers=2, read_ms=4, write_ms=8)],
            [link("c", "s"), link("s", "k"), link("k", "db")]]


def test_database_behind_an_lru_cache_gets_the_che_misses_and_every_write():
    out = run(*cache_design({"capacity_keys": 100}))
    hit = qt.che_lru_hit_ratio(qt.zipf_popularity(1000, 0.9), 100)
    parts = out["components"]
    assert parts["k"]["model"] == "Che approximation (LRU)"
    assert parts["k"]["hit_ratio"] == pytest.approx(hit, rel=1e-9)
    # Writes touch the cache too (write-through fills), with the same key popularity.
    assert parts["db"]["offered_rps"] == pytest.approx(160 * (1 - hit) + 40, rel=1e-9)
    reads, writes = 160 * (1 - hit), 40
    assert parts["db"]["utilisation"] == pytest.approx((reads * 0.004 + writes * 0.008) / 2)


def test_write_around_misses_more_than_write_through():
    through = run(*cache_design({"capacity_keys": 100}))["components"]["k"]["hit_ratio"]
    around = run(*cache_design({"capacity_keys": 100, "write_policy": "write_around"}))
    assert around["components"]["k"]["hit_ratio"] < through
    assert around["components"]["db"]["offered_rps"] > 40  # every write still goes down


def test_fifo_solves_the_che_like_fixed_point():
    out = run(*cache_design({"capacity_keys": 100, "eviction": "fifo"}, read_ratio=1.0))
    p = qt.zipf_popularity(1000, 0.9)
    # Find T with sum p T / (1 + p T) = C by bisection, independently of predict.
    lo, hi = 1.0, 1e9
    for _ in range(200):
        t = math.sqrt(lo * hi)
        lo, hi = (t, hi) if sum(x * t / (1 + x * t) for x in p) < 100 else (lo, t)
    hit = sum(x * x * t / (1 + x * t) for x in p)
    assert out["components"]["k"]["hit_ratio"] == pytest.approx(hit, rel=1e-6)
    assert "Fricker" in out["components"]["k"]["model"]


def test_lfu_keeps_the_most_popular_keys():
    out = run(*cache_design({"capacity_keys": 100, "eviction": "lfu"}))
    p = qt.zipf_popularity(1000, 0.9)
    assert out["components"]["k"]["hit_ratio"] == pytest.approx(sum(p[:100]))


def test_ttl_cache_that_holds_every_key_matches_ttl_hit_ratio():
    out = run(*cache_design({"capacity_keys": 1000, "ttl_s": 0.5}, read_ratio=1.0))
    expected = qt.ttl_hit_ratio(qt.zipf_popularity(1000, 0.9), 200, 0.5)
    assert out["components"]["k"]["hit_ratio"] == pytest.approx(expected)


def test_ttl_with_binding_capacity_may_be_unpredicted_and_says_so():
    out = run(*cache_design({"capacity_keys": 50, "ttl_s": 1000, "eviction": "fifo"}))
    parts = out["components"]
    assert "not predicted" in parts["k"]["model"]
    assert "hit_ratio" not in parts["k"]
    assert "offered_rps" not in parts["db"] and "notes" in parts["db"]
    assert finite_everywhere(out)


def test_write_behind_flushes_at_most_the_write_rate():
    # One key: every cycle (first write, then flush_s) flushes it once: W / (1 + W F).
    out = run(*cache_design({"capacity_keys": 10, "write_policy": "write_behind",
                             "flush_ms": 100}, read_ratio=0.5, keys=1, rate=40))
    assert out["components"]["k"]["flush_rps"] == pytest.approx(20 / (1 + 20 * 0.1))
    many = run(*cache_design({"capacity_keys": 10, "write_policy": "write_behind"},
                             read_ratio=0.5))
    assert 0 < many["components"]["k"]["flush_rps"] <= 100


# --- replicas ------------------------------------------------------------------------------

def replica_design(keys: int, lag_ms: float, dist: str, mode: str = "async") -> list:
    return [[comp("c", "client", rate_rps=100, read_ratio=0.6, keys=keys),
             comp("s", "service", workers=4, service_ms=1, blocking=False),
             comp("p", "database", workers=2, read_ms=2, write_ms=4),
             comp("r", "database", workers=2, read_ms=2, write_ms=4)],
            [link("c", "s"), link("s", "p", route="write"), link("s", "r", route="read"),
             link("p", "r", kind="replication", lag_ms=lag_ms, lag_dist=dist, mode=mode)]]


def test_writes_reach_the_primary_and_reads_the_replica():
    parts = run(*replica_design(100, 50, "constant"))["components"]
    assert parts["p"]["offered_rps"] == pytest.approx(40)
    assert parts["r"]["offered_rps"] == pytest.approx(60)
    assert "stale_read_ratio" not in parts["p"]


def test_stale_reads_with_constant_lag_match_stale_read_ratio():
    parts = run(*replica_design(100, 50, "constant"))["components"]
    p = [0.01] * 100
    expected = qt.stale_read_ratio_per_key(p, [40 * x for x in p], 0.050, "constant")
    assert parts["r"]["stale_read_ratio"] == pytest.approx(expected, rel=1e-3)


def test_stale_reads_of_one_key_with_exponential_lag_match_the_in_order_formula():
    parts = run(*replica_design(1, 50, "exponential"))["components"]
    expected = qt.async_stale_read_probability(40, 0.050, "exponential")
    assert parts["r"]["stale_read_ratio"] == pytest.approx(expected, rel=1e-3)


def test_stale_reads_of_rarely_written_keys_tend_to_independent_lags():
    """Little in flight at once (W L small): each write is delayed by its own lag only."""
    ratio = qt.stale_read_ratio_shared_log([0.25] * 4, [0.001] * 4, 1.0, "exponential")
    expected = qt.stale_read_ratio_per_key([0.25] * 4, [0.001] * 4, 1.0, "exponential",
                                           in_order=False)
    assert ratio == pytest.approx(expected, rel=0.01)


def test_sync_replica_delays_the_write_answer_by_the_apply_delay():
    parts = run(*replica_design(100, 50, "constant", mode="sync"))["components"]
    wait = qt.mmc(40, 250, 2).mean_wait
    assert parts["p"]["latency_ms"]["mean"] == pytest.approx((wait + 0.004 + 0.050) * 1000)
    assert parts["p"]["notes"]
    assert "stale_read_ratio" not in parts["r"]  # predicted for async replication only


def test_apply_delay_of_exponential_lags_in_commit_order():
    """P(D <= t) = (1 - e^{-t/L}) exp(-a e^{-t/L}), a = W L: its mean is
    L (Ein(a) + (1 - e^{-a}) / a), with Ein(a) = sum_k (-1)^(k+1) a^k / (k k!)."""
    a, lag = 2.0, 0.1
    ein = sum((-1) ** (k + 1) * a**k / (k * math.factorial(k)) for k in range(1, 40))
    mean = lag * (ein + (1 - math.exp(-a)) / a)
    delays = qt.apply_delays(a / lag, lag, "exponential", n=4000)
    assert sum(delays) / len(delays) == pytest.approx(mean, rel=2e-3)
    assert qt.apply_delays(5.0, lag, "constant") == [lag]


# --- saturation ----------------------------------------------------------------------------

def test_saturation_point_of_a_three_tier_design_by_hand():
    # 100 rps, half reads. Each app (non-blocking) gets 50 rps x 10 ms over 2 workers: 0.25.
    # The database gets 50 reads x 4 ms + 50 writes x 12 ms on 1 worker: 0.8, the highest.
    out = run([comp("c", "client", rate_rps=100, read_ratio=0.5),
               comp("lb", "load_balancer"),
               comp("a", "service", workers=2, service_ms=10, blocking=False),
               comp("b", "service", workers=2, service_ms=10, blocking=False),
               comp("db", "database", read_ms=4, write_ms=12)],
              [link("c", "lb"), link("lb", "a"), link("lb", "b"), link("a", "db"),
               link("b", "db")])
    assert out["components"]["a"]["utilisation"] == pytest.approx(0.25)
    assert out["components"]["db"]["utilisation"] == pytest.approx(0.8)
    sat = out["saturation"]
    assert sat["component"] == "db"
    assert sat["client_rate_rps"] == pytest.approx(125)
    assert sat["headroom"] == pytest.approx(1.25)


def test_saturation_with_blocking_calls_is_where_the_pool_reaches_one():
    components = [comp("c", "client", rate_rps=50),
                  comp("s", "service", workers=2, service_ms=10),
                  comp("db", "database", workers=2, read_ms=15, write_ms=15)]
    links = [link("c", "s"), link("s", "db")]
    sat = run(components, links)["saturation"]
    assert sat["component"] == "s"  # its holding time includes the database's response
    components[0]["params"]["rate_rps"] = sat["client_rate_rps"] * (1 - 1e-6)
    just_below = run(components, links)["components"]["s"]
    assert just_below["utilisation"] == pytest.approx(1.0, abs=1e-4)
    assert not just_below["saturated"]


# --- availability --------------------------------------------------------------------------

def test_availability_in_series():
    out = run([comp("c", "client", rate_rps=10),
               comp("s", "service", service_ms=1, mtbf_s=90, mttr_s=10),
               comp("db", "database", read_ms=1, write_ms=1, mtbf_s=95, mttr_s=5)],
              [link("c", "s"), link("s", "db")])
    expected = qt.series(qt.availability(90, 10), qt.availability(95, 5))
    assert out["availability"]["clients"]["c"] == pytest.approx(expected)
    assert out["availability"]["overall"] == pytest.approx(expected)
    assert out["components"]["s"]["availability"] == pytest.approx(0.9)


def test_availability_in_parallel_behind_a_balancer():
    out = run([comp("c", "client", rate_rps=10), comp("lb", "load_balancer"),
               comp("a", "service", service_ms=1, mtbf_s=90, mttr_s=10),
               comp("b", "service", service_ms=1, mtbf_s=80, mttr_s=20)],
              [link("c", "lb"), link("lb", "a"), link("lb", "b")])
    assert out["availability"]["clients"]["c"] == pytest.approx(qt.parallel(0.9, 0.8))


def test_a_database_shared_by_both_targets_counts_once():
    out = run([comp("c", "client", rate_rps=10), comp("lb", "load_balancer"),
               comp("a", "service", service_ms=1, mtbf_s=90, mttr_s=10),
               comp("b", "service", service_ms=1, mtbf_s=80, mttr_s=20),
               comp("db", "database", read_ms=1, write_ms=1, mtbf_s=95, mttr_s=5)],
              [link("c", "lb"), link("lb", "a"), link("lb", "b"), link("a", "db"),
               link("b", "db")])
    expected = qt.series(qt.parallel(0.9, 0.8), 0.95)
    assert out["availability"]["clients"]["c"] == pytest.approx(expected)


def test_a_cache_hit_needs_only_the_cache():
    components, links = cache_design({"capacity_keys": 100, "mtbf_s": 98, "mttr_s": 2},
                                     read_ratio=1.0)
    components[3]["params"].update(mtbf_s=90, mttr_s=10)
    out = run(components, links)
    hit = out["components"]["k"]["hit_ratio"]
    expected = 0.98 * (hit + (1 - hit) * 0.9)
    assert out["availability"]["clients"]["c"] == pytest.approx(expected)


# --- edge cases ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["rate 0", "capacity 0", "saturated", "saturated below"])
def test_no_nan_or_infinity_anywhere(case):
    components, links = cache_design({"capacity_keys": 100})
    if case == "rate 0":
        components[0]["params"]["rate_rps"] = 0
    if case == "capacity 0":
        components[2]["params"]["capacity_keys"] = 0
    if case == "saturated":
        components[3]["params"]["read_ms"] = 500
    if case == "saturated below":  # the blocking service waits on a saturated database
        components[3]["params"].update(read_ms=500, write_ms=500)
    out = run(components, links)
    json.dumps(out, allow_nan=False)
    assert finite_everywhere(out)
    if case == "capacity 0":
        assert out["components"]["k"]["hit_ratio"] == 0
        assert out["components"]["db"]["offered_rps"] == pytest.approx(200)
    if case.startswith("saturated"):
        assert out["components"]["db"]["saturated"] is True
        assert "mean_wait_ms" not in out["components"]["db"]
        assert out["saturation"]["headroom"] < 1
    if case == "saturated below":
        assert out["components"]["s"]["saturated"] is True


def test_predictions_are_cached_per_scenario_and_copied():
    scenario = validate(design(*cache_design({"capacity_keys": 100})))
    first = predict(scenario)
    first["components"].clear()
    assert predict(scenario)["components"]


def test_the_report_carries_the_predictions():
    from simulations.engine import Simulation

    doc = design([comp("c", "client", rate_rps=20), comp("s", "service", service_ms=5)],
                 [link("c", "s")])
    doc["duration_s"] = 2
    report = Simulation(doc).run()
    assert report["predictions"]["components"]["s"]["utilisation"] == pytest.approx(0.1)

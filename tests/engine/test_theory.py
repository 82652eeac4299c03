"""The simulator against queueing theory: every expected value comes from simulations.theory.

Tolerances are at least 4 standard deviations of the simulated estimate. Each "sd" below is
the root-mean-square relative error of the estimate exactly as the test computes it (same run
lengths, same averaging), measured over 30 other seeds when the test was written; each
comment names the estimate, its run length and the resulting tolerance. Seeds are fixed, so
a run is reproducible, but no tolerance relies on the particular seed: any other seed (or an
engine change that draws its random numbers differently) should pass. Quantile tolerances
also absorb the latency histogram's 1% relative error. The whole file runs in about 30 s.
"""

from __future__ import annotations

import statistics
from functools import cache

import pytest

from simulations import Simulation, run
from simulations import theory as qt
from tests.engine.scenarios import balanced, chain, component, document, link

SEEDS = (11, 12, 13, 14)


def runs(doc: dict, seeds) -> list[dict]:
    return [run(doc, seed=s) for s in seeds]


def avg(reports: list[dict], get) -> float:
    return statistics.fmean(get(r) for r in reports)


def comp(cid: str):
    return lambda r: r["components"][cid]


def e2e(key: str):
    return lambda r: r["summary"]["latency_ms"][key]


def ms(seconds: float) -> float:
    return seconds * 1000.0


# --- M/M/1 and M/M/c -----------------------------------------------------------------------

# (workers, rate_rps, measured seconds per seed, seeds), both at rho = 0.7: M/M/1 averaged
# over 3 seeds of 70k requests, M/M/4 over 2 seeds of 224k. sd (c=1 / c=4): utilisation
# 0.4% / 0.2%, mean wait and mean_queue 1.5% / 1.7%, mean response 1.0% / 0.5%, p50 0.8% /
# 0.5%, p95 1.7% / 0.7%, p99 2.7% / 0.9%. Tolerances: utilisation 2%, wait and queue 8%,
# mean and p50 5%, p95 7%, p99 11% (4 sd or more).
MMC_CASES = [(1, 70.0, 1000.0, SEEDS[:3]), (4, 280.0, 800.0, SEEDS[:2])]


@pytest.mark.parametrize(("workers", "rate", "seconds", "seeds"), MMC_CASES,
                         ids=["mm1", "mm4"])
def test_mmc_service_matches_erlang_c(workers, rate, seconds, seeds):
    service_ms = 10.0
    doc = chain({"rate_rps": rate},
                [("service", {"workers": workers, "service_ms": service_ms})],
                duration_s=seconds + 20, warmup_s=20)
    reports = runs(doc, seeds)
    theory = qt.mmc(rate, 1000.0 / service_ms, workers)
    svc = comp("s1")

    assert avg(reports, lambda r: svc(r)["utilisation"]) == pytest.approx(theory.rho, rel=0.02)
    assert avg(reports, lambda r: svc(r)["mean_wait_ms"]) == \
        pytest.approx(ms(theory.mean_wait), rel=0.08)
    assert avg(reports, lambda r: svc(r)["mean_queue"]) == \
        pytest.approx(theory.mean_queue, rel=0.08)
    assert avg(reports, e2e("mean")) == pytest.approx(ms(theory.mean_response), rel=0.05)
    for q, tolerance in ((0.5, 0.05), (0.95, 0.07), (0.99, 0.11)):
        key = f"p{round(q * 100)}"
        assert avg(reports, e2e(key)) == \
            pytest.approx(ms(theory.response_quantile(q)), rel=tolerance), key


# --- M/M/c/K ---------------------------------------------------------------------------------

# (workers, queue_limit, rate_rps, measured seconds): M/M/2/5 at a = 1.5 (150k requests),
# Erlang B (no waiting room, a = 4 on 5 workers, 160k) and an overloaded M/M/1/11 at
# rho = 1.5 (120k). sd of the blocking ratio 1.7%, 1.0%, 1.1% (blocked requests come in
# bursts); of utilisation 0.34%, 0.27%, 0.05%; of mean_queue 1.1%, -, 0.4%. Tolerances:
# blocking 7%, utilisation 2%, mean_queue 5% (4.2 sd or more).
MMCK_CASES = [(2, 3, 150.0, 1000.0), (5, 0, 400.0, 400.0), (1, 10, 150.0, 800.0)]


@pytest.mark.parametrize(("workers", "queue_limit", "rate", "seconds"), MMCK_CASES,
                         ids=["mm2k5", "erlang_b", "overloaded"])
def test_bounded_queue_blocks_as_mmck(workers, queue_limit, rate, seconds):
    service_ms = 10.0
    doc = chain({"rate_rps": rate}, [("service", {"workers": workers, "service_ms": service_ms,
                                                  "queue_limit": queue_limit})],
                duration_s=seconds + 10, warmup_s=10)
    report = run(doc, seed=SEEDS[0])
    theory = qt.mmck(rate, 1000.0 / service_ms, workers, workers + queue_limit)
    svc = report["components"]["s1"]
    if queue_limit == 0:
        assert theory.p_block == pytest.approx(qt.erlang_b(workers, rate * service_ms / 1000))

    assert svc["rejected"] / svc["arrivals"] == pytest.approx(theory.p_block, rel=0.07)
    assert report["summary"]["success_ratio"] == \
        pytest.approx(1.0 - theory.p_block, abs=0.07 * theory.p_block)
    assert svc["utilisation"] == pytest.approx(theory.utilisation, rel=0.02)
    assert svc["mean_queue"] == pytest.approx(theory.mean_queue, rel=0.05, abs=1e-4)


# --- M/D/1 and M/G/1 -------------------------------------------------------------------------

# M/D/1 at rho = 0.7, 210k requests: sd of the mean wait and mean_queue 1.0%, of the mean
# response 0.5% -> tolerance 5%.
# M/G/1 with lognormal service of cv 2 at rho = 0.5: the mean wait hangs on the sample second
# moment of a heavy-tailed law (E[S^4]/E[S^2]^2 = 5^4), sd 7-8% per 100k requests; averaged
# over 4 seeds of 100k: sd 3.6% (wait, queue), 2.6% (response) -> tolerance 15% (4.2 sd;
# cv 1 would give a 60% lower wait). Utilisation, sd 0.2-0.35% whatever the law: 2%.
MG1_CASES = [("constant", None, 70.0, 3000.0, SEEDS[:1], 0.05),
             ("lognormal", 2.0, 50.0, 2000.0, SEEDS, 0.15)]


@pytest.mark.parametrize(("dist", "cv", "rate", "seconds", "seeds", "tolerance"), MG1_CASES,
                         ids=["md1", "mg1_lognormal_cv2"])
def test_mg1_wait_matches_pollaczek_khinchine(dist, cv, rate, seconds, seeds, tolerance):
    service_ms = 10.0
    params = {"service_ms": service_ms, "service_dist": dist}
    if cv is not None:
        params["service_cv"] = cv
    doc = chain({"rate_rps": rate}, [("service", params)], duration_s=seconds + 20, warmup_s=20)
    reports = runs(doc, seeds)
    theory = qt.mg1(rate, service_ms / 1000.0, cv or 0.0)
    svc = comp("s1")

    assert avg(reports, lambda r: svc(r)["utilisation"]) == pytest.approx(theory.rho, rel=0.02)
    assert avg(reports, lambda r: svc(r)["mean_wait_ms"]) == \
        pytest.approx(ms(theory.mean_wait), rel=tolerance)
    assert avg(reports, lambda r: svc(r)["mean_queue"]) == \
        pytest.approx(theory.mean_queue, rel=tolerance)
    assert avg(reports, e2e("mean")) == pytest.approx(ms(theory.mean_response), rel=tolerance)


# --- Tandem (Jackson) network ----------------------------------------------------------------

def test_tandem_of_non_blocking_services_matches_jackson():
    # client -> s1 -> s2 -> s3; s1 and s2 free their worker after their own work, so each
    # stage is an M/M/c queue fed by Poisson departures (Burke) at rate 70/s.
    # 105k requests: sd of the end-to-end mean 1.1% -> tolerance 5%; of each stage's
    # utilisation <= 0.5% -> 2%; of each stage's mean wait <= 3.0% -> 13% (4.3 sd or more).
    rate = 70.0
    stations = [(100.0, 1), (40.0, 3), (250.0, 1)]  # (mu per worker, workers)
    stages = [("service", {"workers": c, "service_ms": 1000.0 / mu}) for mu, c in stations]
    for _, params in stages[:2]:
        params["blocking"] = False
    report = run(chain({"rate_rps": rate}, stages, duration_s=1520, warmup_s=20), seed=SEEDS[0])

    assert report["summary"]["latency_ms"]["mean"] == \
        pytest.approx(ms(qt.jackson_tandem(rate, stations)), rel=0.05)
    for i, (mu, c) in enumerate(stations, 1):
        station = qt.mmc(rate, mu, c)
        svc = report["components"][f"s{i}"]
        assert svc["utilisation"] == pytest.approx(station.rho, rel=0.02), i
        assert svc["mean_wait_ms"] == pytest.approx(ms(station.mean_wait), rel=0.13), i


# --- Load balancers --------------------------------------------------------------------------

def _four_servers(algorithm: str, rate: float, seconds: float) -> dict:
    return balanced({"rate_rps": rate}, {"algorithm": algorithm},
                    [("service", {"service_ms": 10.0})] * 4,
                    duration_s=seconds + 20, warmup_s=20)


@pytest.mark.parametrize("algorithm", ["random", "round_robin"])
def test_split_over_four_mm1_servers(algorithm):
    # 4 single-worker services at 10 ms, 280 rps in all (rho = 0.7 each), 168k requests.
    # random: each server is M/M/1 at lam/4; round robin: each is E4/M/1 (GI/M/1).
    # sd of the end-to-end mean 1.3% (random) / 1.0% (round robin) -> 6%; of p95 1.7% /
    # 1.5% -> 8% (4.7 sd or more). Shares: sd 0.1 points (random), exact for round robin
    # -> 1 point.
    rate, n = 280.0, 4
    report = run(_four_servers(algorithm, rate, 600.0), seed=SEEDS[0])
    theory = (qt.random_split_mm1 if algorithm == "random" else qt.round_robin_mm1)(
        rate, 100.0, n)
    latency = report["summary"]["latency_ms"]

    assert latency["mean"] == pytest.approx(ms(theory.mean_response), rel=0.06)
    assert latency["p95"] == pytest.approx(ms(theory.response_quantile(0.95)), rel=0.08)
    shares = report["components"]["lb"]["per_target"]
    total = sum(shares.values())
    assert total == report["components"]["lb"]["arrivals"]
    for target, count in shares.items():
        assert count / total == pytest.approx(1 / n, abs=0.01), target


def test_balancing_algorithms_rank_at_high_load():
    # rho = 0.9 on 4 single-worker services. With the same seeds (same arrivals), measured
    # over 12 seeds of 72k requests: power_of_two / least_connections = 1.12-1.23 per seed,
    # round_robin / power_of_two = 1.61-1.78. Averaged over 2 seeds of 54k requests we ask for
    # margins of 5% and 30%, several sd away from the measured ratios (30 other seed pairs
    # pass).
    seeds = SEEDS[:2]
    means = {alg: avg(runs(_four_servers(alg, 360.0, 150.0), seeds), e2e("mean"))
             for alg in ("least_connections", "power_of_two", "round_robin")}

    assert means["least_connections"] * 1.05 < means["power_of_two"]
    assert means["power_of_two"] * 1.3 < means["round_robin"]
    # Joining the shortest queue cannot beat one central M/M/4 queue.
    assert means["least_connections"] > ms(qt.mmc(360.0, 100.0, 4).mean_response) * 0.97


def test_weighted_balancer_shares_follow_link_weights():
    # 20k requests; a weighted random choice would have a binomial sd of at most 0.35 points
    # per share (smooth weighted round robin is exact) -> tolerance 1.5 points (4.3 sd).
    weights = [1.0, 2.0, 3.0, 4.0]
    doc = balanced({"rate_rps": 1000.0}, {"algorithm": "weighted"},
                   [("service", {"workers": 50, "service_ms": 1.0})] * 4, weights=weights,
                   duration_s=20.0)
    shares = run(doc, seed=SEEDS[0])["components"]["lb"]["per_target"]
    total = sum(shares.values())
    for i, w in enumerate(weights, 1):
        assert shares[f"t{i}"] / total == pytest.approx(w / sum(weights), abs=0.015)


def test_health_check_keeps_a_dead_target_for_health_check_s():
    # t2 fails at 10 s and recovers at 30 s; health_check_s = 5. Round robin sends it 1/4 of
    # the 400 rps until 15 s (rate/N x health_check_s = 500 requests, rejected at t2; sd 2.4%
    # -> tolerance 12%), none in [15 s, 35 s), and a quarter again from 35 s (1500 in 15 s,
    # sd 1.1% -> tolerance 10%).
    rate, n, check = 400.0, 4, 5.0
    doc = balanced({"rate_rps": rate}, {"algorithm": "round_robin", "health_check_s": check},
                   [("service", {"workers": 8, "service_ms": 10.0})] * n, duration_s=50.0)
    doc["events"] = [{"at_s": 10.0, "action": "fail", "target": "t2"},
                     {"at_s": 30.0, "action": "recover", "target": "t2"}]
    sim = Simulation(doc, seed=SEEDS[0])
    sim.advance(10.0 + check + 0.001)
    out = sim.report()["components"]["t2"]
    assert out["rejected"] == pytest.approx(rate / n * check, rel=0.12)
    sim.advance(30.0 + check - 0.001)
    still_out = sim.report()["components"]["t2"]
    assert still_out["arrivals"] == out["arrivals"]
    sim.advance(50.0)
    report = sim.report()
    back = report["components"]["t2"]
    assert back["rejected"] == out["rejected"]
    assert back["arrivals"] - out["arrivals"] == pytest.approx(rate / n * 15.0, rel=0.1)
    # Every failed request is one sent to the dead target (rejected, or dropped in service).
    assert report["components"]["client"]["failures"]["down"] == back["rejected"] + back["failed"]
    assert report["summary"]["failed"] == back["rejected"] + back["failed"]


# --- Caches ------------------------------------------------------------------------------------

ZIPF_KEYS, ZIPF_SKEW, CACHE_RATE = 10_000, 0.8, 1000.0


def _cached_reads(cache_params: dict, keys: int, seconds: float, warmup: float) -> dict:
    """client (reads, Zipf keys) -> cache -> a database fast enough that fills are instant."""
    return chain({"rate_rps": CACHE_RATE, "keys": keys, "key_skew": ZIPF_SKEW},
                 [("cache", "cache", {"hit_ms": 0.0, **cache_params}),
                  ("db", "database", {"workers": 10, "read_ms": 0.01, "write_ms": 0.01,
                                      "service_dist": "constant"})],
                 duration_s=warmup + seconds, warmup_s=warmup)


@cache
def _zipf_hit_ratio(eviction: str) -> float:
    # 10k keys, capacity 1000; 10 s (10k requests) of warm-up fills the cache, 40k measured.
    doc = _cached_reads({"capacity_keys": 1000, "eviction": eviction}, ZIPF_KEYS, 40.0, 10.0)
    return run(doc, seed=SEEDS[0])["components"]["cache"]["hit_ratio"]


def test_lru_hit_ratio_matches_che_approximation():
    # Che's approximation is within a fraction of a point for LRU under IRM at this size (0.05
    # points here); the sd of a 40k-request hit ratio is 0.3 points -> tolerance 2 points.
    expected = qt.che_lru_hit_ratio(qt.zipf_popularity(ZIPF_KEYS, ZIPF_SKEW), 1000)
    assert _zipf_hit_ratio("lru") == pytest.approx(expected, abs=0.02)


def test_fifo_hit_ratio_below_lru():
    # Measured gap ~4.3 points, sd of each ratio 0.3 points: a 1-point margin.
    assert _zipf_hit_ratio("fifo") < _zipf_hit_ratio("lru") - 0.01


def test_lfu_hit_ratio_at_least_lru_under_zipf():
    # Measured gap ~8 points (LFU approaches the top-1000 keys' share under IRM).
    assert _zipf_hit_ratio("lfu") >= _zipf_hit_ratio("lru")


def test_ttl_hit_ratio_matches_renewal_formula():
    # Capacity >= keys, so only expiry misses: 1000 Zipf(0.8) keys at 1000 rps, ttl 1 s.
    # Exact for Poisson requests; sd of a 40k-request ratio 0.15 points -> 1 point.
    keys, ttl = 1000, 1.0
    doc = _cached_reads({"capacity_keys": keys, "ttl_s": ttl}, keys, 40.0, 5.0)
    hit_ratio = run(doc, seed=SEEDS[0])["components"]["cache"]["hit_ratio"]
    expected = qt.ttl_hit_ratio(qt.zipf_popularity(keys, ZIPF_SKEW), CACHE_RATE, ttl)
    assert hit_ratio == pytest.approx(expected, abs=0.01)


def _small_cache(policy: str, read_ratio: float, keys: int, seconds: float,
                 rate: float = 100.0, **cache) -> dict:
    quick = {"workers": 10, "read_ms": 0.001, "write_ms": 0.001, "service_dist": "constant"}
    return chain({"rate_rps": rate, "read_ratio": read_ratio, "keys": keys},
                 [("cache", "cache", {"capacity_keys": 10_000, "hit_ms": 0.001,
                                      "write_policy": policy, **cache}),
                  ("db", "database", quick)], duration_s=seconds)


@pytest.mark.parametrize(("policy", "read_ratio", "expected"),
                         [("write_around", 0.7, 0.7), ("write_through", 0.7, 1.0)])
def test_write_policy_and_the_next_read(policy, read_ratio, expected):
    # One key, sparse requests (100 rps against microsecond latencies): a read hits iff the
    # previous operation left the key cached. Write-around drops it, so P(hit) = P(previous
    # operation was a read) = read_ratio; write-through refills it, so every read but the
    # first hits. 14k reads: sd 0.3 points -> tolerance 2 points.
    report = run(_small_cache(policy, read_ratio, 1, 200.0), seed=SEEDS[0])
    assert report["components"]["cache"]["hit_ratio"] == pytest.approx(expected, abs=0.02)


def test_write_behind_cache_failure_loses_its_dirty_keys():
    # Writes at 500/s over 1000 keys, flushed every second; the cache fails at 20.5 s. The
    # writes lost are exactly the keys dirty just before the failure, all written since the
    # last flush, so at most the cache's arrivals in the last flush_ms. (Nothing is lost
    # only if a flush came so late that no write followed it: probability ~0.2%.)
    flush_s, fail_at = 1.0, 20.5
    doc = _small_cache("write_behind", 0.5, 1000, 25.0, rate=1000.0, flush_ms=flush_s * 1000)
    doc["events"] = [{"at_s": fail_at, "action": "fail", "target": "cache"}]
    sim = Simulation(doc, seed=SEEDS[0])
    sim.advance(fail_at - flush_s)
    arrivals_before = sim.report()["components"]["cache"]["arrivals"]
    sim.advance(fail_at - 1e-7)
    dirty = sim.frame()["components"]["cache"]["dirty"]
    arrivals_at_failure = sim.report()["components"]["cache"]["arrivals"]
    sim.advance(25.0)
    lost = sim.report()["components"]["cache"]["lost_writes"]

    assert lost > 0
    assert lost == dirty
    assert lost <= arrivals_at_failure - arrivals_before


# --- Replication ---------------------------------------------------------------------------------

def _replicated(rate: float, read_ratio: float, keys: int, seconds: float, mode: str,
                lag_ms: float, lag_dist: str) -> dict:
    """Writes go to the primary, reads to its replica; both have workers to spare and
    constant service, so commits and reads happen a fixed time after Poisson arrivals."""
    db = {"workers": 1000, "read_ms": 1.0, "write_ms": 1.0, "service_dist": "constant"}
    return document(
        [component("client", "client", rate_rps=rate, read_ratio=read_ratio, keys=keys),
         component("primary", "database", **db), component("replica", "database", **db)],
        [link("client", "primary", route="write"), link("client", "replica", route="read"),
         link("primary", "replica", kind="replication", mode=mode, lag_ms=lag_ms,
              lag_dist=lag_dist)],
        duration_s=seconds + 10, warmup_s=10)


# (lag_dist, rate, keys, seconds). Writes of a key are Poisson at w = 5/s, lag 50 ms. With a
# constant lag the replication log's global order is the per-key order, so 100 uniform keys
# follow the per-key formula; with an exponential lag it is exact for one key (with many keys
# the global log also holds a key's write behind other keys' slower ones). 30k reads each:
# sd 0.9% (constant) / 1.2% (exponential) -> tolerance 5% (4.3 sd or more).
STALE_CASES = [("constant", 1000.0, 100, 60.0), ("exponential", 10.0, 1, 6000.0)]


@pytest.mark.parametrize(("lag_dist", "rate", "keys", "seconds"), STALE_CASES,
                         ids=["constant_lag_100_keys", "exponential_lag_1_key"])
def test_async_replica_stale_reads(lag_dist, rate, keys, seconds):
    read_ratio, lag_ms = 0.5, 50.0
    report = run(_replicated(rate, read_ratio, keys, seconds, "async", lag_ms, lag_dist),
                 seed=SEEDS[0])
    replica = report["components"]["replica"]
    w = rate * (1 - read_ratio) / keys
    expected = qt.stale_read_ratio_per_key([1 / keys] * keys, [w] * keys, lag_ms / 1000, lag_dist)
    assert replica["stale_reads"] / replica["reads"] == pytest.approx(expected, rel=0.05)
    # An async write is answered after the primary's own work only.
    assert report["components"]["primary"]["latency_ms"]["mean"] == pytest.approx(1.0, abs=0.01)


def test_sync_replica_has_no_stale_reads_and_writes_wait_for_the_lag():
    # Constant lag: every write is answered exactly write_ms + lag_ms after it arrives.
    lag_ms = 50.0
    report = run(_replicated(1000.0, 0.5, 100, 60.0, "sync", lag_ms, "constant"),
                 seed=SEEDS[0])
    assert report["components"]["primary"]["latency_ms"]["mean"] == \
        pytest.approx(1.0 + lag_ms, abs=0.01)
    assert report["components"]["replica"]["reads"] > 0
    assert report["components"]["replica"]["stale_reads"] == 0


# --- Availability ----------------------------------------------------------------------------

MTBF_S, MTTR_S = 1.0, 0.2  # A = 5/6; 15000 s hold 12.5k failure cycles per component


def _fragile(**extra) -> tuple[str, dict]:
    # Microsecond service: requests caught in service by a failure are negligible (1e-5).
    return ("service", {"workers": 100, "service_ms": 0.01, "service_dist": "constant",
                        "mtbf_s": MTBF_S, "mttr_s": MTTR_S, **extra})


def test_available_ratio_and_series_success_ratio():
    # 15000 s, 60k requests: sd of available_ratio 0.2%, of the success ratio through both
    # 0.4% -> tolerances 1.5% and 2% (5.4 sd or more).
    doc = chain({"rate_rps": 4.0}, [_fragile(), _fragile()], duration_s=15000.0)
    report = run(doc, seed=SEEDS[0])
    a = qt.availability(MTBF_S, MTTR_S)
    for cid in ("s1", "s2"):
        assert report["components"][cid]["available_ratio"] == pytest.approx(a, rel=0.015)
    assert report["summary"]["success_ratio"] == pytest.approx(qt.series(a, a), rel=0.02)


def test_parallel_success_ratio_through_health_checked_balancer():
    # health_check_s 0: a dead target leaves the rotation at once, so a request fails only
    # when both are down. 60k requests: sd of the success ratio 0.08 points -> tolerance 0.4
    # points (4.9 sd; 1 - parallel = 2.8 points, one service alone would fail 16.7).
    doc = balanced({"rate_rps": 4.0}, {"health_check_s": 0.0}, [_fragile(), _fragile()],
                   duration_s=15000.0)
    report = run(doc, seed=SEEDS[0])
    a = qt.availability(MTBF_S, MTTR_S)
    assert report["summary"]["success_ratio"] == pytest.approx(qt.parallel(a, a), abs=0.004)


# --- Bursty and regular arrivals (GI/M/1) -----------------------------------------------------

# (arrival_cv, rate_rps, measured seconds): hyperexponential (balanced means) at rho = 0.5,
# 150k requests, and gamma at rho = 0.7, 140k. sd: mean response 1.2% / 1.5%, mean wait
# 1.6% / 2.5%, p95 1.7% / 2.0%, utilisation 0.6% / 0.4%. Tolerances: mean 6%, wait 10%,
# p95 9%, utilisation 3% (4.0 sd or more).
GI_CASES = [(2.0, 50.0, 3000.0), (0.5, 70.0, 2000.0)]


@pytest.mark.parametrize(("cv", "rate", "seconds"), GI_CASES, ids=["hyperexp_cv2", "gamma_cv05"])
def test_non_poisson_arrivals_match_gi_m1(cv, rate, seconds):
    service_ms = 10.0
    doc = chain({"rate_rps": rate, "arrival_cv": cv}, [("service", {"service_ms": service_ms})],
                duration_s=seconds + 20, warmup_s=20)
    report = run(doc, seed=SEEDS[0])
    mean_gap = 1.0 / rate
    if cv > 1:
        lst = qt.lst_hyperexp2(*qt.hyperexp2_balanced(mean_gap, cv))
    else:
        shape = 1.0 / cv**2
        lst = qt.lst_gamma(shape, shape / mean_gap)
    theory = qt.gi_m1(mean_gap, lst, 1000.0 / service_ms)
    svc = report["components"]["s1"]
    latency = report["summary"]["latency_ms"]

    assert svc["utilisation"] == pytest.approx(theory.rho, rel=0.03)
    assert svc["mean_wait_ms"] == pytest.approx(ms(theory.mean_wait), rel=0.10)
    assert latency["mean"] == pytest.approx(ms(theory.mean_response), rel=0.06)
    assert latency["p95"] == pytest.approx(ms(theory.response_quantile(0.95)), rel=0.09)


# --- Little's law and the utilisation law on mixed designs ------------------------------------

def _web_design(seconds: float) -> dict:
    return document(
        [component("client", "client", rate_rps=400, read_ratio=0.8, keys=2000, key_skew=0.6),
         component("lb", "load_balancer", algorithm="least_connections"),
         component("app1", "service", workers=4, service_ms=4),
         component("app2", "service", workers=4, service_ms=4, service_dist="lognormal",
                   service_cv=1.5),
         component("cache", "cache", capacity_keys=300),
         component("db", "database", workers=3, read_ms=5, write_ms=8)],
        [link("client", "lb", latency_ms=2), link("lb", "app1"), link("lb", "app2"),
         link("app1", "cache"), link("app2", "cache"), link("cache", "db", latency_ms=1)],
        duration_s=seconds + 10, warmup_s=10)


def _pipeline_design(seconds: float) -> dict:
    return document(
        [component("client", "client", rate_rps=250, arrival_cv=1.5),
         component("api", "service", workers=2, service_ms=3, blocking=False),
         component("queue", "queue", enqueue_ms=0.5),
         component("work", "worker", workers=3, service_ms=6, service_dist="constant"),
         component("db", "database", workers=2, read_ms=2, write_ms=4)],
        [link("client", "api"), link("api", "queue"), link("queue", "work"),
         link("work", "db")],
        duration_s=seconds + 10, warmup_s=10)


@pytest.mark.parametrize("design", [_web_design, _pipeline_design], ids=["web", "pipeline"])
def test_little_and_utilisation_laws_on_every_component(design):
    # Little's law is a sample-path identity: over 100 s (25k-40k requests) only requests
    # straddling the window's ends disturb it -> 2% (plus 1e-3 for the report's rounding;
    # measured errors stay below 0.3%). Utilisation law: busy workers = throughput x holding
    # time. A worker is held for the latency minus the wait when it blocks on downstream
    # calls (an identity -> 2%), for its own service time otherwise (a sample mean of >= 20k
    # service times, sd <= 0.7% -> 3%).
    seconds = 100.0
    doc = design(seconds)
    report = run(doc, seed=SEEDS[0])
    specs = {c["id"]: c for c in doc["components"]}
    callers = {lk["from"] for lk in doc["links"]}
    checked = 0
    for cid, out in report["components"].items():
        if "mean_queue" in out and "mean_wait_ms" in out:
            served = out.get("delivered", out["arrivals"] - out["rejected"])
            assert out["mean_queue"] == pytest.approx(
                served / seconds * out["mean_wait_ms"] / 1000, rel=0.02, abs=1e-3), cid
            checked += 1
        if "utilisation" in out:
            params = specs[cid]["params"]
            blocking = params.get("blocking", True) and cid in callers
            if blocking:
                holding_ms = out["latency_ms"]["mean"] - out["mean_wait_ms"]
                rate = out["completed"] / seconds
                tolerance = 0.02
            elif out["kind"] == "database":
                holding_ms = (out["reads"] * params["read_ms"] + out["writes"] *
                              params["write_ms"]) / (out["reads"] + out["writes"])
                rate = (out["reads"] + out["writes"]) / seconds
                tolerance = 0.03
            else:
                holding_ms, rate, tolerance = params["service_ms"], out["arrivals"] / seconds, 0.03
            assert out["utilisation"] == pytest.approx(
                rate * holding_ms / 1000 / params["workers"], rel=tolerance), cid
            checked += 1
    assert checked >= 5


# --- Queue and workers ---------------------------------------------------------------------------

def _queue_design(rate: float, capacity: int | None, seconds: float) -> dict:
    return chain({"rate_rps": rate},
                 [("queue", "queue", {"capacity": capacity}),
                  ("work", "worker", {"workers": 3, "service_ms": 10.0})],
                 duration_s=seconds + 20, warmup_s=20)


def test_queue_with_worker_pool_is_mmc():
    # Competing consumers on one FIFO buffer: M/M/3 at rho = 0.75 (the constant enqueue_ms
    # shifts Poisson arrivals, which stay Poisson). 200k requests: sd of the utilisation
    # 0.3%, of the buffer's mean wait and mean depth 2.0% -> 2% and 10% (5 sd or more).
    rate = 225.0
    report = run(_queue_design(rate, None, 900.0), seed=SEEDS[0])
    theory = qt.mmc(rate, 100.0, 3)
    queue, work = report["components"]["queue"], report["components"]["work"]
    assert work["utilisation"] == pytest.approx(rate * 0.010 / 3, rel=0.02)
    assert queue["mean_wait_ms"] == pytest.approx(ms(theory.mean_wait), rel=0.10)
    assert queue["mean_queue"] == pytest.approx(theory.mean_queue, rel=0.10)


def test_full_queue_rejects_and_clients_see_every_accepted_message_succeed():
    # rho = 1.5 into a buffer of 20: M/M/3/23. 90k requests: sd of the blocking ratio 0.9%
    # -> tolerance 4% (4.4 sd); utilisation ~1 (sd 0.01%) -> 0.5%.
    rate, capacity = 450.0, 20
    report = run(_queue_design(rate, capacity, 200.0), seed=SEEDS[0])
    theory = qt.mmck(rate, 100.0, 3, 3 + capacity)
    queue, work = report["components"]["queue"], report["components"]["work"]
    summary, client = report["summary"], report["components"]["client"]

    assert queue["rejected"] > 0
    assert queue["rejected"] / queue["arrivals"] == pytest.approx(theory.p_block, rel=0.04)
    assert work["utilisation"] == pytest.approx(theory.utilisation, rel=0.005)
    assert summary["succeeded"] == queue["completed"]
    assert client["failures"]["rejected"] == queue["rejected"] == summary["failed"]

"""The edge kinds (dns, cdn, reverse_proxy, rate_limiter, waf) against their formulas.

Expected values come from simulations.theory or from the derivation in the comment beside
each test; tolerances are about 4 standard deviations of the simulated estimate (binomial
where a share is counted, measured over 12 seeds where it is not) plus the model's known
bias, each stated with its reason. Seeds are fixed; any other seed should pass too.
"""

from __future__ import annotations

import math

import pytest

from simulations import ScenarioError, Simulation, run, validate
from simulations import theory as qt
from tests.engine.scenarios import chain, component, document, link
from tests.engine.test_properties import check_conservation, check_report

SEED = 5


def binomial_sd(p: float, n: float) -> float:
    return math.sqrt(p * (1.0 - p) / n)


# --- rate limiter --------------------------------------------------------------------------

def test_token_bucket_admits_its_rate_under_overload():
    """Poisson arrivals at 3x the rate: the bucket is (almost) always empty, so every token
    is taken by the next arrival (1/300 s later on average) and none is lost to a full
    bucket: admitted = rate_rps x time + burst. Over 300 s that is within 0.1%; the 2%
    tolerance only allows for the warm-up boundary."""
    rate, measured = 100.0, 300.0
    doc = chain({"rate_rps": 3 * rate},
                [("rate_limiter", {"rate_rps": rate, "burst": 20}),
                 ("service", {"workers": 4, "service_ms": 1})],
                duration_s=measured + 10, warmup_s=10)
    report = run(doc, seed=SEED)
    limiter, summary = report["components"]["s1"], report["summary"]

    assert limiter["admitted"] / measured == pytest.approx(rate, rel=0.02)
    assert summary["throughput_rps"] == pytest.approx(rate, rel=0.02)
    # 429s are their own outcome, apart from 503 rejections.
    assert summary["failures"]["rate_limited"] == limiter["limited"] > 0
    assert summary["failures"]["rejected"] == 0
    assert report["components"]["client"]["failures"]["rate_limited"] == limiter["limited"]
    assert report["predictions"]["components"]["s1"]["admitted_rps"] == pytest.approx(rate)
    # The live frame tells 429s apart too: 2/3 of what finished was limited.
    sim = Simulation(doc, seed=SEED, live=True)
    sim.advance(20.0)
    sim.frame()
    sim.advance(40.0)
    assert sim.frame()["summary"]["rate_limited_ratio"] == pytest.approx(2 / 3, abs=0.03)


def test_a_one_token_bucket_loses_the_wait_for_the_next_arrival_and_set_changes_it():
    """With burst 1 a full bucket stops filling until a request takes its token: a cycle
    is 1/rate to refill plus the wait for the next Poisson arrival (1/lambda, memoryless),
    so admitted = rate lambda / (rate + lambda): 85.7 rps at 100 of 600, 150 after a `set`
    to 200. Renewal counts of about 10k cycles with cv 0.14: sd 0.15%, tolerance 1%."""
    offered = 600.0
    doc = chain({"rate_rps": offered}, [("rate_limiter", {"rate_rps": 100, "burst": 1}),
                                        ("service", {"workers": 8, "service_ms": 1})],
                duration_s=200)
    doc["events"] = [{"at_s": 100, "action": "set", "target": "s1",
                      "params": {"rate_rps": 200}}]
    admitted = run(doc, seed=SEED)["components"]["s1"]["admitted"]
    expected = sum(100 * rate * offered / (rate + offered) for rate in (100, 200))
    assert admitted == pytest.approx(expected, rel=0.01)


# --- CDN -----------------------------------------------------------------------------------

def test_cdn_pull_hit_ratio_matches_che():
    """LRU under Zipf(0.8) over 10,000 keys, 1,000 cached: Che's approximation is within
    about a point of LRU at this size; the estimate's own sd over 96k static reads is
    0.2 points (binomial, reads are nearly independent), so 2 points of tolerance.
    A fifth of the reads are dynamic: they bypass the edge and leave the static hit ratio
    as it is."""
    keys, capacity, skew = 10_000, 1_000, 0.8
    doc = chain({"rate_rps": 1000, "keys": keys, "key_skew": skew},
                [("cdn", {"capacity_keys": capacity, "dynamic_ratio": 0.2}),
                 ("service", {"workers": 16, "service_ms": 1})],
                duration_s=140, warmup_s=20)
    report = run(doc, seed=SEED)
    cdn, origin = report["components"]["s1"], report["components"]["s2"]
    che = qt.che_lru_hit_ratio(qt.zipf_popularity(keys, skew), capacity)

    assert cdn["hit_ratio"] == pytest.approx(che, abs=0.02)
    assert report["predictions"]["components"]["s1"]["hit_ratio"] == pytest.approx(che,
                                                                                   abs=1e-3)
    assert cdn["dynamic"] / cdn["arrivals"] == pytest.approx(0.2, abs=4 * binomial_sd(
        0.2, cdn["arrivals"]))
    # The origin sees the misses and the dynamic reads, nothing else; those that reached
    # the edge in the 5 ms before the warm-up ended (about 5 at 1000 rps) count there only.
    assert origin["arrivals"] == pytest.approx(cdn["misses"] + cdn["dynamic"], abs=25)


def test_cdn_push_hit_ratio_is_the_popularity_of_the_pushed_keys():
    """Push: ranks 0..N-1 always hit, so the hit ratio is their Zipf mass, exactly; the
    estimate is binomial (sd 0.25 points over 40k reads): 1 point of tolerance."""
    keys, pushed, skew = 1000, 50, 1.0
    doc = chain({"rate_rps": 400, "keys": keys, "key_skew": skew},
                [("cdn", {"mode": "push", "push_keys": pushed}),
                 ("service", {"workers": 8, "service_ms": 1})], duration_s=100)
    report = run(doc, seed=SEED)
    exact = math.fsum(qt.zipf_popularity(keys, skew)[:pushed])

    assert report["components"]["s1"]["hit_ratio"] == pytest.approx(exact, abs=0.01)
    assert report["predictions"]["components"]["s1"]["hit_ratio"] == \
        pytest.approx(exact, abs=1e-4)  # the report rounds to 4 decimals


# --- DNS -----------------------------------------------------------------------------------

def test_dns_lookup_share_follows_the_ttl_renewal_formula():
    """50 users (key modulo 50; 1000 uniform keys, 20 per user) each see Poisson requests at
    2/s. An answer cached for ttl_s is a TTL entry of one key: each lookup starts a cycle of
    one lookup plus r ttl_s cached requests on average, so 1/(1 + r ttl_s) = 1/5 of the
    requests look up. 30k requests give about 6,000 cycles: sd 0.3 points, tolerance 1.5.
    With no other delay the mean latency is that share times lookup_ms."""
    users, ttl, rate = 50, 2.0, 100.0
    doc = chain({"rate_rps": rate, "keys": 1000},
                [("dns", {"users": users, "ttl_s": ttl, "lookup_ms": 30}),
                 ("service", {"workers": 8, "service_ms": 0})], duration_s=310, warmup_s=10)
    report = run(doc, seed=SEED)
    dns = report["components"]["s1"]
    per_user = rate / users
    expected = 1.0 / (1.0 + per_user * ttl)
    assert expected == pytest.approx(1.0 - qt.ttl_hit_ratio([1 / users] * users, rate, ttl))

    assert dns["lookup_ratio"] == pytest.approx(expected, abs=0.015)
    assert report["predictions"]["components"]["s1"]["lookup_ratio"] == \
        pytest.approx(expected, abs=1e-4)
    assert report["summary"]["latency_ms"]["mean"] == pytest.approx(30 * dns["lookup_ratio"],
                                                                     rel=0.02)


def failover_design(regions: int, duration_s: float) -> dict:
    """Users -> failover DNS -> one or two regions that fail (mtbf 100 s, mttr 10 s)."""
    comps = [component("users", "client", rate_rps=4.0, keys=2),
             component("dns", "dns", policy="failover", ttl_s=5.0, users=2, lookup_ms=0)]
    links = [link("users", "dns")]
    for i in range(regions):
        comps.append(component(f"region{i}", "service", workers=4, service_ms=1,
                               mtbf_s=100.0, mttr_s=10.0))
        links.append(link("dns", f"region{i}"))
    return document(comps, links, duration_s)


def test_dns_failover_availability_of_two_regions():
    """Two regions behind a failover DNS against one region.

    One region: success = A = mtbf/(mtbf + mttr) = 0.909.
    Two regions: both down loses (1 - A)^2 (parallel(A, A)). Besides, a user keeps its
    answer for ttl_s: when the active region fails while the other is up (rate A^2/mtbf),
    the requests that use a cached answer (share 1 - 1/(1 + r ttl_s) = 10/11 for r = 2/s)
    fail until the answer expires or the region is repaired: the residual life U of an
    answer is uniform on (0, ttl_s), the repair R exponential, and E[min(U, R)] =
    mttr (1 - mttr/ttl_s (1 - e^{-ttl_s/mttr})) = 2.13 s. So
    success ~ parallel(A, A) - A^2/mtbf x 10/11 x 2.13 s = 0.9917 - 0.0160 = 0.9757.
    Over 12 seeds of 40,000 s the simulated mean was 0.9751 (sd 0.0017 per run; the 0.0006
    below comes from second-order terms, e.g. a region repaired while users still point
    at the other, failed one) and the one-region mean 0.9071 (sd 0.0067). Tolerances: 0.008
    (4 sd plus that bias) and 0.027; plain parallel(A, A) is 0.016 away, outside it.
    """
    mtbf, mttr, ttl, per_user = 100.0, 10.0, 5.0, 2.0
    a = qt.availability(mtbf, mttr)
    cached = 1.0 - 1.0 / (1.0 + per_user * ttl)
    window = mttr * (1.0 + mttr / ttl * math.expm1(-ttl / mttr))
    expected = qt.parallel(a, a) - a * a / mtbf * cached * window

    one = run(failover_design(1, 40_000), seed=SEED)
    two = run(failover_design(2, 40_000), seed=SEED)

    assert one["summary"]["success_ratio"] == pytest.approx(a, abs=0.027)
    assert two["summary"]["success_ratio"] == pytest.approx(expected, abs=0.008)
    assert two["summary"]["success_ratio"] > one["summary"]["success_ratio"] + 0.04
    assert abs(two["summary"]["success_ratio"] - qt.parallel(a, a)) > 0.008
    assert two["predictions"]["availability"]["overall"] == pytest.approx(expected, abs=1e-4)
    # Every lookup after the first region failed pointed at the second.
    assert two["components"]["dns"]["per_target"]["region1"] > 0


def test_dns_policies_pick_targets():
    """Fresh answers: latency picks the nearest target, weighted splits by link weight."""
    def design(policy: str) -> dict:
        comps = [component("c", "client", rate_rps=200, keys=1000),
                 component("dns", "dns", policy=policy, ttl_s=0, lookup_ms=1),
                 component("near", "service", workers=8, service_ms=1),
                 component("far", "service", workers=8, service_ms=1)]
        links = [link("c", "dns"), link("dns", "far", latency_ms=30, weight=3),
                 link("dns", "near", latency_ms=5)]
        return document(comps, links, 50)

    nearest = run(design("latency"), seed=SEED)["components"]["dns"]["per_target"]
    assert nearest == {"far": 0, "near": nearest["near"]}
    weighted = run(design("weighted"), seed=SEED)["components"]["dns"]["per_target"]
    n = weighted["far"] + weighted["near"]
    assert weighted["far"] / n == pytest.approx(0.75, abs=4 * binomial_sd(0.75, n))


# --- WAF -----------------------------------------------------------------------------------

def test_waf_blocks_its_share_of_attacks_and_of_legitimate_requests():
    """Blocked attacks = malicious_ratio x block_ratio of all requests, false positives =
    (1 - malicious_ratio) x false_positive_ratio: binomial over 60k requests, 4 sd."""
    malicious, block, false_positive = 0.3, 0.9, 0.02
    doc = chain({"rate_rps": 600, "malicious_ratio": malicious},
                [("waf", {"block_ratio": block, "false_positive_ratio": false_positive,
                          "inspect_ms": 2}),
                 ("service", {"workers": 8, "service_ms": 1})], duration_s=100)
    report = run(doc, seed=SEED)
    waf = report["components"]["s1"]
    n = waf["arrivals"]
    for got, share in ((waf["blocked"], malicious * block),
                       (waf["false_positives"], (1 - malicious) * false_positive),
                       (waf["missed_attacks"], malicious * (1 - block))):
        assert got / n == pytest.approx(share, abs=4 * binomial_sd(share, n))
    assert report["summary"]["failures"]["blocked"] == waf["blocked"] + waf["false_positives"]
    assert waf["passed"] == report["components"]["s2"]["arrivals"]
    blocked = malicious * block + (1 - malicious) * false_positive
    predicted = report["predictions"]
    assert predicted["components"]["s1"]["blocked_ratio"] == pytest.approx(blocked, abs=1e-4)
    assert predicted["availability"]["overall"] == pytest.approx(1 - blocked, abs=1e-4)


# --- reverse proxy -------------------------------------------------------------------------

def test_reverse_proxy_connections_block_as_mmck():
    """2 connections and 3 waiting places in front of a 2-worker exponential service: the
    service never holds more than 2 requests, so it never queues and a connection is held
    for exactly one exponential service time: the proxy is M/M/2/5. As in test_theory at
    rho = 0.75, the sd of the blocking ratio over 1000 s is 1.5%: tolerance 6%; the
    utilisation's 0.4%: tolerance 2%."""
    rate, service_ms, connections, limit = 150.0, 10.0, 2, 3
    doc = chain({"rate_rps": rate},
                [("reverse_proxy", {"connections": connections, "queue_limit": limit,
                                    "tls_ms": 0}),
                 ("service", {"workers": connections, "service_ms": service_ms})],
                duration_s=1010, warmup_s=10)
    report = run(doc, seed=SEED)
    proxy = report["components"]["s1"]
    theory = qt.mmck(rate, 1000 / service_ms, connections, connections + limit)

    assert proxy["rejected"] / proxy["arrivals"] == pytest.approx(theory.p_block, rel=0.06)
    assert report["summary"]["failures"]["rejected"] == proxy["rejected"]
    assert proxy["utilisation"] == pytest.approx(theory.utilisation, rel=0.02)
    assert proxy["mean_queue"] == pytest.approx(theory.mean_queue, rel=0.06)


def test_reverse_proxy_limits_each_client():
    """10 clients (key modulo 10 over 1000 uniform keys) at 20 rps each, limited to 5 rps:
    past the burst each bucket admits exactly its rate (as the rate limiter at 4x
    overload), so 3/4 of the requests are answered rate_limited; the buckets' 10 tokens of
    burst are 0.1% of 60 s. Tolerance 1.5 points (the counts' noise is below 0.5)."""
    doc = chain({"rate_rps": 200, "keys": 1000},
                [("reverse_proxy", {"clients": 10, "client_rate_rps": 5, "client_burst": 10}),
                 ("service", {"workers": 8, "service_ms": 2})], duration_s=70, warmup_s=10)
    report = run(doc, seed=SEED)
    proxy = report["components"]["s1"]

    assert proxy["rate_limited"] / proxy["arrivals"] == pytest.approx(0.75, abs=0.015)
    assert report["summary"]["failures"]["rate_limited"] == proxy["rate_limited"]
    assert report["predictions"]["components"]["s1"]["rate_limited_rps"] == \
        pytest.approx(150, abs=1e-4)


def test_reverse_proxy_cache_hit_ratio():
    """100 of 1000 uniform keys cached: Che is exact for uniform popularity, hit = 0.1
    (binomial sd 0.27 points over 12k reads; tolerance 1.2). Per-client limits would make
    each client's requests regular, not independent, and lower LRU's hit ratio (to 0.095
    with ten limited clients): that is why this run has none."""
    doc = chain({"rate_rps": 200, "keys": 1000},
                [("reverse_proxy", {"cache_keys": 100}),
                 ("service", {"workers": 8, "service_ms": 2})], duration_s=70, warmup_s=10)
    report = run(doc, seed=SEED)
    assert report["components"]["s1"]["hit_ratio"] == pytest.approx(0.1, abs=0.012)
    assert report["predictions"]["components"]["s1"]["hit_ratio"] == \
        pytest.approx(0.1, abs=1e-4)


# --- every edge kind: failure, conservation, determinism, validation -----------------------

def edge_chain(duration_s: float = 30.0) -> dict:
    """client -> dns -> waf -> rate_limiter -> reverse_proxy -> cdn -> service, with
    failures, a partition and `set`s of every kind along the way."""
    doc = chain({"rate_rps": 400, "keys": 500, "key_skew": 0.9, "read_ratio": 0.8,
                 "malicious_ratio": 0.1, "timeout_ms": 200, "retries": 1},
                [("dns", "dns", {"ttl_s": 1, "users": 20}),
                 ("waf", "waf", {"false_positive_ratio": 0.01}),
                 ("rl", "rate_limiter", {"rate_rps": 300}),
                 ("proxy", "reverse_proxy", {"connections": 4, "queue_limit": 20,
                                             "cache_keys": 50, "client_rate_rps": 30,
                                             "clients": 20}),
                 ("cdn", "cdn", {"capacity_keys": 100, "ttl_s": 2, "dynamic_ratio": 0.3}),
                 ("app", "service", {"workers": 8, "service_ms": 10})],
                latency_ms=1, duration_s=duration_s, warmup_s=2)
    doc["events"] = [
        {"at_s": 5, "action": "fail", "target": "proxy"},
        {"at_s": 6, "action": "recover", "target": "proxy"},
        {"at_s": 8, "action": "fail", "target": "cdn"},
        {"at_s": 9, "action": "recover", "target": "cdn"},
        {"at_s": 10, "action": "partition", "target": ["waf", "rl"]},
        {"at_s": 11, "action": "heal", "target": ["waf", "rl"]},
        {"at_s": 12, "action": "set", "target": "proxy",
         "params": {"connections": 2, "cache_keys": 10, "client_rate_rps": 10}},
        {"at_s": 13, "action": "set", "target": "cdn", "params": {"mode": "push",
                                                                  "push_keys": 20}},
        {"at_s": 14, "action": "set", "target": "dns", "params": {"users": 5}},
        {"at_s": 15, "action": "set", "target": "waf", "params": {"block_ratio": 0.5}},
        {"at_s": 16, "action": "slow", "target": "proxy", "params": {"factor": 3}},
        {"at_s": 17, "action": "fail", "target": "dns"},
        {"at_s": 18, "action": "recover", "target": "dns"},
    ]
    return doc


def test_edge_kinds_conserve_requests_through_failures_and_sets():
    doc = edge_chain()
    sim = Simulation(doc, live=True)
    for t in range(1, 31):
        sim.advance(float(t))
        frame = sim.frame()
        check_conservation(sim)
    assert set(frame["components"]["proxy"]) >= {"util", "queue", "entries"}
    assert "tokens" in frame["components"]["rl"]
    report = sim.report()
    check_report(report)
    for cid in ("dns", "waf", "rl", "proxy", "cdn"):
        comp = report["components"][cid]
        assert comp["completed"] > 0, cid
    assert report["components"]["proxy"]["failed"] > 0  # its failure dropped what it held


def test_a_failed_edge_component_drops_what_it_holds():
    """A proxy with a slow upstream holds many requests; failing it answers each `down`."""
    doc = chain({"rate_rps": 100}, [("reverse_proxy", {"connections": 2}),
                                    ("service", {"workers": 2, "service_ms": 100})],
                duration_s=10)
    sim = Simulation(doc)
    sim.advance(5.0)
    proxy = sim.components["s1"]
    held = proxy.in_flight()
    assert held > 10 and proxy.waiting
    failed_before = sim.components["client"].failures["down"]
    sim.apply({"action": "fail", "target": "s1"})
    assert proxy.in_flight() == 0 and not proxy.waiting and proxy.busy == 0
    assert sim.components["client"].failures["down"] - failed_before == held
    check_conservation(sim)


def test_edge_runs_are_deterministic():
    doc = edge_chain(duration_s=20)
    first = run(doc, seed=3)
    again = run(doc, seed=3)
    first.pop("wall_s"), again.pop("wall_s")
    assert first == again


@pytest.mark.parametrize("kind", ["dns", "cdn", "reverse_proxy", "rate_limiter", "waf"])
def test_an_edge_kind_needs_an_outgoing_link(kind):
    params = {"rate_rps": 10} if kind == "rate_limiter" else {}
    doc = document([component("c", "client", rate_rps=10), component("e", kind, **params)],
                   [link("c", "e")], 10)
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    assert f"components[1]: {kind} 'e' has no outgoing link to send requests to" in \
        info.value.errors


def test_an_edge_kind_needs_a_link_for_each_operation_it_receives():
    doc = document([component("c", "client", rate_rps=10, read_ratio=0.5),
                    component("w", "waf"), component("s", "service", service_ms=1)],
                   [link("c", "w"), link("w", "s", route="read")], 10)
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    assert "components[1]: waf 'w' receives writes but none of its links carries writes" in \
        info.value.errors

"""Quorum key-value stores (kv_store) against order statistics and the quorum argument.

Expected values are derived here: latencies from exponential order statistics, stale reads
from the quorum-intersection argument and the age of the newest commit, partitions from the
share of requests on each side. Tolerances are about 4 standard deviations of the simulated
estimate (derived alongside), plus the stated bias of an approximation where there is one.
"""

from __future__ import annotations

import math

import pytest

from simulations import ScenarioError, Simulation, run, validate
from tests.engine.scenarios import component, document, link


def store(client: dict, duration_s: float, warmup_s: float = 2.0,
          events: list | None = None, **params) -> dict:
    return document([component("c", "client", **client), component("kv", "kv_store", **params)],
                    [link("c", "kv")], duration_s, warmup_s, events)


def harmonic(n: int) -> float:
    return math.fsum(1 / i for i in range(1, n + 1))


def test_latency_is_the_quorum_order_statistic():
    """A read asks R replicas and waits for all: E = m H(R), Var = m^2 sum 1/i^2 (i <= R).
    A write waits for the W-th fastest of N: E = m (1/N + ... + 1/(N-W+1)). N = 5, R = 3,
    W = 2, m = 10 ms: reads 18.33 ms (sd 11.7), writes 4.5 ms (sd 3.2). With 20000 of each
    the means have sd 0.45% and 0.5%: tolerance 2.5% (also covers the histogram's 1%)."""
    m, n, r, w = 10.0, 5, 3, 2
    quorum = {"replicas_n": n, "read_quorum": r, "write_quorum": w, "replica_ms": m}
    comps = [component("readers", "client", rate_rps=1000, read_ratio=1.0),
             component("writers", "client", rate_rps=1000, read_ratio=0.0),
             component("kv_r", "kv_store", **quorum), component("kv_w", "kv_store", **quorum)]
    doc = document(comps, [link("readers", "kv_r"), link("writers", "kv_w")], 21.0, 1.0)
    report = run(doc, seed=4)
    read_mean = m * harmonic(r)
    write_mean = m * math.fsum(1 / (n - i) for i in range(w))
    assert report["components"]["kv_r"]["latency_ms"]["mean"] == \
        pytest.approx(read_mean, rel=0.025)
    assert report["components"]["kv_w"]["latency_ms"]["mean"] == \
        pytest.approx(write_mean, rel=0.025)
    predicted = report["predictions"]["components"]
    assert predicted["kv_r"]["latency_ms"]["mean"] == pytest.approx(read_mean, abs=1e-4)
    assert predicted["kv_w"]["latency_ms"]["mean"] == pytest.approx(write_mean, abs=1e-4)


@pytest.mark.parametrize(("n", "r", "w"), [(3, 2, 2), (3, 1, 3), (5, 3, 3), (5, 2, 4)])
def test_overlapping_quorums_read_their_writes(n, r, w):
    """R + W > N: every read quorum meets every write quorum, so no read is stale, however
    hot the keys (5 keys, half the requests writes, 20 ms replicas)."""
    doc = store({"rate_rps": 2000, "read_ratio": 0.5, "keys": 5}, 8.0, replicas_n=n,
                read_quorum=r, write_quorum=w, replica_ms=20.0)
    kv = run(doc, seed=n * 10 + r)["components"]["kv"]
    assert kv["reads"] > 5000 and kv["writes"] > 5000
    assert kv["stale_reads"] == 0


def test_disjoint_quorums_read_stale_as_predicted():
    """R + W <= N: the newest commit of a key (age a ~ Exp(w), as commits of Poisson writes
    with iid delays are Poisson) sits on exactly W replicas at commit, and each other one
    still lacks it a later with probability e^{-a/m}. A read misses it iff its R replicas
    are all among those N - W and all still lack it: P = C(N-W,R)/C(N,R) w m/(w m + R).
    N = 3, R = W = 1, m = 10 ms, 50 keys each written at w = 5/s (w m = 0.05):
    P = 2/3 x 0.05/1.05 = 0.0317. 2 x 60 s of 750 reads/s: 90000 reads, binomial sd 1.9%
    relative. The formula ignores writes still in flight (a newer uncommitted version also
    makes a read fresh): measured beforehand within +-3% at w m = 0.05 (about -5% at w m =
    0.1). Tolerance 10%."""
    n, r, w, m, keys, write_rps = 3, 1, 1, 10.0, 50, 250.0
    doc = store({"rate_rps": 1000, "read_ratio": 0.75, "keys": keys}, 62.0, replicas_n=n,
                read_quorum=r, write_quorum=w, replica_ms=m)
    reports = [run(doc, seed=s) for s in (1, 2)]
    stale = sum(rep["components"]["kv"]["stale_reads"] for rep in reports)
    reads = sum(rep["components"]["kv"]["reads"] for rep in reports)
    wm = write_rps / keys * m / 1000.0
    expected = math.comb(n - w, r) / math.comb(n, r) * wm / (wm + r)
    assert stale / reads == pytest.approx(expected, rel=0.10)
    predicted = reports[0]["predictions"]["components"]["kv"]["stale_read_ratio"]
    assert predicted == pytest.approx(expected, abs=1e-4)


def partitioned(mode: str, **extra) -> dict:
    """N = 3, R = W = 2, one replica cut off from the start; 10 hot keys, 20% writes."""
    return store({"rate_rps": 1000, "read_ratio": 0.8, "keys": 10}, 22.0, replicas_n=3,
                 read_quorum=2, write_quorum=2, replica_ms=5.0, partitioned_replicas=1,
                 on_partition=mode, **extra)


def test_partition_refuse_fails_the_minority_side_and_stays_consistent():
    """CP: a request lands on the far side (1 replica of 3) with probability 1/3 and is
    failed there (1 < R = W = 2); the majority side serves everything else. 20000
    requests: sd of the failed share 0.0033, tolerance 0.014. With R + W > N no side can
    read stale or both write: zero stale reads and conflicts."""
    kv = run(partitioned("refuse"), seed=7)["components"]["kv"]
    assert kv["failed"] / kv["arrivals"] == pytest.approx(1 / 3, abs=0.014)
    assert kv["stale_reads"] == 0 and kv["conflicting_keys"] == 0 and kv["sloppy_writes"] == 0
    assert kv["completed"] + kv["failed"] + kv["rejected"] <= kv["arrivals"]


def test_partition_serve_answers_everything_but_reads_stale():
    """AP: nothing fails; far-side writes are sloppy (1 of W = 2 acks): 1/3 of writes. With
    each key written every 0.05 s, a read is stale when the key's newest write came from
    the other side: far reads (1/3) miss main writes (2/3), main reads (2/3) miss far
    writes (1/3): 4/9 = 0.444. Writes in flight at a read (w m = 0.1) make it slightly
    fewer (measured about -1%); binomial sd on 16000 reads 0.004: tolerance 0.025."""
    kv = run(partitioned("serve"), seed=7)["components"]["kv"]
    assert kv["failed"] == 0
    assert kv["sloppy_writes"] / kv["writes"] == pytest.approx(1 / 3, abs=0.03)
    assert kv["stale_read_ratio"] == pytest.approx(4 / 9, abs=0.025)


def test_conflicts_and_heal():
    """A partition that starts after warm-up: both sides write the 10 keys within the first
    second, so every key conflicts once. On heal the held writes reach the other side; once
    writes stop, every replica holds every key's newest version (they converge)."""
    events = [{"at_s": 3, "action": "set", "target": "kv",
               "params": {"partitioned_replicas": 1}},
              {"at_s": 8, "action": "set", "target": "kv",
               "params": {"partitioned_replicas": 0}},
              {"at_s": 9, "action": "set", "target": "c", "params": {"rate_rps": 0}}]
    doc = store({"rate_rps": 1000, "read_ratio": 0.8, "keys": 10}, 10.0, replicas_n=3,
                read_quorum=2, write_quorum=2, replica_ms=5.0, on_partition="serve",
                events=events)
    sim = Simulation(doc, seed=3)
    sim.advance(7.9)
    kv = sim.components["kv"]
    assert kv.conflicting_keys == 10 and kv.report(sim.now)["held_writes"] == 30
    assert sim.frame()["components"]["kv"]["partitioned"] == 1
    sim.advance(10.0)
    assert kv.report(sim.now)["held_writes"] == 0
    assert all(replica == kv.issued for replica in kv.stored)
    assert kv.committed == kv.issued


def test_failure_drops_requests_but_not_data():
    """A failed store answers what it holds `down` and refuses while down; writes already
    at the replicas still commit, and no request is lost (conservation)."""
    events = [{"at_s": 1, "action": "fail", "target": "kv"},
              {"at_s": 1.5, "action": "recover", "target": "kv"}]
    doc = store({"rate_rps": 2000, "read_ratio": 0.5, "keys": 20}, 3.0, 0.0, events,
                replica_ms=50.0)
    sim = Simulation(doc, seed=1)
    sim.advance(3.0)
    kv = sim.components["kv"]
    assert kv.total_in == kv.total_ok + kv.total_rejected + kv.total_failed + kv.in_flight()
    assert kv.report(sim.now)["stale_reads"] == 0  # R + W = 4 > 3, failure or not
    failures = sim.report()["components"]["c"]["failures"]
    assert failures["down"] > 900  # 0.5 s at 2000 rps, plus what it held


def test_slow_and_set_change_replica_times():
    """`slow` multiplies the replica time; a `set` of replica_ms replaces it."""
    events = [{"at_s": 5, "action": "slow", "target": "kv", "params": {"factor": 4}}]
    doc = store({"rate_rps": 500, "read_ratio": 1.0}, 10.0, 5.0, events, replica_ms=2.0,
                read_quorum=1)
    # After warm-up every read takes Exp(8 ms): 2500 reads, sd of the mean 2%: tolerance 8%.
    assert run(doc, seed=2)["components"]["kv"]["latency_ms"]["mean"] == \
        pytest.approx(8.0, rel=0.08)


# --- validation ----------------------------------------------------------------------------

def errors_of(doc: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


def test_quorums_and_partition_are_bounded_by_the_replicas():
    client = {"rate_rps": 10}
    assert errors_of(store(client, 5, read_quorum=4)) == \
        ["components[1].params.read_quorum: must be <= replicas_n (3)"]
    assert errors_of(store(client, 5, replicas_n=1)) == [
        "components[1].params.replicas_n: must be >= read_quorum (2)",
        "components[1].params.replicas_n: must be >= write_quorum (2)"]
    assert errors_of(store(client, 5, partitioned_replicas=3)) == \
        ["components[1].params.partitioned_replicas: must be < replicas_n (3)"]
    events = [{"at_s": 1, "action": "set", "target": "kv", "params": {"replicas_n": 2,
                                                                        "write_quorum": 3}}]
    assert errors_of(store(client, 5, events=events)) == \
        ["events[0].params.write_quorum: must be <= replicas_n (2)"]
    validate(store(client, 5, events=[{"at_s": 1, "action": "set", "target": "kv",
                                       "params": {"replicas_n": 5, "read_quorum": 5}}]))


def test_live_set_is_checked_against_the_replicas():
    sim = Simulation(store({"rate_rps": 10}, 5))
    with pytest.raises(ScenarioError) as info:
        sim.apply({"action": "set", "target": "kv", "params": {"partitioned_replicas": 5}})
    assert info.value.errors == ["command.params.partitioned_replicas: must be < replicas_n (3)"]
    sim.apply({"action": "set", "target": "kv", "params": {"partitioned_replicas": 2}})
    sim.advance(1.0)
    assert sim.frame()["components"]["kv"]["partitioned"] == 2


def test_a_kv_store_calls_nothing():
    doc = document([component("c", "client", rate_rps=10), component("kv", "kv_store"),
                    component("s", "service", service_ms=1)],
                   [link("c", "kv"), link("kv", "s")], 5)
    assert "links[1]: a kv_store calls nothing (its replicas are inside it)" in errors_of(doc)

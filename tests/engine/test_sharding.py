"""Shard routers against the theory of hashing.

Rings are random only through blake2b: a ring is a function of its target ids, so "many
rings" below means many sets of target ids, and the keys 0..K-1 are fixed. Every expected
value is derived here from first principles; tolerances are about 4 standard deviations of
the estimate (derived alongside) unless said otherwise.
"""

from __future__ import annotations

import statistics

import pytest

from simulations import ScenarioError, Simulation, run, validate
from simulations.components.sharding import ShardMap, imbalance
from tests.engine.scenarios import component, document, link


def moved_share(before: ShardMap, after: ShardMap, keys: int, rename=lambda j: j) -> float:
    """Share of keys 0..keys-1 whose target changes (`rename` maps before's indices to
    after's)."""
    return sum(rename(before(k)) != after(k) for k in range(keys)) / keys


def ring(trial: int, n: int, vnodes: int, weights: list[float] | None = None) -> ShardMap:
    targets = [(f"ring{trial}-node{j}", (weights or [1.0] * n)[j]) for j in range(n)]
    return ShardMap("consistent_hash", targets, 1000, vnodes)


# --- keys moved when a target joins ----------------------------------------------------------

def test_consistent_hash_moves_one_key_in_n_plus_one_and_only_to_the_newcomer():
    """N -> N+1 targets: a key moves iff the new target's virtual nodes take its arc, so
    the share moved is the newcomer's ring share S, E[S] = 1/(N+1) by symmetry. With V
    vnodes each, S ~ Beta(V, N V) (V of the (N+1)V uniform spacings), Var S =
    (1/(N+1))(N/(N+1))/((N+1)V + 1); K keys add binomial noise S(1-S)/K. N = 4, V = 100,
    K = 2000: sd per ring = sqrt(3.19e-4 + 8.0e-5) = 0.020; over 150 rings 0.0016.
    Tolerance 0.0065 (4 sd)."""
    n, v, keys, trials = 4, 100, 2000, 150
    shares = []
    for t in range(trials):
        small, big = ring(t, n, v), ring(t, n + 1, v)
        owners = [small(k) for k in range(keys)]
        moved = [k for k in range(keys) if big(k) != owners[k]]
        assert all(big(k) == n for k in moved), "a key moved between old targets"
        shares.append(len(moved) / keys)
    assert statistics.fmean(shares) == pytest.approx(1 / (n + 1), abs=0.0065)
    # The spread across rings is the Beta one (plus binomial): sd of a variance estimate
    # from 150 rings is about sqrt(2/149) = 12%, so 40% is far outside chance.
    expected_var = (1 / (n + 1)) * (n / (n + 1)) / ((n + 1) * v + 1) * (1 - 1 / keys) \
        + (1 / (n + 1)) * (n / (n + 1)) / keys
    assert statistics.pvariance(shares) == pytest.approx(expected_var, rel=0.4)


def test_hash_mod_moves_n_keys_in_n_plus_one():
    """hash(key) mod N vs mod N+1, with h uniform: by the Chinese remainder theorem, of
    the N(N+1) residues of h mod N(N+1) exactly N give the same index, so a key stays with
    probability 1/(N+1) and moves with N/(N+1), whichever target is added or removed. K
    keys: sd = sqrt(p(1-p)/K) = 0.0028 for K = 20000; tolerance 0.012."""
    n, keys = 4, 20_000
    targets = [(f"t{j}", 1.0) for j in range(n + 1)]
    big = ShardMap("hash_mod", targets, 1000, 1)
    assert moved_share(big, ShardMap("hash_mod", targets[:n], 1000, 1), keys) == \
        pytest.approx(n / (n + 1), abs=0.012)
    # Removing the first target shifts every index: still N/(N+1).
    assert moved_share(big, ShardMap("hash_mod", targets[1:], 1000, 1), keys,
                       rename=lambda j: j - 1) == pytest.approx(n / (n + 1), abs=0.012)


# --- load spread ---------------------------------------------------------------------------

def test_consistent_hash_keys_per_target_cv_matches_beta():
    """Share S_j of target j ~ Beta(V, (N-1)V): E[S] = 1/N, Var S = (1/N)(1-1/N)/(NV+1),
    so the ring's CV^2 across targets is (N-1)/(NV+1) in expectation (the shares sum to 1,
    so the mean across targets is exactly 1/N). K keys: counts are Binomial(K, S_j), which
    adds (N-1)/K and scales the ring term by (1 - 1/K). N = 8, V = 50, K = 5000:
    E[CV^2] = 7/401 (1 - 1/5000) + 7/5000 = 0.01885. A CV^2 from 8 targets varies by
    about sqrt(2/7) = 53%; averaged over 300 rings 3.1%: tolerance 12%."""
    n, v, keys, trials = 8, 50, 5000, 300
    cv2 = []
    for t in range(trials):
        shard = ring(1000 + t, n, v)
        counts = [0] * n
        for k in range(keys):
            counts[shard(k)] += 1
        cv2.append(imbalance(counts)["load_cv"] ** 2)
    expected = (n - 1) / (n * v + 1) * (1 - 1 / keys) + (n - 1) / keys
    assert statistics.fmean(cv2) == pytest.approx(expected, rel=0.12)
    # Beside it, ~1/sqrt(V), the large-N rule of thumb, is 0.141 vs sqrt(0.01885) = 0.137.


def test_link_weight_scales_a_targets_share():
    """Weight 3 among three of weight 1: 3V of 6V ring points, share ~ Beta(3V, 3V), mean
    1/2, sd sqrt(0.25/(6V+1)) = 0.020 for V = 100; 100 rings: 0.002, tolerance 0.01."""
    shares = []
    for t in range(100):
        shard = ring(5000 + t, 4, 100, weights=[3.0, 1.0, 1.0, 1.0])
        shares.append(sum(shard(k) == 0 for k in range(2000)) / 2000)
    assert statistics.fmean(shares) == pytest.approx(0.5, abs=0.01)


# --- the router in a run -------------------------------------------------------------------

def sharded(strategy: str, n: int, client: dict, router: dict | None = None,
            events: list | None = None, duration_s: float = 20.0) -> dict:
    comps = [component("c", "client", **client),
             component("router", "shard_router", strategy=strategy, **(router or {}))]
    links = [link("c", "router")]
    for j in range(n):
        comps.append(component(f"kv{j}", "kv_store", replica_ms=1.0))
        links.append(link("router", f"kv{j}"))
    return document(comps, links, duration_s, events=events)


FAIL_RECOVER = [{"at_s": 12, "action": "fail", "target": "kv2"},
                {"at_s": 22, "action": "recover", "target": "kv2"}]


def test_failure_and_recovery_move_only_the_failed_shards_keys():
    """Consistent hash, 5 targets, 1000 keys at 2000 rps: by 12 s every key was seen, and
    seen again during the 10 s outage (P(a key unseen) = e^-24 and e^-20). The failure
    moves exactly kv2's keys to its ring neighbours and the recovery moves them back, so
    keys_moved = 2 x kv2's keys, and each change moves kv2's ring share (about 1/5)."""
    doc = sharded("consistent_hash", 5, {"rate_rps": 2000, "keys": 1000}, events=FAIL_RECOVER,
                  duration_s=24)
    r = run(doc, seed=3)["components"]["router"]
    assert r["keys_tracked"] == 1000 and r["remaps"] == 2
    owned = r["keys_per_target"]["kv2"]
    assert r["keys_moved"] == 2 * owned
    assert r["last_moved_ratio"] == pytest.approx(owned / 1000, abs=1e-4)
    # Keys counted under two targets are exactly those that went away and came back.
    assert sum(r["keys_per_target"].values()) == 1000 + owned


def test_hash_mod_failure_moves_most_keys():
    """hash_mod, 5 -> 4 targets and back: N/(N+1) = 0.8 of the 2000 keys move each time
    (binomial sd 0.009; tolerance 0.036), and the recovery restores the first mapping, so
    both changes move the same keys (every key was seen before the failure)."""
    doc = sharded("hash_mod", 5, {"rate_rps": 2000, "keys": 2000}, events=FAIL_RECOVER,
                  duration_s=24)
    r = run(doc, seed=3)["components"]["router"]
    assert r["last_moved_ratio"] == pytest.approx(0.8, abs=0.036)
    assert r["keys_moved"] == 2 * round(r["last_moved_ratio"] * 2000)


def test_changing_the_strategy_reshards():
    """A `set` from hash_mod to consistent_hash keeps a key's target only by chance: with
    independent uniform mappings over N targets, 1/N stay. Ring shares vary (sd 0.02 at
    V = 100), so the stay share is 1/N +- ~0.01; tolerance 0.04."""
    events = [{"at_s": 5, "action": "set", "target": "router",
               "params": {"strategy": "consistent_hash"}}]
    doc = sharded("hash_mod", 4, {"rate_rps": 2000, "keys": 2000}, events=events,
                  duration_s=6)
    r = run(doc, seed=1)["components"]["router"]
    assert r["remaps"] == 1
    assert r["last_moved_ratio"] == pytest.approx(3 / 4, abs=0.04)


def test_range_sharding_makes_a_hot_shard_under_zipf():
    """Range over a Zipf(s = 1) key space of K = 1000 ranks: shard 0 holds ranks 1..250,
    which draw H(250)/H(1000) of the requests (H = harmonic numbers) = 0.815. With M
    requests the share has binomial sd sqrt(p(1-p)/M) = 0.0027 at M = 20000: tolerance
    0.012. The prediction is the same sum, exact."""
    harmonic = [0.0]
    for i in range(1, 1001):
        harmonic.append(harmonic[-1] + 1 / i)
    hot = harmonic[250] / harmonic[1000]
    doc = sharded("range", 4, {"rate_rps": 2000, "keys": 1000, "key_skew": 1.0},
                  router={"key_space": 1000}, duration_s=10)
    report = run(doc, seed=5)
    r = report["components"]["router"]
    total = sum(r["per_target"].values())
    assert r["per_target"]["kv0"] / total == pytest.approx(hot, abs=0.012)
    assert r["max_over_mean"] == pytest.approx(4 * hot, abs=0.05)
    predicted = report["predictions"]["components"]["router"]
    assert predicted["per_target_rps"]["kv0"] == pytest.approx(2000 * hot, abs=1e-4)
    assert predicted["max_over_mean"] == pytest.approx(4 * hot, abs=1e-4)  # 4 decimals
    # hash_mod spreads the same hot keys: only the hottest key's own weight (1/H(1000) =
    # 13% of requests) unbalances it, so max/mean stays well below the range's 3.26.
    spread = run(sharded("hash_mod", 4, {"rate_rps": 2000, "keys": 1000, "key_skew": 1.0},
                         duration_s=10), seed=5)["components"]["router"]
    assert spread["max_over_mean"] < 1.6


def test_predicted_shares_match_simulated_and_keys_go_where_the_map_says():
    """Per target, the predicted rate is the client rate times the popularity of the keys
    mapped there; the simulated count is binomial around it (sd < 0.35% of 40000 over 4
    targets): tolerance 2% relative."""
    doc = sharded("consistent_hash", 4, {"rate_rps": 4000, "keys": 500, "key_skew": 0.8},
                  duration_s=10)
    sim = Simulation(doc, seed=2)
    report = sim.run()
    router = sim.components["router"]
    shard = ShardMap("consistent_hash", [(f"kv{j}", 1.0) for j in range(4)], 1000, 100)
    assert all(router.out[j].target.id == f"kv{shard(k)}"
               for k, j in router.owner.items())
    counts = report["components"]["router"]["per_target"]
    predicted = report["predictions"]["components"]["router"]["per_target_rps"]
    measured = sum(counts.values()) / 4000
    for tid, rate in predicted.items():
        assert counts[tid] == pytest.approx(rate * measured, rel=0.02), tid


def test_all_targets_down_answers_down_and_conservation_holds():
    events = [{"at_s": 1, "action": "fail", "target": f"kv{j}"} for j in range(2)] + \
        [{"at_s": 2, "action": "recover", "target": "kv0"}]
    sim = Simulation(sharded("range", 2, {"rate_rps": 500}, events=events, duration_s=3))
    sim.advance(1.5)
    assert sim.frame()["components"]["router"]["targets_up"] == 0
    sim.advance(3)
    c = sim.components["router"]
    assert c.total_in == c.total_ok + c.total_rejected + c.total_failed + c.in_flight()
    client = sim.report()["components"]["c"]
    assert client["failures"]["down"] > 100  # about 0.5 s at 500 rps


# --- validation ----------------------------------------------------------------------------

def errors_of(doc: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


def test_router_links_carry_both_operations_and_routers_need_targets():
    doc = sharded("hash_mod", 2, {"rate_rps": 10})
    doc["links"][2]["route"] = "read"
    assert errors_of(doc) == ["links[2].route: a shard_router's links carry reads and "
                              "writes ('any'): a key has one shard for both"]
    doc = document([component("c", "client", rate_rps=10),
                    component("router", "shard_router")], [link("c", "router")], 1)
    assert "components[1]: shard_router 'router' needs 1 to 100 targets (it has 0)" in \
        errors_of(doc)


def test_router_parameters_are_checked():
    doc = sharded("modulo", 2, {"rate_rps": 10})
    assert errors_of(doc)[0].startswith("components[1].params.strategy: must be one of")
    doc = sharded("consistent_hash", 2, {"rate_rps": 10}, router={"vnodes": 0})
    assert errors_of(doc) == ["components[1].params.vnodes: must be >= 1"]


def test_ring_points_are_capped():
    shard = ShardMap("consistent_hash", [("a", 1e6), ("b", 1e-6)], 1000, 1000)
    assert len(shard.points) == 10_000 + 1


def test_imbalance_figures():
    """Counts 3 and 1: mean 2, max/mean 1.5, population sd 1, so CV 0.5."""
    assert imbalance([3, 1]) == {"max_over_mean": 1.5, "load_cv": 0.5}
    assert imbalance([0, 0]) == {"max_over_mean": 0.0, "load_cv": 0.0}

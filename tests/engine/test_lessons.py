"""Every lesson of docs/lessons/ keeps the promise its description makes.

A lesson is a v1 scenario whose `description` tells the learner what to look at, what to try
and what they should see. Each one here is validated, run headless at its own (fixed) seed
and its promised effect asserted from the report, with the expected figure derived from
theory where there is one (utilisation law, Erlang C, M/M/c/K, Che, availability products,
the key mapping of a shard router). Lessons run in phases (the engine is advanced to each
scheduled event and a report taken there), so an effect is measured in the window where the
description says it happens: counters are differenced between reports.

Tolerances are stated beside each check; where a figure is noisy, the spread was measured
over other seeds when the check was written, and the tolerance is at least 3 of its
standard deviations (so a check does not rely on the particular seed).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from simulations import Simulation, validate
from simulations import theory as qt
from simulations.components.rates import rate_schedule
from simulations.components.sharding import ShardMap
from simulations.distributions import key_bucket
from simulations.predict import predict
from simulations.registry import SIZES

LESSONS_DIR = Path(__file__).resolve().parents[2] / "docs" / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("*.json"))
NAME = re.compile(r"^(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)\.json$")
PARTS = ("**Look at**", "**Try**", "**You should see**")
CARD_W, CARD_H = 160, 70  # a component's card on the canvas, in px


def slug(path: Path) -> str:
    return NAME.match(path.name).group(2)


def load(name: str) -> dict:
    (path,) = [p for p in LESSONS if slug(p) == name]
    return json.loads(path.read_text(encoding="utf-8"))


# --- running a lesson in phases -------------------------------------------------------------

def run_phases(doc: dict, *times: float) -> list[dict]:
    """Reports at each of `times` and at the end of one headless run at the lesson's seed."""
    sim = Simulation(doc)
    reports = []
    for t in (*times, doc["duration_s"]):
        sim.advance(t)
        reports.append(sim.report())
    return reports


def comp(report: dict, cid: str) -> dict:
    return report["components"][cid]


def delta(a: dict | None, b: dict, cid: str, *path: str) -> float:
    """How much a component's counter grew from report a (None: the start) to report b."""
    def get(report):
        value = comp(report, cid)
        for key in path:
            value = value[key]
        return value
    return get(b) - (get(a) if a is not None else 0)


def ratio(a: dict | None, b: dict, cid: str, part: str, whole: tuple[str, ...]) -> float:
    """Share of `part` in the sum of `whole` counters, over the window from a to b."""
    total = sum(delta(a, b, cid, key) for key in whole)
    return delta(a, b, cid, part) / total


def mean_latency(a: dict | None, b: dict, cid: str) -> float:
    """A client's mean latency over the requests that succeeded between a and b (means
    over disjoint sets combine by their counts)."""
    def n_m(report):
        if report is None:
            return 0, 0.0
        c = comp(report, cid)
        return c["succeeded"], c["latency_ms"]["mean"]
    (n1, m1), (n2, m2) = n_m(a), n_m(b)
    return (n2 * m2 - n1 * m1) / (n2 - n1)


def utilisation(a: dict, b: dict, cid: str, workers: int) -> float:
    """A pool's utilisation between reports a and b, from busy worker-seconds (a report's
    utilisation is busy over available worker-seconds since warm-up; workers unchanged)."""
    warm = a["warmup_s"]
    busy = comp(b, cid)["utilisation"] * (b["duration_s"] - warm) \
        - comp(a, cid)["utilisation"] * (a["duration_s"] - warm)
    return busy / (b["duration_s"] - a["duration_s"])


def mmc_response_ms(rate: float, service_ms: float, workers: int) -> float:
    return qt.mmc(rate, 1000.0 / service_ms, workers).mean_response * 1000.0


# --- the promise of each lesson ---------------------------------------------------------------

PROMISES: dict[str, Callable[[dict], None]] = {}


def promise(name: str):
    def register(check):
        PROMISES[name] = check
        return check
    return register


@promise("one-server-growing-load")
def _(doc):
    """Latency follows Erlang C as the load grows (60, 120, 180 rps on 4 workers of 20 ms),
    recovers when the server doubles to 8 workers, and climbs again at 380 rps."""
    reports = run_phases(doc, 60, 120, 180, 240)
    phases = [mean_latency(a, b, "users") for a, b in zip([None, *reports], reports,
                                                          strict=False)]
    link_ms = 20.0  # 10 ms each way
    expected = [mmc_response_ms(r, 20, c) + link_ms
                for r, c in ((60, 4), (120, 4), (180, 4), (180, 8), (380, 8))]
    # Light phases (rho 0.3, 0.6, 0.45; 3,600 to 10,800 requests): the mean response is
    # within 1% of Erlang C over seeds; 5% is far outside chance.
    for i in (0, 1, 3):
        assert phases[i] == pytest.approx(expected[i], rel=0.05), (i, phases, expected)
    # rho = 0.9 for one minute has not settled (relaxation time ~ minutes): 4 seeds gave
    # 71 to 80 ms against 79 predicted. The hockey stick is what the lesson shows.
    assert phases[2] == pytest.approx(expected[2], rel=0.25)
    assert phases[2] > 1.4 * phases[1]  # 1.8 in theory
    assert phases[3] < 0.6 * phases[2], "the bigger machine brings latency back"
    assert phases[4] > 1.5 * phases[3], "and the load catches up with it (rho 0.95)"
    # Utilisation law over the run: busy = sum(rate x 20 ms x 60 s) over available
    # worker-seconds (4 workers for 180 s, 8 for 120 s).
    busy = (60 + 120 + 180 + 180 + 380) * 60 * 0.020
    assert comp(reports[-1], "server")["utilisation"] == pytest.approx(
        busy / (4 * 180 + 8 * 120), rel=0.03)


@promise("clones-behind-a-load-balancer")
def _(doc):
    """Round robin splits evenly; a dead clone costs rate/3 x health_check_s requests,
    then its load moves to the other two; when it is back, the split is even again."""
    before, early, during, back, end = run_phases(doc, 85, 95, 145, 155)
    per_target = comp(before, "lb")["per_target"]
    assert max(per_target.values()) - min(per_target.values()) <= 1  # round robin
    assert comp(before, "users")["failed"] == 0
    # Requests sent to clone 3 before the 2 s health check noticed: Poisson, mean
    # 100 rps x 2 s = 200 (sd 14), plus the few in flight at the failure.
    lost = delta(before, back, "users", "failed")
    assert 140 <= lost <= 280, lost
    # Clones 1 and 2 then take 150 rps each, each request holding a worker for its 15 ms
    # plus the database call (3 ms reads, 6 ms writes at 80/20: 3.6 ms, no queue at
    # utilisation 0.13): busy = 150 x 18.6 ms / 4 workers.
    for clone in ("app1", "app2"):
        assert utilisation(early, during, clone, 4) == pytest.approx(
            150 * 0.0186 / 4, rel=0.08)
    assert delta(early, during, "app3", "arrivals") == 0
    assert delta(back, end, "users", "failed") == 0
    share3 = delta(back, end, "app3", "arrivals") / delta(back, end, "lb", "arrivals")
    assert share3 == pytest.approx(1 / 3, abs=0.01)


@promise("load-balancing-algorithms")
def _(doc):
    """Static algorithms give the old (half-speed) server a third of 270 rps, running it at
    90%; least connections and power of two choices send it less and cut the tail."""
    (end,) = run_phases(doc)
    share = {}
    for algo in ("rr", "rnd", "lc", "p2c"):
        lb = comp(end, f"lb_{algo}")
        share[algo] = lb["per_target"][f"{algo}_old"] / lb["arrivals"]
    # Round robin: exactly a third. Random: binomial over ~30,000 requests, sd 0.003.
    assert share["rr"] == pytest.approx(1 / 3, abs=0.001)
    assert share["rnd"] == pytest.approx(1 / 3, abs=0.015)
    # Utilisation law: 90 rps x 40 ms / 4 workers = 0.9 (the utilisation estimate's sd
    # at rho 0.9 over 110 s is about 1.5%).
    for algo in ("rr", "rnd"):
        assert comp(end, f"{algo}_old")["utilisation"] == pytest.approx(0.9, rel=0.06)
    # Dynamic ones send the old server about a fifth (0.22 to 0.23 over seeds).
    for algo in ("lc", "p2c"):
        assert share[algo] < 0.27, share
        assert comp(end, f"{algo}_old")["utilisation"] < 0.75
    p99 = {a: comp(end, f"users_{a}")["latency_ms"]["p99"] for a in share}
    mean = {a: comp(end, f"users_{a}")["latency_ms"]["mean"] for a in share}
    for dynamic in ("lc", "p2c"):
        for static in ("rr", "rnd"):
            assert p99[dynamic] < 0.7 * p99[static], p99
            assert mean[dynamic] < 0.85 * mean[static], mean
    # Random makes each server an M/M/4 queue (Poisson split): the mean is a third of the
    # old server's response plus two thirds of a new one's, plus 20 ms of link. At
    # rho 0.9 the run is short for the old server's queue to settle: seeds gave -10% to
    # +20%, hence 30%.
    expected = (mmc_response_ms(90, 40, 4) + 2 * mmc_response_ms(90, 20, 4)) / 3 + 20
    assert mean["rnd"] == pytest.approx(expected, rel=0.3)


@promise("sticky-sessions-vs-shared-store")
def _(doc):
    """When a sticky server dies its sessions die with it and ip_hash reshuffles users:
    those who land on another server sign in again; with a shared store nobody does."""
    before, during, end = run_phases(doc, 88, 150)
    for side in ("sticky", "shared"):
        # Warm: by 45 s nearly every user has a session (3,000 users, 1/15 rps each).
        assert delta(None, before, f"{side}_signin", "arrivals") < 0.1 * 3000
    # Users whose server changes when server 2 (index 1) leaves: ip_hash maps a key to
    # key_bucket(key, number of healthy targets), so it is exact. Nearly every user comes
    # back within the minute (all but e^-3.9 = 2% of them), and signs in again.
    three, two = ["s1", "s2", "s3"], ["s1", "s3"]
    moved = sum(three[key_bucket(k, 3)] != two[key_bucket(k, 2)] for k in range(3000))
    assert moved == pytest.approx(2 / 3 * 3000, rel=0.05)  # hash mod N moves N-1 in N
    sign_ins = delta(before, during, "sticky_signin", "arrivals")
    assert sign_ins == pytest.approx(0.98 * moved, rel=0.05)
    # The shared store's only sign-ins are first visits: 3,000 x (e^(-88/15) - e^(-150/15))
    # = 8.5 users (Poisson: 3 sd is 9).
    assert delta(before, during, "shared_signin", "arrivals") <= 25
    # Both lose the requests sent to server 2 for the 2 s health check: Poisson of mean
    # 200 / 3 rps x 2 s = 133 (sd 12), plus the few in flight.
    for side in ("sticky", "shared"):
        assert 90 <= delta(before, during, f"users_{side}", "failed") <= 190
    # Coming back reshuffles the sticky users again; the shared store does not notice.
    assert delta(during, end, "sticky_signin", "arrivals") > 0.3 * 3000
    assert delta(during, end, "shared_signin", "arrivals") <= 25


@promise("cache-write-policies")
def _(doc):
    """Only write-behind loses writes when the caches die; cache-aside's invalidations
    lower its hit ratio; write-behind coalesces writes before they reach the database."""
    before, end = run_phases(doc, 99.9)
    assert comp(end, "cache_aside")["lost_writes"] == 0
    assert comp(end, "cache_through")["lost_writes"] == 0
    # The dirty keys at the failure are those written since the last flush: at most 2 s
    # of writes (60 writes/s: Poisson 120, sd 11), and some, as flushes are 2 s apart.
    lost = comp(end, "cache_behind")["lost_writes"]
    assert 0 < lost <= 160, lost
    # Cache-aside drops the entry on every write, so the next read of that key misses.
    hit = {s: ratio(None, before, f"cache_{s}", "hits", ("hits", "misses"))
           for s in ("aside", "through", "behind")}
    assert hit["aside"] < hit["through"] - 0.05, hit
    assert hit["behind"] == pytest.approx(hit["through"], abs=0.03)
    # Write-through writes every write to the database; write-behind once per key per
    # flush (hot keys are rewritten within 2 s).
    through = delta(None, before, "db_through", "writes")
    assert delta(None, before, "db_behind", "writes") < 0.95 * through


@promise("cdn-pull-vs-push")
def _(doc):
    """A pull edge starts cold, warms to Che's hit ratio and is emptied by a failure; a
    push edge hits with the pushed keys' popularity from the first second to the last."""
    cold, warm, failed, refilled, end = run_phases(doc, 10, 60, 61, 71)
    pred = end["predictions"]["components"]
    che, pushed = pred["cdn_pull"]["hit_ratio"], pred["cdn_push"]["hit_ratio"]
    # Exact for push: the popularity of Zipf ranks 1 to 5,000 of 100,000 at s = 0.9.
    assert pushed == pytest.approx(sum(qt.zipf_popularity(100_000, 0.9)[:5000]), rel=1e-3)

    def hits(a, b, cdn):
        return ratio(a, b, cdn, "hits", ("hits", "misses"))

    # Binomial over 5,000 (10 s) reads: sd 0.007.
    assert hits(None, cold, "cdn_push") == pytest.approx(pushed, abs=0.03)
    assert hits(refilled, end, "cdn_push") == pytest.approx(pushed, abs=0.03)
    # Warm after 10 s (0.51 from 10 s to 30 s, and from 30 s to 60 s); Che's approximation
    # is within a percent or two of LRU at this size.
    steady = hits(cold, warm, "cdn_pull")
    assert steady == pytest.approx(che, abs=0.04)
    # The edge fills with the popular keys within seconds: 0.21 over the first 2 s, 0.37
    # over the first 10.
    assert hits(None, cold, "cdn_pull") < steady - 0.1, "a pull edge starts cold"
    assert hits(failed, refilled, "cdn_pull") < steady - 0.1, "the failure emptied it"
    burst = delta(failed, refilled, "origin_pull", "arrivals")
    assert burst > 1.2 * delta(failed, refilled, "origin_push", "arrivals")


@promise("read-replicas-and-lag")
def _(doc):
    """The async replica serves stale reads at the predicted ratio, far more while its link
    is cut; the sync replica never does, and its writes pay the 200 ms lag."""
    steady, cut, end = run_phases(doc, 60, 80)
    stale = end["predictions"]["components"]["replica_async"]["stale_read_ratio"]
    measured = ratio(None, steady, "replica_async", "stale_reads", ("reads",))
    # ~10,000 reads, but stale reads come in runs per hot key: 5 seeds gave 0.19 to 0.24
    # against 0.216 predicted.
    assert measured == pytest.approx(stale, rel=0.2)
    assert ratio(steady, cut, "replica_async", "stale_reads", ("reads",)) > 2 * measured
    assert comp(end, "replica_sync")["stale_reads"] == 0
    # A sync write is answered once the replica applied it: 5 ms of work + 200 ms lag.
    assert comp(end, "primary_sync")["latency_ms"]["mean"] == pytest.approx(205, rel=0.03)
    assert comp(end, "primary_async")["latency_ms"]["mean"] < 10


@promise("multi-primary-conflicts")
def _(doc):
    """About one write in eight conflicts with the link up (1 - e^(-w L) per key); while
    the regions are cut off the share jumps."""
    steady, cut, end = run_phases(doc, 80, 110)
    for db in ("db-eu", "db-us"):
        predicted = end["predictions"]["components"][db]["conflict_ratio"]
        # ~4,000 writes per side, correlated per hot key: seeds gave +-15%.
        share = ratio(None, steady, db, "conflicts", ("writes",))
        assert share == pytest.approx(predicted, rel=0.25), (db, share, predicted)
        assert ratio(steady, cut, db, "conflicts", ("writes",)) > 2 * share
        assert comp(end, db)["stale_reads"] > 0


@promise("federation")
def _(doc):
    """The shared database runs at 90% and queues; the federated ones split the same load
    5:3:2 and barely queue; users of the federated copy wait less."""
    (end,) = run_phases(doc)
    per_request_ms = 0.8 * 7.5 + 0.2 * 15  # reads and writes at 80/20
    assert comp(end, "db_shared")["utilisation"] == pytest.approx(
        400 * per_request_ms / 1000 / 4, rel=0.05)
    for db, weight in (("db_accounts", 0.5), ("db_catalog", 0.3), ("db_orders", 0.2)):
        assert comp(end, db)["utilisation"] == pytest.approx(
            400 * weight * per_request_ms / 1000 / 4, rel=0.08)
        assert comp(end, db)["mean_wait_ms"] < comp(end, "db_shared")["mean_wait_ms"] / 10
    fed, mono = comp(end, "users_fed")["latency_ms"], comp(end, "users_mono")["latency_ms"]
    assert fed["mean"] < 0.8 * mono["mean"] and fed["p99"] < 0.8 * mono["p99"]


@promise("sharding-hot-key")
def _(doc):
    """One shard holds the key that draws a quarter of the requests and runs near 90%
    while the others idle; with uniform popularity the four are even."""
    hot_phase, end = run_phases(doc, 60)
    assert qt.zipf_popularity(10_000, 1.3)[0] == pytest.approx(0.27, abs=0.01)
    shards = [f"shard{i}" for i in range(4)]
    predicted = end["predictions"]["components"]["router"]["per_target_rps"]
    counts = {s: delta(None, hot_phase, "router", "per_target", s) for s in shards}
    total = sum(counts.values())
    # Per-shard shares against the exact key mapping (multinomial over ~33,000 requests,
    # but a hot key's share is itself a binomial of Zipf draws: sd under 0.005).
    for s in shards:
        assert counts[s] / total == pytest.approx(predicted[s] / 600, abs=0.02), counts
    hot = max(shards, key=counts.get)
    assert counts[hot] / (total / 4) > 1.6  # predicted max_over_mean 1.81
    # Utilisation law on the hot shard: its rate x (0.9 x 6 + 0.1 x 12 ms) / 2 workers.
    busy = {s: utilisation(hot_phase, end, s, 2) for s in shards}  # uniform phase
    first = {s: comp(hot_phase, s)["utilisation"] for s in shards}  # hot phase
    assert first[hot] == pytest.approx(predicted[hot] * 0.0066 / 2, rel=0.06)
    assert all(first[s] < 0.6 * first[hot] for s in shards if s != hot), first
    # Uniform popularity: a shard's load is its share of the keys (ring arcs of 100
    # vnodes differ by about 10%).
    after = [delta(hot_phase, end, "router", "per_target", s) for s in shards]
    assert max(after) / (sum(after) / 4) < 1.3
    assert max(busy.values()) < 1.3 * min(busy.values())


@promise("consistent-hashing-node-joins")
def _(doc):
    """A node joining a ring of 3 moves the keys of its own arcs (about 1/4); hash mod N
    moves about 3/4, and the database takes a miss for each moved key."""
    before, after, end = run_phases(doc, 59.9, 75)
    keys = 5000
    for side, strategy, theory, tolerance in (("ring", "consistent_hash", 1 / 4, 0.08),
                                              ("mod", "hash_mod", 3 / 4, 0.02)):
        router = comp(end, f"router_{side}")
        assert router["keys_tracked"] == keys and router["remaps"] == 1
        # Exact: the owners of keys 0..4,999 with three nodes, then four.
        ids = [f"{side}_node{j}" for j in range(1, 5)]
        old = ShardMap(strategy, [(i, 1.0) for i in ids[:3]], 1000, 100)
        new = ShardMap(strategy, [(i, 1.0) for i in ids], 1000, 100)
        moved = sum(ids[old(k)] != ids[new(k)] for k in range(keys)) / keys
        # The router counts the keys seen by then: all but about 5,000 x e^-6 = 12 of them.
        assert router["last_moved_ratio"] == pytest.approx(moved, abs=0.003)
        # Theory: 1/(N+1) for a ring (its share of 4 x 100 arcs: sd 0.02), N/(N+1) for
        # hash mod N (binomial over 5,000 keys: sd 0.006).
        assert moved == pytest.approx(theory, abs=tolerance)
    # Warm before the join (each key read ~6 times by 60 s); after it, every moved key
    # read in the next 15 s (1 - e^-1.5 of them) misses once at its new node.
    for side in ("ring", "mod"):
        assert delta(None, before, f"db_{side}", "arrivals") < 1.05 * keys
    ring_burst = delta(before, after, "db_ring", "arrivals")
    mod_burst = delta(before, after, "db_mod", "arrivals")
    assert mod_burst > 2.3 * ring_burst, (ring_burst, mod_burst)


@promise("queue-back-pressure")
def _(doc):
    """During the sale the bounded queue turns away the excess (503s) and keeps waits
    under 1.5 s; the unbounded one takes everything and its backlog reaches ~6,000."""
    calm, sale, end = run_phases(doc, 30, 90)
    for side in ("bounded", "unbounded"):
        assert comp(calm, f"queue_{side}")["rejected"] == 0
    # M/M/4/304 at 300 rps against 200 rps of service: blocking ~ 1 - 200/300 once the
    # 300 places have filled (in about 3 s).
    blocking = qt.mmck(300, 50, 4, 304).p_block
    assert blocking == pytest.approx(1 / 3, abs=0.01)
    offered = delta(calm, sale, "queue_bounded", "arrivals")
    rejected = delta(calm, sale, "queue_bounded", "rejected")
    assert rejected == pytest.approx(blocking * offered - 300, rel=0.1)
    assert comp(end, "users_bounded")["failures"]["rejected"] == comp(end, "queue_bounded")[
        "rejected"], "a full queue's refusal reaches the user as a 503"
    assert delta(sale, end, "queue_bounded", "rejected") < 0.01 * rejected
    # An accepted message waits for at most the 300 ahead of it: 1.5 s at 200/s.
    assert comp(end, "queue_bounded")["mean_wait_ms"] < 1500
    # The unbounded queue grows by (300 - 200) x 60 s (Poisson: sd 3%), drains at 50/s.
    q = comp(sale, "queue_unbounded")
    backlog = q["arrivals"] - q["delivered"]
    assert backlog == pytest.approx(6000, rel=0.12)
    assert comp(end, "queue_unbounded")["rejected"] == 0
    assert comp(end, "queue_unbounded")["mean_wait_ms"] > 10 * comp(end, "queue_bounded")[
        "mean_wait_ms"]


@promise("pub-sub-fan-out")
def _(doc):
    """Every group gets every event; billing and email keep up, analytics' lag grows by
    100 - 80 = 20 events/s; a dead billing worker's partitions wait and then drain."""
    _, outage, end = run_phases(doc, 60, 80)
    groups = comp(end, "events")["groups"]
    published = comp(end, "events")["arrivals"]
    for group, stats in groups.items():  # nothing lost: delivered or still waiting
        # (up to the message or two that straddle the warm-up, counted on one side only)
        assert abs(stats["delivered"] + stats["lag"] - published) <= 2, group
        assert stats["lost"] == 0
    for group in ("billing", "email"):  # at most a few in service at the end
        assert groups[group]["lag"] <= 10
    # billing-1 owns partitions 0, 2 and 4 (j mod 2): half the events, 50/s for 20 s.
    assert comp(outage, "events")["groups"]["billing"]["lag"] == pytest.approx(1000, rel=0.2)
    # Analytics serves 80/s at best: lag = arrivals - departures over 150 s, a random
    # walk with sd sqrt((100 + 80) x 150) = 164 around 3,000.
    assert groups["analytics"]["lag"] == pytest.approx((100 - 80) * 150, rel=0.2)
    assert comp(end, "analytics")["utilisation"] > 0.98
    assert groups["email"]["mean_lag"] < 5


@promise("quorum-partition-cp-vs-ap")
def _(doc):
    """During the partition the CP store fails the cut-off third and stays consistent;
    the AP store answers everyone, with stale reads, sloppy writes and conflicts."""
    before, during, end = run_phases(doc, 40, 80)
    assert comp(before, "users_cp")["failed"] == comp(before, "users_ap")["failed"] == 0
    assert comp(before, "ap")["stale_reads"] == 0  # R + W > N
    # A request lands on the cut-off side with probability 1/3 (its replicas' share) and
    # then has 1 replica for a quorum of 2: 200 rps x 40 s / 3 (binomial: sd 1.6%).
    refused = delta(before, during, "users_cp", "failed")
    assert refused == pytest.approx(200 * 40 / 3, rel=0.08)
    assert delta(during, end, "users_cp", "failed") <= 5  # the few refused as it heals
    assert comp(end, "cp")["stale_reads"] == 0
    assert comp(end, "users_ap")["failed"] == 0
    assert delta(before, during, "ap", "stale_reads") > 0
    assert comp(end, "ap")["sloppy_writes"] > 0
    assert 0 < comp(end, "ap")["conflicting_keys"] <= 20


@promise("availability-series-vs-parallel")
def _(doc):
    """Three parts of availability 0.9: in series 0.9^3 = 0.729, in parallel
    1 - 0.1^3 = 0.999."""
    (end,) = run_phases(doc)
    a = qt.availability(9, 1)
    series, parallel = qt.series(a, a, a), qt.parallel(a, a, a)
    assert end["predictions"]["availability"]["clients"] == pytest.approx(
        {"users_series": series, "users_parallel": parallel}, abs=1e-3)

    def success(cid):
        c = comp(end, cid)
        return c["succeeded"] / (c["succeeded"] + c["failed"])

    # Over 30 seeds: series 0.733 (sd 0.031), parallel 0.998 (sd 0.0019; requests in
    # flight on a copy when it fails are lost too). Tolerances 3 sd and more.
    assert success("users_series") == pytest.approx(series, abs=0.1)
    assert success("users_parallel") > 0.99
    assert success("users_parallel") - success("users_series") > 0.15


@promise("active-passive-failover")
def _(doc):
    """Writes fail for heartbeat + promotion (10 s), reads go on; the writes still in
    flight to the standby are lost (write rate x lag); the roles swap."""
    before, end = run_phases(doc, 50)
    assert comp(before, "users")["failed"] == 0
    db = comp(end, "db")
    assert db["failovers"] == 1 and db["primary"] == "standby"
    assert db["role"] == "replica" and comp(end, "standby")["role"] == "primary"
    assert db["write_downtime_s"] == pytest.approx(2 + 8, abs=0.01)
    # Every write of those 10 s fails: 300 rps x 0.3 x 10 s = 900 (Poisson: sd 30).
    assert delta(before, end, "users", "failed") == pytest.approx(900, rel=0.12)
    assert comp(end, "standby")["failed"] == 0  # reads are untouched
    # Lost: writes committed in the last 0.2 s before the failure, Poisson of mean
    # 90 x 0.2 = 18 (Little's law, as predicted): 3 sd is 13.
    predicted = end["predictions"]["components"]["db"]["lost_writes_per_failover"]
    assert predicted == pytest.approx(18)
    assert abs(db["lost_writes"] - predicted) <= 13


@promise("retry-storm-and-circuit-breaker")
def _(doc):
    """Under the slowdown the retrying users send up to 4 attempts per request and most
    fail, and the storm outlives the slowdown; the breaker keeps the load near one attempt
    per request and most requests succeed."""
    calm, slow, end = run_phases(doc, 40, 90)

    def window(a, b, side):
        requests = delta(a, b, f"users_{side}", "requests")
        return (delta(a, b, f"users_{side}", "succeeded") / requests,
                delta(a, b, f"inventory_{side}", "arrivals") / requests)

    for side in ("storm", "breaker"):
        ok, attempts = window(None, calm, side)
        assert ok > 0.99 and attempts < 1.05
    storm_ok, storm_attempts = window(calm, slow, "storm")
    breaker_ok, breaker_attempts = window(calm, slow, "breaker")
    # The storm takes a few seconds to build up (seeds: 0.31 to 0.51 succeed, 2.5 to 3.1
    # attempts per request over the window).
    assert storm_ok < 0.6 and storm_attempts > 2.2
    assert breaker_ok > 0.8 and breaker_attempts < 1.2
    assert breaker_ok > storm_ok + 0.3
    assert comp(slow, "users_breaker")["breaker_opens"] >= 1
    # After the slowdown: every attempt fails (p -> 1), so a request makes r + 1 = 4
    # attempts; the breaker's side is back to normal.
    storm_ok, storm_attempts = window(slow, end, "storm")
    breaker_ok, breaker_attempts = window(slow, end, "breaker")
    assert storm_ok < 0.1 and storm_attempts > 3.5
    assert breaker_ok > 0.95 and breaker_attempts < 1.1


def waiting(report: dict, cid: str) -> int:
    """Requests waiting in a group's instances' queues when the report was taken."""
    return sum(inst["queue"] for inst in comp(report, cid)["instances"]["per_instance"])


@promise("flash-crowd-and-autoscaling")
def _(doc):
    """A spike from 250 to 900 rps against 600 rps of instances: the fixed fleet refuses the
    excess throughout; the autoscaled one for its reaction time only; the queued one holds
    it as the fluid backlog and drains it."""
    before, reacted, settled, drained, end = run_phases(doc, 60, 92, 95, 140)
    step = end["predictions"]["components"]["web_auto"]["instances"]["step"]
    capacity = 3 * 200.0  # 3 medium instances of 4 workers at 20 ms
    reaction = step["reaction_s"]
    assert reaction == pytest.approx(10 + 0 + 20 + 2)  # period + cooldown + boot + health check
    assert step["backlog"] == pytest.approx(qt.step_backlog(900, capacity, reaction))
    assert step["drain_s"] == pytest.approx(qt.drain_s(step["backlog"], 900, 6 * 200.0))
    for side in ("fixed", "auto", "queued"):
        assert delta(None, before, f"users_{side}", "failed") == 0
    # Fixed: (900 - 600) x 90 s refused, less the 3 x 50 queued; the Poisson sd of 81,000
    # arrivals is 285 (0.3%): 4% covers it and the queues' filling.
    fixed_lost = delta(before, end, "users_fixed", "failed")
    assert fixed_lost == pytest.approx((900 - capacity) * 90 - 150, rel=0.04)
    assert comp(end, "web_fixed")["instances"]["peak"] == 3
    # Autoscaled: the step's fluid backlog is refused instead of queued (within 8%, as
    # test_fleet's step), and nothing fails once the new instances serve.
    auto_lost = delta(before, settled, "users_auto", "failed")
    assert auto_lost == pytest.approx(step["backlog"] - 150, rel=0.08)
    assert delta(settled, end, "users_auto", "failed") == 0
    assert fixed_lost > 2.5 * auto_lost
    # Queued: nothing lost; the backlog at the reaction time is the fluid one (within 8%),
    # and it is worked off in about drain_s (nearly gone at 1.5 x).
    assert comp(end, "users_queued")["failed"] == 0
    assert waiting(reacted, "web_queued") == pytest.approx(step["backlog"], rel=0.08)
    assert 60 + reaction + 1.5 * step["drain_s"] <= 140
    assert waiting(drained, "web_queued") < 0.05 * step["backlog"]
    # The price: requests waited up to backlog / capacity = 16 s.
    assert comp(end, "users_queued")["latency_ms"]["p99"] > 10 * comp(
        end, "users_auto")["latency_ms"]["p99"]
    for side in ("auto", "queued"):
        instances = comp(end, f"web_{side}")["instances"]
        assert (instances["peak"], instances["scale_outs"], instances["scale_ins"]) == (6, 1, 1)
        assert instances["now"] == 3  # back after the crowd and the scale-in cooldown


@promise("vertical-vs-horizontal")
def _(doc):
    """One xlarge instance against twelve small ones of the same capacity: the big one
    costs more per unit and is faster (M/M/16 at speed 1.5 against 12 x M/M/2); its failure
    stops all service for boot + health check, one small one's costs only what it held."""
    before, end = run_phases(doc, 59.9)
    workers_big, speed_big, price_big = SIZES["xlarge"]
    workers_small, speed_small, price_small = SIZES["small"]
    assert workers_big * speed_big == 12 * workers_small * speed_small  # the same capacity
    assert comp(end, "web_big")["cost_per_hour"] == pytest.approx(price_big)
    assert comp(end, "web_many")["cost_per_hour"] == pytest.approx(12 * price_small)
    assert price_big > 1.25 * 12 * price_small
    # Before the failure: the groups' mean response is M/M/c's (about 30,000 requests
    # each; the M/M/c mean is within 2% over seeds, hence 5%).
    for cid, expected in (("web_big", mmc_response_ms(600, 20 / speed_big, workers_big)),
                          ("web_many", mmc_response_ms(50, 20, workers_small))):
        assert comp(before, cid)["latency_ms"]["mean"] == pytest.approx(expected, rel=0.05)
    assert delta(None, before, "users_big", "failed") == 0
    assert delta(None, before, "users_many", "failed") == 0
    # The big instance's failure: every request fails until the replacement boots and
    # passes the health check: 600 rps x (30 + 2) s = 19,200 (Poisson sd 139; the health
    # check is polled, so up to its 2 s more).
    downtime = 30 + 2  # boot_s + the balancer's health_check_s
    big_lost = delta(before, end, "users_big", "failed")
    assert 600 * downtime * 0.97 <= big_lost <= 600 * (downtime + 2) * 1.03
    # A small one's: only what it held (its 2 workers and a short queue).
    assert delta(before, end, "users_many", "failed") <= 20
    for cid, count in (("web_big", 1), ("web_many", 12)):
        instances = comp(end, cid)["instances"]
        assert (instances["failures"], instances["now"]) == (1, count)


@promise("sessions-when-an-instance-fails")
def _(doc):
    """ip_hash over 4 instances with local sessions against a shared store: a failed
    instance loses its quarter of the sessions, and hash mod N re-maps 3 users in 4 when 4
    instances become 3 and again when the replacement makes them 4; the shared side keeps
    every session."""
    before, replaced, end = run_phases(doc, 59.9, 81.9)
    users = 2000
    for side in ("sticky", "shared"):
        assert delta(None, before, f"users_{side}", "failed") == 0
        assert comp(before, f"web_{side}")["sessions"]["relogins"] == 0
    assert end["predictions"]["components"]["web_sticky"]["instances"][
        "session_miss_ratio"] == qt.session_miss_share(4, sticky=True) == 0
    sticky = comp(end, "web_sticky")["sessions"]
    # The failed instance held its quarter of the 2,000 users (all signed in by 60 s: each
    # sends 0.2 rps); a hash splits them unevenly, hence 15%.
    assert sticky["lost"] == pytest.approx(users * qt.sessions_lost_share(4), rel=0.15)
    # Hash mod N over the serving instances [0, 1, 2, 3] -> [0, 2, 3]: a user keeps its
    # instance for 3 of the 12 classes of hash mod 12, so 3/4 move; again when [0, 2, 3]
    # become [0, 2, 3, 4]. Until the replacement serves (82 s) a user returns with
    # probability 1 - e^(-0.2 x 22) = 0.99. Hashing 2,000 users: within 5%.
    moved = 0.75 * users
    assert delta(before, replaced, "web_sticky", "sessions", "relogins") == pytest.approx(
        moved * (1 - math.exp(-0.2 * 22)), rel=0.05)
    assert sticky["relogins"] == pytest.approx(2 * moved, rel=0.05)
    # Each re-login is an error the user sees (relogin: fail), besides the few requests
    # the failed instance held.
    assert 0 <= delta(before, end, "users_sticky", "failed") - sticky["relogins"] <= 20
    shared = comp(end, "web_shared")["sessions"]
    assert (shared["lost"], shared["relogins"]) == (0, 0)
    assert delta(before, end, "users_shared", "failed") <= 20
    for side in ("sticky", "shared"):
        instances = comp(end, f"web_{side}")["instances"]
        assert (instances["failures"], instances["now"]) == (1, 4)


@promise("autoscaling-that-flaps")
def _(doc):
    """Bursts of 600 rps for 15 s every minute on 2 instances (400 rps) scaling to 4: with
    short cooldowns the group scales out and in with each burst, its instances serving
    only after the burst (reaction 5 + 10 + 2 s > 15 s), so every burst leaves the fluid
    backlog; with a long scale-in cooldown it scales out once and the later bursts fit."""
    ends = run_phases(doc, 45, 105, 165, 225)
    bursts = ends[:-1]  # the reports at the end of each burst
    backlog = (600 - 2 * 200) * 15  # fluid: rate above capacity x burst length
    flap = comp(ends[-1], "web_flap")["instances"]
    hold = comp(ends[-1], "web_hold")["instances"]
    assert (flap["scale_outs"], flap["scale_ins"]) == (len(bursts), len(bursts))
    assert (hold["scale_outs"], hold["scale_ins"]) == (1, 0)
    assert hold["low"] == 2 and hold["now"] == hold["peak"] == 4
    # Each burst's backlog: seeds 2, 3 and 7 gave 2,910 to 3,357 over their bursts (sd
    # about 150), hence 15% every time on the flapping side; the holding side queues only
    # during the first.
    for report in bursts:
        assert waiting(report, "web_flap") == pytest.approx(backlog, rel=0.15)
    assert waiting(bursts[0], "web_hold") == pytest.approx(backlog, rel=0.15)
    for report in bursts[1:]:
        assert waiting(report, "web_hold") < 0.02 * backlog
    # From the second burst on, the flapping side's users wait seconds, the holding side's
    # tens of milliseconds.
    assert mean_latency(bursts[1], ends[-1], "users_flap") > 1000
    assert mean_latency(bursts[1], ends[-1], "users_hold") < 100
    # The price of holding: four instances most of the time against about three.
    price = SIZES["medium"][2]
    assert comp(ends[-1], "web_hold")["cost_per_hour"] == pytest.approx(
        price * hold["mean"], rel=0.01)
    assert hold["mean"] > 3.5 > 3.2 > flap["mean"]


@promise("a-day-of-traffic")
def _(doc):
    """A compressed day (a 300 s sine from 50 to 1,500 rps): the autoscaled fleet follows
    the fixed-point count ceil(rate / (200 rps x 0.6)) and costs half of 15 instances sized
    for the peak, with about the same p99."""
    (end,) = run_phases(doc)
    users = doc["components"][0]["params"]
    schedule = rate_schedule(users["rate_rps"], users["schedule"])
    auto = next(c["params"] for c in doc["components"] if c["id"] == "web_auto")
    capacity = qt.instance_capacity(SIZES["medium"][0], SIZES["medium"][1], 0.020)
    # The count target tracking settles at for each second's rate, averaged over the day:
    # 6.97. The group follows it late, up by its reaction time (5 s period + 5 s boot + 2 s
    # health check) and down by its 30 s scale-in cooldown, so it holds more (7.5 here).
    following = [qt.instances_needed(schedule.rate(t + 0.5), capacity, auto["scale_target"],
                                     1, auto["max_instances"]) for t in range(300)]
    fleet = comp(end, "web_auto")["instances"]
    ideal = sum(following) / len(following)
    assert ideal <= fleet["mean"] <= 1.15 * ideal
    assert fleet["peak"] == max(following) and fleet["low"] == 1
    price = SIZES["medium"][2]
    fixed_cost = comp(end, "web_fixed")["cost_per_hour"]
    auto_cost = comp(end, "web_auto")["cost_per_hour"]
    assert fixed_cost == pytest.approx(15 * price)
    assert auto_cost == pytest.approx(fleet["mean"] * price, rel=0.01)
    assert auto_cost / fixed_cost == pytest.approx(0.5, abs=0.05)
    # The fixed fleet runs at 1,500 x 20 ms / 60 workers = 50% at the peak; the
    # autoscaled one near its 60% target: p99 within 10% (about two histogram buckets).
    p99_fixed = comp(end, "users_fixed")["latency_ms"]["p99"]
    p99_auto = comp(end, "users_auto")["latency_ms"]["p99"]
    assert p99_auto == pytest.approx(p99_fixed, rel=0.10)
    for side in ("fixed", "auto"):
        assert comp(end, f"users_{side}")["failed"] == 0


@promise("layer-7-routing-to-microservices")
def _(doc):
    """One monolith for every path against a service per path behind a layer-7 proxy: each
    service gets exactly its class; the feed's p99 is several times lower on its own
    service; uploads pay for their smaller pool."""
    (end,) = run_phases(doc)
    mono, l7 = (comp(end, c)["classes"] for c in ("users_mono", "users_l7"))
    # Layer 7: each service is sent its class and nothing else (a few requests are still on
    # the 10 ms link when the warm-up ends).
    for svc, name in (("feed", "GET /feed"), ("profile", "GET /profile"),
                      ("photo", "POST /photo")):
        assert comp(end, svc)["arrivals"] == pytest.approx(l7[name]["requests"], abs=10)
    # Utilisation law: the monolith's mixture, 0.73 x 5 + 0.25 x 3 + 0.02 x 400 ms on 8
    # workers; each service its own class (photo: 8 rps x 400 ms on 4, noisier: 2,000
    # uploads of exponential work, sd about 3% over seeds 1-4).
    assert comp(end, "monolith")["utilisation"] == pytest.approx(400 * 12.4 / 1000 / 8, rel=0.05)
    assert comp(end, "feed")["utilisation"] == pytest.approx(292 * 5 / 1000 / 3, rel=0.05)
    assert comp(end, "photo")["utilisation"] == pytest.approx(8 * 0.4 / 4, rel=0.10)
    # The feed's own service is an M/M/3: its response (with the 2 x 10 ms link) as
    # predicted, exactly (seeds 1-4 within 0.3%)
    predicted = end["predictions"]["components"]["users_l7"]["classes"]["GET /feed"]
    assert l7["GET /feed"]["latency_ms"]["mean"] == pytest.approx(predicted["response_ms"],
                                                                  rel=0.03)
    # Isolation: over seeds 1-4 the monolith's feed p99 was 3.6 to 5.7 times the
    # microservice's, its mean 17% to 31% higher; uploads 1.4 to 1.8 times slower alone.
    feed_mono, feed_l7 = mono["GET /feed"]["latency_ms"], l7["GET /feed"]["latency_ms"]
    assert feed_mono["p99"] > 2.5 * feed_l7["p99"]
    assert feed_mono["mean"] > 1.1 * feed_l7["mean"]
    assert l7["POST /photo"]["latency_ms"]["mean"] > 1.2 * mono["POST /photo"]["latency_ms"]["mean"]


@promise("bandwidth-and-a-cdn")
def _(doc):
    """A link 88% busy with 250 kB answers queues as M/D/1 predicts; a CDN's hits take
    their bytes off its origin's link (issue 18)."""
    report = run_phases(doc)[0]
    links, predicted = report["links"], report["predictions"]["links"]
    direct = links["users_direct->origin_direct"]["back"]
    behind = links["cdn->origin_cdn"]["back"]
    # 55/s x 16 ms = 0.88 (utilisation law): seeds 1, 2, 5 gave 0.866 to 0.895.
    assert predicted["users_direct->origin_direct"]["back"]["utilisation"] == pytest.approx(0.88)
    assert direct["utilisation"] == pytest.approx(0.88, abs=0.04)
    # M/D/1 at 0.88: 0.88 x 16 / (2 x 0.12) = 58.7 ms; seeds gave 53 to 68 (slow to settle).
    assert predicted["users_direct->origin_direct"]["back"]["mean_wait_ms"] == \
        pytest.approx(qt.mg1(55, 0.016, 0.0).mean_wait * 1000)
    assert direct["mean_wait_ms"] == pytest.approx(58.67, rel=0.25)
    # The CDN's link carries the misses' bytes only: its share of the direct link's bytes
    # is the miss ratio (within 0.03), and it is busy as predicted from Che's hit ratio.
    hit = comp(report, "cdn")["hit_ratio"]
    assert hit == pytest.approx(report["predictions"]["components"]["cdn"]["hit_ratio"],
                                abs=0.03)
    assert behind["kb"] / direct["kb"] == pytest.approx(1 - hit, abs=0.03)
    assert behind["utilisation"] == pytest.approx(
        predicted["cdn->origin_cdn"]["back"]["utilisation"], abs=0.03)
    assert behind["mean_wait_ms"] < 0.1 * direct["mean_wait_ms"]
    # Latencies as predicted (within 8%: the direct one carries the M/D/1 wait's noise),
    # the CDN's users three times faster.
    for users in ("users_direct", "users_cdn"):
        assert comp(report, users)["latency_ms"]["mean"] == pytest.approx(
            report["predictions"]["clients"][users]["mean_latency_ms"], rel=0.08)
    assert comp(report, "users_direct")["latency_ms"]["mean"] > \
        2.5 * comp(report, "users_cdn")["latency_ms"]["mean"]


@promise("tcp-vs-udp-on-a-lossy-link")
def _(doc):
    """5% loss: TCP retransmits (delay, no failure), a handshake per new connection; UDP
    loses a call in ten (issue 18)."""
    report = run_phases(doc)[0]
    predicted = report["predictions"]
    mean = {c: comp(report, c)["latency_ms"]["mean"]
            for c in ("users_tcp", "users_keep", "users_udp")}
    # 2 x 20 ms + 5 ms of work; each way p/(1-p) x 200 ms = 10.5 ms; 40 ms of handshake.
    retransmit = 2 * 0.05 / 0.95 * 200
    assert predicted["clients"]["users_keep"]["mean_latency_ms"] == pytest.approx(
        45 + retransmit)
    assert predicted["clients"]["users_tcp"]["mean_latency_ms"] == pytest.approx(
        85 + retransmit)
    # The retransmission delay is 0 or 200 ms and more: its mean over 19,000 calls has a
    # standard deviation of about 0.3 ms; seeds 1, 2, 3 were within 0.8 ms. Tolerance 3 ms.
    for users in mean:
        assert mean[users] == pytest.approx(
            predicted["clients"][users]["mean_latency_ms"], abs=3.0)
        if users != "users_udp":
            assert comp(report, users)["failed"] == 0  # TCP turns every loss into delay
    assert mean["users_tcp"] - mean["users_keep"] == pytest.approx(40, abs=3.0)
    assert comp(report, "users_keep")["latency_ms"]["p99"] > 250  # the timeout shows
    # UDP: (1 - 0.05)^2 of the calls arrive, binomial over ~19,000: 4 sigma = 0.009;
    # those that arrive take the link's time alone, every time.
    udp = comp(report, "users_udp")
    n = udp["succeeded"] + udp["failed"]
    assert predicted["links"]["users_udp->server_udp"]["udp"]["call_success_ratio"] == \
        pytest.approx(0.9025)
    assert udp["succeeded"] / n == pytest.approx(0.9025, abs=4 * math.sqrt(0.9025 * 0.0975 / n))
    assert udp["failures"]["failed"] == udp["failed"]
    assert mean["users_udp"] == pytest.approx(45, abs=0.5)
    lost = report["links"]["users_keep->server_keep"]["forward"]
    assert lost["lost"] / lost["messages"] == pytest.approx(0.05, abs=0.007)


@promise("at-least-once-and-dead-letters")
def _(doc):
    """A worker failing 30% of its jobs: at most once loses them; at least once delivers
    a message 1 + p + p^2 times and dead-letters p^3 (p = 0.3, max_deliveries 3)."""
    (end,) = run_phases(doc)
    p, m = 0.3, 3
    once, w_once = comp(end, "q_once"), comp(end, "w_once")
    # About 18,000 jobs: the failed share has sd 0.0034, 4 sd.
    assert w_once["failed"] / w_once["arrivals"] == pytest.approx(p, abs=0.014)
    assert "redelivered" not in once
    least = comp(end, "q_least")
    # About 18,000 messages: dead-letter share sd 0.0012 (4.5%), deliveries sd 0.4%.
    assert least["dead_lettered"] / least["delivered"] == pytest.approx(
        qt.dead_letter_share(p, m), rel=0.18)
    assert 1 + least["redelivered"] / least["delivered"] == pytest.approx(
        qt.expected_deliveries(p, m), rel=0.02)
    assert least["delivered"] - 5 <= least["processed"] + least["dead_lettered"] \
        <= least["delivered"]
    assert least["lost"] == least["duplicates"] == 0
    assert abs(comp(end, "dlq")["arrivals"] - least["dead_lettered"]) <= 2
    predicted = end["predictions"]["components"]["q_least"]
    assert predicted["deliveries_per_message"] == pytest.approx(qt.expected_deliveries(p, m),
                                                                rel=1e-3)
    assert predicted["dead_letter_share"] == pytest.approx(qt.dead_letter_share(p, m),
                                                           rel=1e-3)


def _worker_share(doc: dict, topic: str, worker: int, rate: float) -> float:
    """The share of the messages in the partitions dealt to the worker-th of 3 (keys hash
    to partitions; uniform keys)."""
    n = next(c for c in doc["components"] if c["id"] == topic)["params"]["partitions"]
    counts = [0] * n
    for key in range(1000):
        counts[key_bucket(key, n)] += 1
    return sum(counts[worker::3]) / 1000


@promise("consumer-group-rebalancing")
def _(doc):
    """A dead worker's partitions wait for it without a session timeout (lag ~ its share x
    rate x outage); with one, the lag peaks at rate x (share x timeout + pause) just before
    the rebalance ends and drains while it is still dead; its return rebalances again."""
    rate, timeout, pause = 120.0, 10.0, 3.0
    share = _worker_share(doc, "rebal", 0, rate)
    peak, dead, end = run_phases(doc, 40 + timeout + pause - 0.05, 89.9)
    # About 760 messages held up (Poisson: sd 4%); the fluid figure ignores the few in
    # service, hence 15%.
    assert comp(peak, "rebal")["groups"]["shipping"]["lag"] == pytest.approx(
        qt.rebalance_backlog(rate, share, timeout, pause - 0.05), rel=0.15)
    assert comp(dead, "rebal")["groups"]["shipping"]["lag"] < 20
    # Without rebalancing: about 2,000 waiting (sd 2%).
    assert comp(dead, "fixed")["groups"]["shipping"]["lag"] == pytest.approx(
        rate * share * 49.9, rel=0.08)
    groups = comp(end, "rebal")["groups"]["shipping"]
    assert groups["rebalances"] == 2 and groups["paused_s"] == pytest.approx(2 * pause)
    assert "rebalances" not in comp(end, "fixed")["groups"]["shipping"]
    for topic in ("fixed", "rebal"):
        g = comp(end, topic)["groups"]["shipping"]
        assert g["lost"] == 0 and g["lag"] < 20


@promise("durable-against-ephemeral-subscriptions")
def _(doc):
    """Both subscribers away for 30 s at 80 messages/s: the durable subscription keeps the
    2,400 messages and delivers them after; the ephemeral one loses them."""
    down, end = run_phases(doc, 69.9)
    # 30 s of Poisson arrivals at 80/s: sd 2%.
    assert comp(down, "durable")["groups"]["notify"]["lag"] == pytest.approx(2400, rel=0.08)
    assert comp(down, "ephemeral")["groups"]["notify"]["lag"] == 0
    durable, ephemeral = (comp(end, t)["groups"]["notify"] for t in ("durable", "ephemeral"))
    assert durable["lost"] == 0 and durable["lag"] < 10
    assert ephemeral["lost"] == pytest.approx(2400, rel=0.08)
    published = comp(end, "durable")["arrivals"]
    assert abs(durable["delivered"] - published) <= 10
    assert ephemeral["delivered"] == pytest.approx(published - ephemeral["lost"], abs=10)


@promise("worker-pool-scaling-on-backlog")
def _(doc):
    """A surge from 100 to 400 jobs/s for 90 s against two `small` instances (200 jobs/s):
    the fixed pool's queue grows by the fluid 200 jobs/s throughout; the pool autoscaled on
    its backlog asks for its maximum at the first evaluation, clears what queued before its
    instances booted, holds the count theory predicts for 400 jobs/s, and returns to 2."""
    sim = Simulation(doc)
    fleet = sim.components["thumbs_auto"].fleet
    seen = {}
    for t in (70, 80, 90, 140, 150, 200):
        sim.advance(t)
        seen[t] = (sim.components["jobs_fixed"].live()["queue"],
                   sim.components["jobs_auto"].live()["queue"], fleet.present())
    sim.advance(doc["duration_s"])
    end = sim.report()
    surge = (400 - 200) * 90  # fluid: the rate above the fixed pool's capacity x 90 s
    assert seen[150][0] == pytest.approx(surge, rel=0.05)
    # Afterwards it works the backlog off at the 100 jobs/s it has to spare: 9,000 left.
    assert sim.components["jobs_fixed"].live()["queue"] == pytest.approx(
        surge - 90 * 100, rel=0.10)
    # The step lands at the 60 s evaluation; the 70 s one sees it and asks for the most
    # (10), which serve 10 s later: 20 s at 200 jobs/s short, 4,000 queued, then cleared.
    assert seen[70][2] == 10
    assert seen[80][1] == pytest.approx(200 * 20, rel=0.10)
    assert seen[90][1] < 100
    # Settled at the fixed point (test_fleet_kinds.py: 6 for 400 jobs/s, target 1.5), as
    # predicted for the step, and back to the minimum after the surge.
    settled = end["predictions"]["components"]["thumbs_auto"]["instances"]["step"]["count"]
    backlog = {n: qt.mmc(400.0, 50.0, 2 * n).mean_queue + 8.0 for n in (5, 6)}
    assert backlog[5] / 5 > 1.5 >= backlog[6] / 6 and settled == 6
    assert seen[140][2] == seen[150][2] == settled
    assert seen[200][2] == 2
    price = SIZES["small"][2]
    auto = comp(end, "thumbs_auto")
    assert auto["cost_per_hour"] == pytest.approx(price * auto["instances"]["mean"], rel=0.01)
    assert comp(end, "thumbs_fixed")["cost_per_hour"] == pytest.approx(2 * price)
    for side in ("fixed", "auto"):
        assert comp(end, f"thumbs_{side}")["failed"] == comp(end, f"jobs_{side}")["lost"] == 0
    assert comp(end, "jobs_auto")["mean_wait_ms"] < 0.05 * comp(end, "jobs_fixed")["mean_wait_ms"]


@promise("an-exchange-fanning-out-and-routing-by-key")
def _(doc):
    """Fanout: every queue gets every event (exact). Topic: each queue the shares of the
    classes its pattern matches, as predicted; about 11,000 events, so a share's sd is at
    most sqrt(0.25 / 11,000) = 0.5%: 2% is 4 sd. The shoppers wait the network's 40 ms and
    the API's M/M/8 response (the publishes add nothing); 3% covers the mean's spread."""
    end = Simulation(doc).run()
    fanout, topic = comp(end, "fanout"), comp(end, "topic")
    n = fanout["published"]
    assert fanout["per_target"] == {"audit": n, "analytics": n} and fanout["routed"] == 2 * n
    predicted = predict(doc)["components"]["topic"]
    assert predicted["per_target_rps"] == pytest.approx(
        {"billing": 30.0, "shipping": 80.0, "welcome": 20.0})
    assert topic["published"] == n and topic["unroutable"] == 0
    for queue, rate in predicted["per_target_rps"].items():
        assert topic["per_target"][queue] == comp(end, queue)["arrivals"]
        assert topic["per_target"][queue] / n == pytest.approx(rate / 100.0, abs=0.02)
    assert topic["routed"] / n == pytest.approx(predicted["routed_rps"] / 100.0, abs=0.02)
    assert comp(end, "shop")["latency_ms"]["mean"] == pytest.approx(
        40.0 + mmc_response_ms(100.0, 5.0, 8), rel=0.03)
    direct = json.loads(json.dumps(doc))  # Try: the topic exchange made direct
    direct["components"][3]["params"]["type"] = "direct"
    topic = comp(Simulation(direct).run(), "topic")
    assert topic["per_target"]["shipping"] == topic["per_target"]["welcome"] == 0
    assert topic["unroutable"] / topic["published"] == pytest.approx(0.7, abs=0.02)


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_keeps_its_promise(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate(doc)
    PROMISES[slug(path)](doc)


def test_every_lesson_has_a_promise_checked():
    assert sorted(PROMISES) == sorted(slug(p) for p in LESSONS)


def test_the_gallery_is_a_course():
    """At least 15 lessons numbered 01.. in order, with unique slugs and names."""
    assert len(LESSONS) >= 15
    names = [NAME.match(p.name) for p in LESSONS]
    assert all(names), [p.name for p in LESSONS]
    assert [int(m.group(1)) for m in names] == list(range(1, len(LESSONS) + 1))
    assert len({m.group(2) for m in names}) == len(LESSONS)
    titles = [json.loads(p.read_text(encoding="utf-8"))["name"] for p in LESSONS]
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_reads_well_on_the_canvas(path):
    """A description in three parts; every component labelled and placed, cards apart,
    calls flowing left to right; short enough to watch."""
    scenario = validate(json.loads(path.read_text(encoding="utf-8")))
    positions = {}
    for part in PARTS:
        assert part in scenario.description, f"{path.name}: no {part}"
    # The lesson panel knows paragraphs, "- " lists, **bold** and `code`, nothing more.
    plain = re.sub(r"\*\*[^*\n]+\*\*|`[^`\n]+`", "", scenario.description)
    assert "*" not in plain and "#" not in plain and "](" not in plain, path.name
    assert 60 <= scenario.duration_s <= 300
    for c in scenario.components:
        assert c.label and c.label.strip(), f"{path.name}: {c.id} has no label"
        assert c.position is not None, f"{path.name}: {c.id} has no position"
        positions[c.id] = (c.position.x, c.position.y)
    cards = list(positions.items())
    for i, (a, (ax, ay)) in enumerate(cards):
        assert ax >= 0 and ay >= 0
        for b, (bx, by) in cards[i + 1:]:
            assert abs(ax - bx) >= CARD_W or abs(ay - by) >= CARD_H, \
                f"{path.name}: the cards of {a} and {b} overlap"
    for link in scenario.links:
        if link.kind == "call":
            assert positions[link.from_][0] < positions[link.to][0], \
                f"{path.name}: {link.from_} -> {link.to} flows right to left"

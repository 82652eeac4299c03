"""Topics (simulations/components/topic.py): partitions, consumer groups, retention, failure.

Expected lags come from theory.mg1 / M/M/1 at each partition's rate, which follows from the
key hash (`key_bucket`) and the client's uniform keys. Tolerances are about 4 standard
deviations of the simulated estimate, measured over 10 seeds before the test was written
(each comment gives the numbers). The file runs in about 30 s.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import pytest

from simulations import ScenarioError, Simulation, run, validate
from simulations import theory as qt
from simulations.distributions import key_bucket
from tests.engine.scenarios import chain, component, document, link, plain_python_only

SEEDS = (21, 22)


def partition_rates(rate: float, keys: int, partitions: int) -> list[float]:
    """Uniform keys: a partition's rate is the share of the keys that hash to it."""
    counts = [0] * partitions
    for key in range(keys):
        counts[key_bucket(key, partitions)] += 1
    return [rate * n / keys for n in counts]


def group(report: dict, topic: str = "s1", name: str = "default") -> dict[str, Any]:
    return report["components"][topic]["groups"][name]


# --- lag against queueing theory -----------------------------------------------------------

# (partitions, keys, rate, worker slots, measured seconds). A slot per partition: each
# partition is its own M/M/1 queue (3 partitions of unequal key shares, rho 0.69-0.71); one
# slot for 4 partitions: one M/M/1 queue at the total rate (rho 0.7), whatever the order it
# serves partitions in. Relative sd of one run over 10 seeds: mean lag 2.4% / 2.2%, mean
# wait 2.9% / 2.8%; two seeds bring them to 1.7% and 2.1%. Tolerances 7% on lag, 9% on wait
# (about 4 sd); the predictions must be the formulas themselves.
LAG_CASES = [(3, 1000, 210.0, 3, 500.0), (4, 1000, 70.0, 1, 1000.0)]


@pytest.mark.parametrize(("partitions", "keys", "rate", "slots", "seconds"), LAG_CASES,
                         ids=["slot_per_partition", "one_slot"])
def test_group_lag_is_mm1_per_partition(partitions, keys, rate, slots, seconds):
    service_s = 0.010
    doc = chain({"rate_rps": rate, "keys": keys},
                [("topic", {"partitions": partitions, "append_ms": 0}),
                 ("worker", {"workers": slots, "service_ms": service_s * 1000})],
                duration_s=seconds + 20, warmup_s=20)
    lams = partition_rates(rate, keys, partitions)
    queues = [qt.mm1(lam, 1 / service_s) for lam in lams] if slots >= partitions else \
        [qt.mm1(rate, 1 / service_s)]
    lag = sum(m.mean_in_system for m in queues)
    wait_ms = sum(m.mean_queue for m in queues) / rate * 1000
    reports = [run(doc, seed=s) for s in SEEDS]

    assert statistics.fmean(group(r)["mean_lag"] for r in reports) == \
        pytest.approx(lag, rel=0.07)
    assert statistics.fmean(group(r)["mean_wait_ms"] for r in reports) == \
        pytest.approx(wait_ms, rel=0.09)
    predicted = reports[0]["predictions"]["components"]["s1"]["groups"]["default"]
    assert predicted["mean_lag"] == pytest.approx(lag, rel=1e-3)
    assert predicted["mean_wait_ms"] == pytest.approx(wait_ms, rel=1e-3)
    # Producers are answered on append; the partitions split the messages by key.
    per_partition = reports[0]["components"]["s1"]["per_partition"]
    assert sum(per_partition) == reports[0]["components"]["s1"]["completed"]


# --- groups, partitions and order ----------------------------------------------------------

def groups_doc(duration_s: float = 40.0) -> dict[str, Any]:
    """Group a: a1 (2 slots) takes partitions 0, 2, 4 and a2 (1 slot) 1, 3, 5; group b: b1
    (4 slots) takes all six."""
    return document(
        [component("c", "client", rate_rps=300, keys=50),
         component("t", "topic", partitions=6),
         component("a1", "worker", workers=2, service_ms=5),
         component("a2", "worker", workers=1, service_ms=5),
         component("b1", "worker", workers=4, service_ms=5)],
        [link("c", "t"), link("t", "a1", group="a"), link("t", "a2", group="a"),
         link("t", "b1", group="b")],
        duration_s=duration_s)


@plain_python_only
def test_every_group_gets_every_message_one_partition_at_a_time_in_key_order():
    sim = Simulation(groups_doc())
    group_of = {"a1": "a", "a2": "a", "b1": "b"}
    starts: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)  # (born, t)
    owners: dict[tuple[str, int], set[str]] = defaultdict(set)
    busy: dict[tuple[str, int], bool] = defaultdict(bool)
    most = dict.fromkeys(group_of, 0)  # slots in use at once

    def watch(worker):
        take = worker.take

        def take_and_record(msg, reply):
            where = (group_of[worker.id], key_bucket(msg.req.key, 6))
            assert not busy[where], f"two messages of partition {where} at once"
            busy[where] = True
            most[worker.id] = max(most[worker.id], worker.busy + 1)
            starts[where].append((msg.req.born, msg.req.key))
            owners[where].add(worker.id)

            def processed(outcome):
                busy[where] = False
                reply(outcome)
            take(msg, processed)
        worker.take = take_and_record

    for cid in group_of:
        watch(sim.components[cid])
    sim.advance(40.0)
    report = sim.report()
    topic = report["components"]["t"]

    appended = sum(topic["per_partition"])
    for name in ("a", "b"):
        g = topic["groups"][name]
        assert g["expired"] == g["lost"] == 0
        assert g["delivered"] <= appended <= g["delivered"] + g["lag"]
    for (name, p), seen in starts.items():
        assert owners[(name, p)] == ({"b1"} if name == "b" else {"a1" if p % 2 == 0 else "a2"})
        assert all(key_bucket(key, 6) == p for _, key in seen)
        by_key: dict[int, list[float]] = defaultdict(list)
        for born, key in seen:
            by_key[key].append(born)
        assert all(times == sorted(times) for times in by_key.values())
    # A worker works on at most `workers` partitions at once, and does use its slots.
    assert most == {"a1": 2, "a2": 1, "b1": 4}


def test_lag_in_live_frames():
    sim = Simulation(groups_doc(), live=True)
    sim.advance(2.0)
    frame = sim.frame()["components"]["t"]
    assert set(frame["lag"]) == {"a", "b"}
    assert all(isinstance(v, int) and v >= 0 for v in frame["lag"].values())


# --- retention -----------------------------------------------------------------------------

def test_retention_expires_what_a_slow_group_has_not_read():
    """A consumer at 50 messages/s (constant 20 ms) behind 100/s: it always reads the oldest
    message still kept, retention_s old, so it delivers 50/s, the rest (50/s) expire and the
    lag is the messages of the last retention_s: a Poisson count of mean 100 x 2 = 200. A fast
    group on the same topic loses nothing."""
    rate, retention, seconds = 100.0, 2.0, 200.0
    doc = document(
        [component("c", "client", rate_rps=rate, keys=1),
         component("t", "topic", partitions=1, append_ms=0, retention_s=retention),
         component("slow", "worker", service_ms=20, service_dist="constant"),
         component("fast", "worker", service_ms=1)],
        [link("c", "t"), link("t", "slow", group="slow"), link("t", "fast", group="fast")],
        duration_s=seconds + 10, warmup_s=10)
    report = run(doc, seed=SEEDS[0])
    slow, fast = group(report, "t", "slow"), group(report, "t", "fast")
    appended = report["components"]["t"]["completed"]

    # Counted are the messages appended after warm-up: the first of them is read retention_s
    # later, so 50/s for seconds - retention_s, exact up to the ends of the window.
    counted_s = seconds - retention
    assert slow["delivered"] == pytest.approx(counted_s / 0.020, abs=5)
    # The rest of those appended expire: a Poisson count less 9900, sd 141 (1.4%): 6%.
    assert slow["expired"] == pytest.approx((rate - 50) * counted_s, rel=0.06)
    # The lag is a Poisson count of mean 200 seen at every instant: its time average over
    # 200 s has sd about 2%. Tolerance 8%.
    assert slow["mean_lag"] == pytest.approx(rate * retention, rel=0.08)
    assert slow["mean_wait_ms"] == pytest.approx(retention * 1000, rel=0.02)
    assert fast["expired"] == 0 and fast["delivered"] == pytest.approx(appended, abs=2)


# --- failure -------------------------------------------------------------------------------

def test_a_failed_topic_loses_its_log_and_requests_are_conserved():
    doc = document(
        [component("c", "client", rate_rps=100, keys=20),
         component("t", "topic", partitions=2),
         component("w", "worker", service_ms=15, service_dist="constant")],
        [link("c", "t"), link("t", "w")], duration_s=30)
    sim = Simulation(doc)
    sim.advance(10.0)
    topic = sim.components["t"]
    backlog = sim.frame()["components"]["t"]["lag"]["default"] - sim.components["w"].busy
    assert backlog > 100  # 100/s against 66/s: it piles up
    sim.apply({"action": "fail", "target": "t"})
    assert group(sim.report(), "t")["lost"] == backlog
    assert sim.frame()["components"]["t"]["lag"]["default"] == sim.components["w"].busy
    sim.advance(12.0)
    sim.apply({"action": "recover", "target": "t"})
    sim.advance(13.0)
    sim.apply({"action": "fail", "target": "w"})  # the message in service is lost
    sim.advance(14.0)
    sim.apply({"action": "recover", "target": "w"})
    sim.advance(30.0)
    report = sim.report()
    assert report["components"]["w"]["lost"] == 1
    assert report["components"]["c"]["failures"]["down"] > 0  # refused while the topic was down
    for c in (topic, sim.components["w"]):
        assert c.total_in == c.total_ok + c.total_rejected + c.total_failed + c.in_flight()
    g = group(report, "t")
    assert g["delivered"] + g["lost"] <= sum(report["components"]["t"]["per_partition"]) \
        <= g["delivered"] + g["lost"] + g["lag"]


# --- validation ----------------------------------------------------------------------------

def topic_doc(*extra_links: dict, **topic_params: Any) -> dict[str, Any]:
    return document(
        [component("c", "client", rate_rps=10), component("t", "topic", **topic_params),
         component("q", "queue"), component("w", "worker", service_ms=1),
         component("s", "service", service_ms=1)],
        [link("c", "t"), link("c", "q"), link("q", "w"), link("c", "s"), *extra_links],
        duration_s=5)


def errors_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


def test_a_worker_may_be_fed_by_queues_and_topics_and_groups_default():
    scenario = validate(topic_doc(link("t", "w")))
    assert scenario.links[-1].group == "default"
    assert Simulation(scenario).run()["components"]["t"]["groups"]["default"]["delivered"] > 0


@pytest.mark.parametrize(("extra", "path", "fragment"), [
    (link("t", "s"), "links[4]", "topics"),
    (link("s", "w"), "links[4]", "fed only by queues and topics"),
    (link("c", "t", group="g"), "links[4].group", "only links out of a topic"),
    (link("t", "w", group="bad id"), "links[4].group", "letters, digits"),
], ids=["topic_to_service", "service_to_worker", "group_off_a_topic", "group_id"])
def test_topic_links_are_checked(extra, path, fragment):
    doc = topic_doc(extra)
    if extra["from"] == "c":  # in place of the client's link, beside a consumer's
        doc["links"][0:1] = [link("t", "w")]
    errors = errors_of(doc)
    assert any(e.startswith(path + ": ") and fragment in e for e in errors), errors


def test_a_topic_needs_consumers_and_keeps_its_partitions():
    assert any(e.startswith("components[1]: ") and "no outgoing link" in e
               for e in errors_of(topic_doc()))
    doc = topic_doc(link("t", "w"))
    doc["events"] = [{"at_s": 1, "action": "set", "target": "t",
                      "params": {"partitions": 8}}]
    assert any("events[0].params.partitions: cannot change while running" in e
               for e in errors_of(doc))
    doc["events"][0]["params"] = {"retention_s": 1.0, "append_ms": 2}
    assert Simulation(doc).run()["components"]["t"]["groups"]["default"]["delivered"] > 0

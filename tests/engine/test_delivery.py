"""Delivery guarantees (components/messaging.py, components/topic.py): at least once,
redelivery, dead-letter queues, durable queues and topics, rebalancing, ephemeral
subscriptions, against theory/delivery.py.

Tolerances: a dead-letter share over n messages has sd sqrt(p^m (1 - p^m) / n) (binomial),
the mean deliveries per message sd sqrt(Var D / n); with n about 19,000 per seed and two
seeds these are 1.7% and 0.3% relative: the checks allow about 4 sd. Fluid figures
(rebalance backlog, retention, ephemeral losses) count Poisson arrivals over the stated
seconds: sd sqrt(count), hence the stated percentages.
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import ScenarioError, Simulation, run, validate
from simulations import theory as qt
from tests.engine.scenarios import component, document, link, plain_python_only
from tests.engine.test_topic import partition_rates

SEEDS = (3, 4)


def queue_doc(queue: dict[str, Any], worker: dict[str, Any], rate: float = 100.0,
              duration_s: float = 200.0, events: list[dict] | None = None,
              dead_letter: bool = True) -> dict[str, Any]:
    """client -> q -> w, and q -> dlq (its dead-letter queue, nobody reads it)."""
    comps = [component("client", "client", rate_rps=rate, read_ratio=0.0),
             component("q", "queue", enqueue_ms=0, **queue),
             component("w", "worker", **worker)]
    links = [link("client", "q"), link("q", "w")]
    if dead_letter:
        comps.append(component("dlq", "queue", enqueue_ms=0))
        links.append(link("q", "dlq", dead_letter=True))
    return document(comps, links, duration_s, 10.0, events)


# --- at least once against theory ----------------------------------------------------------

@pytest.mark.parametrize(("p", "m"), [(0.5, 3), (0.2, 2)])
def test_redelivery_and_dead_letter_share_follow_theory(p, m):
    doc = queue_doc({"delivery": "at_least_once", "max_deliveries": m},
                    {"workers": 4, "service_ms": 10, "fail_prob": p})
    reports = [run(doc, seed=s) for s in SEEDS]
    q = [r["components"]["q"] for r in reports]
    share = statistics.fmean(c["dead_lettered"] / c["delivered"] for c in q)
    per_message = statistics.fmean(1 + c["redelivered"] / c["delivered"] for c in q)
    assert share == pytest.approx(qt.dead_letter_share(p, m), rel=0.08)
    assert per_message == pytest.approx(qt.expected_deliveries(p, m), rel=0.015)
    for r, c in zip(reports, q, strict=True):
        # Every message settled: processed once or dead-lettered (a few still in flight).
        assert c["delivered"] - 5 <= c["processed"] + c["dead_lettered"] <= c["delivered"]
        assert c["duplicates"] == 0 and c["lost"] == 0
        # The dead-letter queue takes them (its arrivals count from warm-up, as the queue's).
        assert abs(r["components"]["dlq"]["arrivals"] - c["dead_lettered"]) <= 2
        predicted = r["predictions"]["components"]
        # Reports round to 4 significant digits: the predictions are the formulas.
        assert predicted["q"]["deliveries_per_message"] == pytest.approx(
            qt.expected_deliveries(p, m), rel=1e-3)
        assert predicted["q"]["dead_letter_share"] == pytest.approx(
            qt.dead_letter_share(p, m), rel=1e-3)
        assert predicted["dlq"]["offered_rps"] == pytest.approx(100 * p ** m)
        assert predicted["w"]["offered_rps"] == pytest.approx(100 * qt.expected_deliveries(p, m))


def test_theory_edges():
    assert qt.expected_deliveries(0.0, 5) == 1.0
    assert qt.expected_deliveries(1.0, 5) == 5.0
    assert qt.dead_letter_share(0.5, 1) == 0.5
    assert qt.retention_expired(10.0, 20.0, 5.0) == 150.0
    assert qt.retention_expired(10.0, 4.0, 5.0) == 0.0
    assert qt.rebalance_backlog(100.0, 0.5, 10.0, 2.0) == 700.0
    with pytest.raises(ValueError, match="p must be a probability"):
        qt.expected_deliveries(1.5, 2)
    with pytest.raises(ValueError, match="m must be an integer >= 1"):
        qt.dead_letter_share(0.5, 0)


def test_at_most_once_by_default_fails_without_redelivery():
    doc = queue_doc({}, {"workers": 4, "service_ms": 10, "fail_prob": 0.3}, dead_letter=False)
    report = run(doc, seed=1)
    q, w = report["components"]["q"], report["components"]["w"]
    assert "redelivered" not in q and "processed" not in q  # the report as before
    assert w["arrivals"] == pytest.approx(q["delivered"], abs=5)
    # Binomial over about 19,000 messages: sd 0.0033; 4 sd.
    assert w["failed"] / w["arrivals"] == pytest.approx(0.3, abs=0.014)
    assert report["predictions"]["components"]["w"]["offered_rps"] == pytest.approx(100.0)


def test_a_failing_worker_loses_nothing_at_least_once():
    """The worker fails mid-work: at most once its jobs are lost, at least once they are
    delivered again (the queue buffers meanwhile) and every message is processed."""
    events = [{"at_s": 50, "action": "fail", "target": "w"},
              {"at_s": 60, "action": "recover", "target": "w"}]
    worker = {"workers": 8, "service_ms": 50}
    once = run(queue_doc({}, worker, events=events, dead_letter=False), seed=2)
    least = run(queue_doc({"delivery": "at_least_once"}, worker, events=events), seed=2)
    assert once["components"]["w"]["lost"] > 0
    assert least["components"]["w"]["lost"] == 0
    q = least["components"]["q"]
    assert q["redelivered"] >= 1 and q["dead_lettered"] == 0 and q["lost"] == 0
    assert q["delivered"] - 10 <= q["processed"] <= q["delivered"]


def test_visibility_timeout_makes_duplicates():
    """Work of 100 ms: a 60 ms visibility timeout delivers every message again to the other
    worker slot, and both copies succeed (a duplicate each); 150 ms delivers once."""
    worker = {"workers": 2, "service_ms": 100, "service_dist": "constant"}
    short = run(queue_doc({"delivery": "at_least_once", "visibility_timeout_s": 0.06},
                          worker, rate=1.0, duration_s=400), seed=5)["components"]["q"]
    long = run(queue_doc({"delivery": "at_least_once", "visibility_timeout_s": 0.15},
                         worker, rate=1.0, duration_s=400), seed=5)["components"]["q"]
    assert long["redelivered"] == long["duplicates"] == 0
    assert short["dead_lettered"] == 0
    # Arrivals closer than 160 ms find the second slot busy (about 15% at 1 rps), so not
    # every message gets its second copy.
    assert 0.75 * short["processed"] <= short["duplicates"] <= short["processed"]
    assert short["duplicates"] <= short["redelivered"]


@pytest.mark.parametrize("durable", [False, True])
def test_durable_queue_keeps_its_messages(durable):
    """The worker is down from 20 s, the queue fails at 30 s (holding 10 s of messages) and
    is back at 40 s, the worker at 45 s."""
    events = [{"at_s": 20, "action": "fail", "target": "w"},
              {"at_s": 30, "action": "fail", "target": "q"},
              {"at_s": 40, "action": "recover", "target": "q"},
              {"at_s": 45, "action": "recover", "target": "w"}]
    doc = queue_doc({"durable": durable}, {"workers": 4, "service_ms": 5}, rate=50.0,
                    duration_s=80, events=events, dead_letter=False)
    q = run(doc, seed=6)["components"]["q"]
    if durable:
        assert q["lost"] == 0
        assert q["delivered"] == q["completed"]  # every message queued was delivered
    else:  # 10 s at 50 rps: sd about 22
        assert q["lost"] == pytest.approx(500, abs=90)
        assert q["delivered"] == pytest.approx(q["completed"] - q["lost"], abs=2)


# --- property: at least once, at most max_deliveries ---------------------------------------

@plain_python_only
@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(p=st.floats(0.0, 0.9), m=st.integers(1, 6), seed=st.integers(0, 10_000),
       mtbf=st.sampled_from([None, 3.0]), timeout=st.sampled_from([None, 0.2]))
def test_each_message_processed_at_least_once_at_most_max_deliveries(p, m, seed, mtbf,
                                                                    timeout):
    """A durable queue whose worker crashes (fail_prob, failures): every message handed out
    is delivered at most m times; one that never succeeded was delivered exactly m times and
    dead-lettered; none is lost; without a visibility timeout none succeeds twice."""
    worker = {"workers": 3, "service_ms": 20, "fail_prob": p, "mtbf_s": mtbf, "mttr_s": 0.5}
    queue = {"delivery": "at_least_once", "max_deliveries": m, "durable": True,
             "visibility_timeout_s": timeout}
    doc = queue_doc(queue, {k: v for k, v in worker.items() if v is not None}, rate=40.0,
                    duration_s=12)
    sim = Simulation(doc, seed=seed)
    q = sim.components["q"]
    seen: dict[int, Any] = {}
    oks: dict[int, int] = {}
    settles: dict[int, int] = {}
    settle = q.settle

    def watch(delivery, outcome):
        key = id(delivery.msg)
        seen[key] = delivery.msg
        oks[key] = oks.get(key, 0) + (outcome == 0)
        settles[key] = settles.get(key, 0) + 1
        settle(delivery, outcome)

    q.settle = watch
    report = sim.run()
    assert report["components"]["q"]["lost"] == 0
    dead = 0
    for key, msg in seen.items():
        assert 1 <= msg.tries <= m
        assert oks[key] == int(msg.acked) or (timeout and oks[key] > 1)
        if timeout is None:
            assert oks[key] <= 1
        # Processed, or waiting to be delivered again, or still in work, or dead-lettered
        # after m failed deliveries: never dropped.
        waiting = msg in q.buffer or settles[key] < msg.tries
        if not msg.acked and not waiting:
            assert msg.tries == m and oks[key] == 0
            dead += 1
    # (dead_lettered counts from warm-up: at most the dead seen here)
    assert report["components"]["q"]["dead_lettered"] <= dead


# --- topics ----------------------------------------------------------------------------------

def topic_doc(topic: dict[str, Any], workers: int = 3, rate: float = 120.0,
              worker: dict[str, Any] | None = None, duration_s: float = 120.0,
              events: list[dict] | None = None) -> dict[str, Any]:
    comps = [component("client", "client", rate_rps=rate, read_ratio=0.0, keys=1000),
             component("t", "topic", append_ms=0, **topic)]
    links = [link("client", "t")]
    for i in range(1, workers + 1):
        comps.append(component(f"w{i}", "worker", **(worker or {"workers": 2,
                                                                 "service_ms": 5})))
        links.append(link("t", f"w{i}"))
    return document(comps, links, duration_s, 10.0, events)


def lag_over(sim: Simulation, until: float, step: float = 0.1) -> list[float]:
    out = []
    group = sim.components["t"].groups["default"]
    t = sim.now
    while t < until:
        t += step
        sim.advance(t)
        out.append(group.lag)
    return out


def test_topic_group_redelivers_at_least_once():
    doc = topic_doc({"delivery": "at_least_once", "max_deliveries": 2, "partitions": 6},
                    worker={"workers": 2, "service_ms": 5, "fail_prob": 0.3}, duration_s=200)
    report = run(doc, seed=7)
    g = report["components"]["t"]["groups"]["default"]
    # About 22,000 messages: sd of the share 0.0018 (4 sd 0.008).
    assert g["dead_lettered"] / g["delivered"] == pytest.approx(0.09, abs=0.008)
    assert g["redelivered"] / g["delivered"] == pytest.approx(0.3, abs=0.015)
    predicted = report["predictions"]["components"]["t"]["delivery"]["default"]
    assert predicted["dead_letter_share"] == pytest.approx(qt.dead_letter_share(0.3, 2))


@pytest.mark.parametrize("session_timeout", [None, 5.0])
def test_rebalancing_moves_a_dead_workers_partitions(session_timeout):
    """w1 dies at 30 s for 30 s. Without a session timeout its partitions wait for it; with
    one (5 s) the group stops for rebalance_s (2 s) and the others take them: the lag peaks
    at the fluid rebalance backlog, then drains; its return is a second rebalance."""
    topic = {"partitions": 6, "rebalance_s": 2.0}
    if session_timeout:
        topic["session_timeout_s"] = session_timeout
    events = [{"at_s": 30, "action": "fail", "target": "w1"},
              {"at_s": 60, "action": "recover", "target": "w1"}]
    sim = Simulation(topic_doc(topic, events=events, duration_s=90), seed=8)
    lags = lag_over(sim, 59.0)
    share = sum(partition_rates(120.0, 1000, 6)[0::3]) / 120.0  # w1: partitions 0 and 3
    if session_timeout is None:
        # Its partitions stall for the whole 30 s: lag ~ 120 x share x 29.
        assert lags[-1] == pytest.approx(120 * share * 29, rel=0.1)
    else:
        # Poisson count of about 460 messages: sd 5%; the fluid peak ignores the few in
        # service, hence 12%.
        assert max(lags) == pytest.approx(qt.rebalance_backlog(120.0, share, 5.0, 2.0),
                                          rel=0.12)
        assert lags[-1] < 10  # drained long before w1 is back
    report = sim.run()
    g = report["components"]["t"]["groups"]["default"]
    if session_timeout is None:
        assert "rebalances" not in g
    else:
        assert g["rebalances"] == 2 and g["paused_s"] == pytest.approx(4.0)
    assert g["lost"] == 0 and g["lag"] < 10


@pytest.mark.parametrize("subscriptions", ["durable", "ephemeral"])
def test_ephemeral_subscription_loses_messages_while_away(subscriptions):
    """The group's only worker is down from 20 s to 40 s: a durable subscription keeps
    the 20 s of messages (about 1,600) and delivers them after; an ephemeral one loses them."""
    events = [{"at_s": 20, "action": "fail", "target": "w1"},
              {"at_s": 40, "action": "recover", "target": "w1"}]
    doc = topic_doc({"subscriptions": subscriptions, "partitions": 4}, workers=1, rate=80.0,
                    worker={"workers": 4, "service_ms": 5}, duration_s=70, events=events)
    g = run(doc, seed=9)["components"]["t"]["groups"]["default"]
    if subscriptions == "durable":
        assert g["lost"] == 0
    else:  # sd 40
        assert g["lost"] == pytest.approx(80 * 20, rel=0.1)
    assert g["lag"] < 10


def test_retention_cuts_the_lag_of_a_stalled_group():
    """The worker is down for 20 s with retention 5 s: the messages of its first 15 s
    expire (theory.retention_expired) and the lag never exceeds about rate x retention."""
    events = [{"at_s": 20, "action": "fail", "target": "w1"},
              {"at_s": 40, "action": "recover", "target": "w1"}]
    doc = topic_doc({"retention_s": 5.0, "partitions": 4}, workers=1, rate=80.0,
                    worker={"workers": 4, "service_ms": 5}, duration_s=70, events=events)
    sim = Simulation(doc, seed=10)
    lags = lag_over(sim, 45.0)
    # 400 messages within 5 s: sd 20, 4 sd.
    assert max(lags) <= 80 * 5 + 80
    g = sim.run()["components"]["t"]["groups"]["default"]
    assert g["expired"] == pytest.approx(qt.retention_expired(80.0, 20.0, 5.0), rel=0.1)


# --- bad input -------------------------------------------------------------------------------

def errors_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


def test_dead_letter_target_must_be_a_queue():
    doc = queue_doc({"delivery": "at_least_once"}, {"workers": 1, "service_ms": 1})
    doc["components"][3] = component("dlq", "worker", service_ms=1)
    assert any("components[3]: 'dlq', the dead-letter target of 'q', is a worker, not a queue"
               in e for e in errors_of(doc))


def test_dead_letter_cycle_is_an_error():
    doc = queue_doc({"delivery": "at_least_once"}, {"workers": 1, "service_ms": 1})
    doc["links"].append(link("dlq", "q", dead_letter=True))
    doc["links"].append(link("dlq", "w"))
    assert any("'q' dead-letters into a cycle (q -> dlq -> q)" in e for e in errors_of(doc))


def test_dead_letter_only_out_of_queues_and_topics():
    doc = queue_doc({}, {"workers": 1, "service_ms": 1})
    doc["links"][0]["dead_letter"] = True
    assert any(e.startswith("links[0].dead_letter:") for e in errors_of(doc))


@pytest.mark.parametrize(("cid", "field", "value"), [
    (1, "max_deliveries", 0), (1, "visibility_timeout_s", 0), (1, "delivery", "exactly"),
    (1, "durable", "yes"), (2, "fail_prob", 1.5), (2, "fail_prob", -0.1)])
def test_bad_delivery_params_name_the_field(cid, field, value):
    doc = queue_doc({}, {"workers": 1, "service_ms": 1})
    doc["components"][cid]["params"][field] = value
    assert any(f"components[{cid}].params.{field}" in e for e in errors_of(doc))


@pytest.mark.parametrize(("field", "value"), [
    ("subscriptions", "forever"), ("session_timeout_s", -1), ("rebalance_s", 1e9)])
def test_bad_topic_params_name_the_field(field, value):
    doc = topic_doc({field: value})
    assert any(f"components[1].params.{field}" in e for e in errors_of(doc))


def test_set_turns_rebalancing_and_ephemeral_subscriptions_on_mid_run():
    """A `set` at 20 s gives the topic a session timeout and an ephemeral subscription: the
    worker that dies at 30 s (back at 50 s) costs two rebalances; the group is never away
    (two of its three workers stay up), so it loses nothing."""
    events = [{"at_s": 20, "action": "set", "target": "t",
               "params": {"session_timeout_s": 5, "subscriptions": "ephemeral"}},
              {"at_s": 30, "action": "fail", "target": "w1"},
              {"at_s": 50, "action": "recover", "target": "w1"}]
    g = run(topic_doc({"partitions": 6}, events=events, duration_s=70), seed=11)[
        "components"]["t"]["groups"]["default"]
    assert g["rebalances"] == 2 and g["lost"] == 0 and g["lag"] < 10

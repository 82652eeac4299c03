"""Exchanges (simulations/components/exchange.py): routing by binding, rates against the
load model, validation, copies of a running simulation.

The routed rates are checked against the predicted ones (the client's rate times the shares
of the classes a binding takes). Counted over 200 s at 100 a second, a class of share p is
seen about 20,000 p times: the relative sd of its count is about sqrt(1 / (20,000 p)),
1.6% at p = 0.2 (measured over 10 seeds before the test was written: 1.1% at p = 0.3, 0.5%
at p = 1), so 6% is about 4 sd at the smallest share tested. What the exchange
reports against what its queues receive is exact (no latency between them).
"""

from __future__ import annotations

import pytest

from simulations import ScenarioError, Simulation, run, validate
from simulations.components.exchange import binds
from simulations.predict import predict
from tests.engine.scenarios import component, copy_continues_exactly, document, link

RATE = 100.0
CLASSES = [{"name": "orders.created", "op": "write", "share": 0.5},
           {"name": "orders.paid", "op": "write", "share": 0.3},
           {"name": "users.signup", "op": "write", "share": 0.2}]
TOLERANCE = 0.06  # relative, about 4 sd of a routed rate (module docstring)


@pytest.mark.parametrize(("kind", "binding", "key", "expected"), [
    ("fanout", None, "read", True),
    ("fanout", "ignored", "orders.paid", True),
    ("direct", "write", "write", True),
    ("direct", "write", "read", False),
    ("direct", "orders.*", "orders.paid", False),  # no wildcards in a direct binding
    ("direct", None, "write", False),
    ("topic", "orders.*", "orders.paid", True),
    ("topic", "orders.*", "orders", False),  # * is exactly one word
    ("topic", "orders.*", "orders.paid.late", False),
    ("topic", "*.*", "a.b", True),
    ("topic", "*", "a.b", False),
    ("topic", "#", "read", True),
    ("topic", "#", "a.b.c", True),
    ("topic", "orders.#", "orders", True),  # # is zero or more words
    ("topic", "orders.#", "orders.a.b", True),
    ("topic", "orders.#", "users.a", False),
    ("topic", "#.paid", "paid", True),
    ("topic", "#.paid", "x.y.paid", True),
    ("topic", "#.paid", "paid.x", False),
    ("topic", "a.#.b", "a.b", True),
    ("topic", "a.#.b", "a.x.y.b", True),
    ("topic", "a.#.b", "a.x", False),
    ("topic", "#.#", "a", True),
    ("topic", "*.#", "a", True),
    ("topic", "#.*", "a", True),
    ("topic", "*.*.#", "a", False),  # two words at least
    ("topic", "orders.paid", "orders.paid", True),
    ("topic", "orders.paid", "orders.pai", False),
])
def test_bindings_match_as_rabbitmq_does(kind, binding, key, expected):
    assert binds(kind, binding, key) is expected


def exchange_doc(kind: str, bindings: dict[str, str | None], client: dict | None = None,
                 duration_s: float = 210.0, **exchange: object) -> dict:
    """client -> exchange -> one queue per binding (by its id) -> its own worker."""
    comps = [component("c", "client", **(client or {"rate_rps": RATE, "classes": CLASSES})),
             component("x", "exchange", type=kind, **exchange)]
    links = [link("c", "x")]
    for q, binding in bindings.items():
        comps += [component(q, "queue", enqueue_ms=0),
                  component(f"{q}_w", "worker", workers=4, service_ms=2)]
        links += [link("x", q, **({} if binding is None else {"binding": binding})),
                  link(q, f"{q}_w")]
    return document(comps, links, duration_s, warmup_s=10.0)


TOPIC = {"billing": "orders.paid", "shipping": "orders.*", "audit": "#",
         "legacy": "users.*.old"}


def test_a_binding_of_many_hashes_is_matched_at_once():
    """Trying every count of words each `#` stands for took exponential time: a legal
    binding of 100 `#`s against a 30-word key never finished validating a design. The
    table of prefixes answers it in 100 x 30 steps."""
    key = ".".join(["a"] * 30)
    hashes = ".".join(["#"] * 99)
    assert not binds("topic", f"{hashes}.x", key)
    assert binds("topic", f"{hashes}.a", key)
    assert binds("topic", f"a.{hashes}.a.*", key)
    assert not binds("topic", f"{hashes}.a.a.b", key)


@pytest.mark.parametrize(("kind", "bindings", "client", "shares", "lost"), [
    ("fanout", {"a": None, "b": "anything"}, None, {"a": 1.0, "b": 1.0}, 0.0),
    ("topic", TOPIC, None, {"billing": 0.3, "shipping": 0.8, "audit": 1.0, "legacy": 0.0},
     0.0),
    ("topic", {"shipping": "orders.*"}, None, {"shipping": 0.8}, 0.2),
    ("direct", {"r": "read", "w": "write"}, {"rate_rps": RATE, "read_ratio": 0.8},
     {"r": 0.8, "w": 0.2}, 0.0),
    ("direct", {"paid": "orders.paid"}, None, {"paid": 0.3}, 0.7),
], ids=["fanout", "topic", "topic_unroutable", "direct_by_op", "direct_unroutable"])
def test_each_queue_gets_the_rate_of_what_its_binding_matches(kind, bindings, client, shares,
                                                              lost):
    doc = exchange_doc(kind, bindings, client)
    report = run(doc, seed=7)
    x = report["components"]["x"]
    seconds = 200.0
    predicted = predict(doc)["components"]
    px = predicted["x"]
    assert px["per_target_rps"] == pytest.approx(
        {q: RATE * share for q, share in shares.items() if share})
    assert px["routed_rps"] == pytest.approx(RATE * sum(shares.values()))
    assert px["unroutable_rps"] == pytest.approx(RATE * lost)
    for q, share in shares.items():
        assert predicted[q]["offered_rps"] == pytest.approx(RATE * share)
        arrived = report["components"][q]["arrivals"]
        assert x["per_target"][q] == arrived  # exact: no latency between them
        assert arrived / seconds == pytest.approx(RATE * share, rel=TOLERANCE, abs=0.0)
    assert x["routed"] == sum(x["per_target"].values())
    assert x["published"] == x["arrivals"] == x["completed"]  # the producer never waits
    # what no binding takes is dropped, and counted
    assert x["unroutable"] / seconds == pytest.approx(px["unroutable_rps"], rel=TOLERANCE,
                                                      abs=0.5)
    assert report["summary"]["success_ratio"] == 1.0


def test_publish_ms_is_the_producers_latency_and_a_failed_exchange_refuses():
    doc = exchange_doc("fanout", {"a": None}, duration_s=40.0, publish_ms=3)
    doc["events"] = [{"at_s": 20, "action": "fail", "target": "x"},
                     {"at_s": 30, "action": "recover", "target": "x"}]
    x = run(doc, seed=2)["components"]["x"]
    assert x["latency_ms"]["mean"] == pytest.approx(3.0)
    assert x["rejected"] > 0 and x["published"] == x["completed"]
    assert predict(doc)["components"]["c"]["latency_ms"]["mean"] == pytest.approx(3.0)


def test_a_set_may_change_the_exchange_type():
    doc = exchange_doc("fanout", {"paid": "orders.paid", "all": "#"}, duration_s=60.0)
    doc["events"] = [{"at_s": 35, "action": "set", "target": "x",
                      "params": {"type": "topic"}}]
    x = run(doc, seed=4)["components"]["x"]
    # 25 s with every message to both queues, then 25 s with the paid ones only to "paid"
    assert x["per_target"]["all"] == x["published"]
    assert x["per_target"]["paid"] / x["published"] == pytest.approx(0.5 + 0.5 * 0.3, rel=0.08)


def test_a_copy_of_a_running_simulation_continues_exactly():
    doc = exchange_doc("topic", TOPIC, duration_s=30.0, publish_ms=1)
    sim = Simulation(doc, seed=5)
    sim.advance(12.3)
    assert copy_continues_exactly(sim, 30)["components"]["x"]["routed"] > 0


def test_an_exchange_may_bind_a_topic_whose_groups_get_the_copies():
    doc = exchange_doc("direct", {"paid": "orders.paid"}, duration_s=40.0)
    doc["components"][2] = component("paid", "topic", partitions=2)
    report = run(doc, seed=6)["components"]
    assert report["paid"]["groups"]["default"]["delivered"] == report["x"]["per_target"]["paid"] > 0
    assert predict(doc)["components"]["paid"]["offered_rps"] == pytest.approx(0.3 * RATE)


def test_live_frames_carry_the_exchange_counts_as_the_report_does():
    doc = exchange_doc("topic", {"shipping": "orders.*"}, duration_s=30.0)
    sim = Simulation(doc, seed=3, live=True)
    sim.advance(30)
    frame, report = sim.frame()["components"]["x"], sim.report()["components"]["x"]
    assert {k: frame[k] for k in ("published", "routed", "unroutable")} == {
        k: report[k] for k in ("published", "routed", "unroutable")}
    assert frame["unroutable"] > 0


def errors_of(doc: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


def _service_target(doc: dict) -> None:
    doc["components"].append(component("s", "service", service_ms=1))
    doc["links"].append(link("x", "s"))


def _binding_off_an_exchange(doc: dict) -> None:
    doc["links"][2]["binding"] = "orders.*"  # the queue's link to its worker


@pytest.mark.parametrize(("kind", "bindings", "change", "path", "fragment"), [
    ("direct", {"q": None}, None, "links[1].binding", "a direct exchange's link needs a "
     "binding"),
    ("topic", {"q": None}, None, "links[1].binding", "a topic exchange's link needs"),
    ("topic", {"q": "orders..paid"}, None, "links[1].binding", "is not a topic pattern"),
    ("topic", {"q": "orders.pa*"}, None, "links[1].binding", "is not a topic pattern"),
    ("topic", {"q": "#x"}, None, "links[1].binding", "is not a topic pattern"),
    ("topic", {"q": "x" * 201}, None, "links[1].binding", "at most 200"),
    ("fanout", {"q": None}, _service_target, "links[3]",
     "an exchange routes messages to queues and topics (exchange -> service)"),
    ("fanout", {"q": None}, _binding_off_an_exchange, "links[2].binding",
     "only links out of an exchange take a binding"),
], ids=["direct_needs_binding", "topic_needs_binding", "empty_word", "star_in_word",
        "hash_in_word", "too_long", "to_a_service", "binding_elsewhere"])
def test_exchange_links_are_checked(kind, bindings, change, path, fragment):
    doc = exchange_doc(kind, bindings)
    if change is not None:
        change(doc)
    errors = errors_of(doc)
    assert any(e.startswith(path + ": ") and fragment in e for e in errors), errors


def test_an_exchange_needs_a_binding_and_a_valid_type():
    doc = exchange_doc("fanout", {})
    assert any(e.startswith("components[1]: ") and "exchange 'x' has no outgoing link" in e
               for e in errors_of(doc))
    doc = exchange_doc("headers", {"q": None})
    assert any(e.startswith("components[1].params.type: ") for e in errors_of(doc))
    assert validate(exchange_doc("fanout", {"q": None})).links[1].binding is None

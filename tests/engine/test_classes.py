"""Request classes: a client's mix of named classes, links that carry some classes only
(layer-7 routing, federation), a service's work per class; their validation, their
figures, and their predictions checked against runs at fixed seeds.

Tolerances are stated beside each check; the spread of each simulated figure was measured
over seeds 1-5 when the check was written, and each tolerance is at least 3 of its standard
deviations.
"""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import ScenarioError, Simulation, validate
from simulations import theory as qt
from simulations.predict import predict
from tests.engine.scenarios import copy_continues_exactly

MIX = [{"name": "GET /feed", "share": 0.7},
       {"name": "GET /profile", "share": 0.2, "keys": 500, "key_skew": 1.0},
       {"name": "POST /photo", "share": 0.1, "op": "write"}]


def design(classes=None, *, rate=200.0, workers=1, service_ms=2.0, class_ms=None,
           duration=400.0, seed=1, links=None, extra=()) -> dict:
    """A client with `classes` calling one service (its own work only, unless `links`)."""
    params = {"workers": workers, "service_ms": service_ms}
    if class_ms is not None:
        params["class_ms"] = class_ms
    return {"format": "playground.scenario/v1", "name": "classes", "seed": seed,
            "duration_s": duration, "warmup_s": 20,
            "components": [{"id": "c", "kind": "client",
                            "params": {"rate_rps": rate, "classes": classes or MIX}},
                           {"id": "svc", "kind": "service", "params": params}, *extra],
            "links": [{"from": "c", "to": "svc"}, *(links or [])]}


DB = {"id": "db", "kind": "database", "params": {"read_ms": 4.0, "write_ms": 8.0}}


def errors(doc) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value.errors


# --- validation ------------------------------------------------------------------------------

def test_at_most_50_classes_per_client():
    many = [{"name": f"GET /{i}", "share": 1} for i in range(51)]
    assert errors(design(many)) == ["components[0].params.classes: must have at most 50 items"]
    validate(design(many[:50]))


@pytest.mark.parametrize(("bad", "message"), [
    ({"name": "a", "share": 0}, "components[0].params.classes[1].share: must be > 0"),
    ({"name": "a", "share": -1}, "components[0].params.classes[1].share: must be > 0"),
    ({"name": "", "share": 1}, "components[0].params.classes[1].name: must have at least 1 "
                               "characters"),
    ({"name": " a", "share": 1}, "components[0].params.classes[1].name: must not start or end "
                                 "with a space"),
    ({"name": "x" * 61, "share": 1}, "components[0].params.classes[1].name: must have at most "
                                     "60 characters"),
    ({"name": "a", "share": 1, "op": "delete"}, "components[0].params.classes[1].op: must be "
                                                "one of 'read' or 'write'"),
    ({"name": "a", "share": 1, "colour": "red"}, "components[0].params.classes[1].colour: "
                                                 "unknown key"),
    ({"name": "GET /feed", "share": 1}, "components[0].params.classes[1].name: duplicate "
                                        "class 'GET /feed' (also "
                                        "components[0].params.classes[0])"),
])
def test_a_bad_class_is_named(bad, message):
    assert errors(design([MIX[0], bad])) == [message]


def test_shares_are_weights():
    """70/20/10 is the same mix as 0.7/0.2/0.1: the same run, class by class."""
    weights = [dict(c, share=c["share"] * 100) for c in MIX]
    a = Simulation(design(duration=60)).run()["components"]["c"]["classes"]
    b = Simulation(design(weights, duration=60)).run()["components"]["c"]["classes"]
    assert a == b


def test_a_class_with_nowhere_to_go_names_the_class_and_the_component():
    doc = design(extra=[{"id": "lb", "kind": "load_balancer"}, DB])
    doc["links"] = [{"from": "c", "to": "lb"},
                    {"from": "lb", "to": "svc", "classes": ["GET /feed", "GET /profile"]},
                    {"from": "svc", "to": "db"}]
    assert errors(doc) == ["components[2]: load_balancer 'lb' receives class 'POST /photo' "
                           "(writes) but none of its links carries it"]


def test_names_a_link_or_service_gives_must_be_sent():
    doc = design(class_ms={"GET /fed": 3}, extra=[DB],
                 links=[{"from": "svc", "to": "db", "classes": ["POST /foto"]}])
    assert errors(doc) == ["links[1].classes[0]: no client sends class 'POST /foto'",
                           "components[1].params.class_ms.GET /fed: no client sends class "
                           "'GET /fed'"]


def test_classes_cannot_change_while_running():
    doc = design()
    doc["events"] = [{"at_s": 10, "action": "set", "target": "c",
                      "params": {"classes": [{"name": "x", "share": 1}]}}]
    assert errors(doc) == ["events[0].params.classes: cannot change while running (it shapes "
                           "the design)"]


# --- figures ---------------------------------------------------------------------------------

def test_each_class_gets_its_share_and_its_figures():
    report = Simulation(design(duration=200)).run()["components"]["c"]
    classes = report["classes"]
    assert list(classes) == [c["name"] for c in MIX]
    total = report["requests"]
    assert sum(c["requests"] for c in classes.values()) == total
    assert sum(c["succeeded"] for c in classes.values()) == report["succeeded"]
    for spec in MIX:
        got = classes[spec["name"]]
        assert got["op"] == spec.get("op", "read")
        # binomial: 4 standard deviations
        sd = math.sqrt(total * spec["share"] * (1 - spec["share"]))
        assert abs(got["requests"] - total * spec["share"]) <= 4 * sd
        assert got["failed"] == 0 and got["latency_ms"]["p99"] >= got["latency_ms"]["mean"]


def test_live_frames_give_figures_per_class():
    sim = Simulation(design(duration=30), live=True)
    sim.advance(25)
    frame = sim.frame()["components"]["c"]
    figures = frame["classes"]
    assert set(figures) == {c["name"] for c in MIX}
    assert figures["GET /feed"]["ok_rps"] == pytest.approx(140, rel=0.25)  # 1 s of Poisson
    assert figures["POST /photo"]["error_ratio"] == 0.0
    # percentiles over the last 5 s, as the client's own: the feed is most of its requests
    feed = figures["GET /feed"]
    assert feed["p50"] <= feed["p95"] <= feed["p99"]
    assert feed["p99"] == pytest.approx(frame["p99"], rel=0.5)
    # a frame is the same however the run was sliced
    other = Simulation(design(duration=30), live=True)
    for t in (3.1, 7.77, 25):
        other.advance(t)
    assert other.frame()["components"]["c"]["classes"] == figures


# --- predictions beside the runs ------------------------------------------------------------

def mixture(shares: list[float], means_s: list[float]) -> tuple[float, float]:
    """Mean and second moment of a mixture of exponential service times."""
    mean = sum(p * m for p, m in zip(shares, means_s, strict=True))
    second = sum(p * 2 * m * m for p, m in zip(shares, means_s, strict=True))
    return mean, second


def test_one_worker_shares_its_wait_exactly_as_pollaczek_khinchine():
    """M/G/1 with a mixture of two exponential classes (2 ms and 20 ms) is exact: the wait
    lambda E[S^2] / (2 (1 - rho)), shared by both; each class's response = wait + own."""
    classes = [{"name": "fast", "share": 0.8}, {"name": "slow", "share": 0.2}]
    doc = design(classes, rate=100.0, class_ms={"slow": 20.0}, duration=3000)
    mean, second = mixture([0.8, 0.2], [0.002, 0.020])
    rho = 100.0 * mean
    wait = 100.0 * second / (2 * (1 - rho))
    assert qt.mg1(100.0, mean, math.sqrt(second / mean**2 - 1)).mean_wait == \
        pytest.approx(wait)
    pred = predict(doc)["components"]["svc"]
    assert pred["model"] == "M/G/1 (Pollaczek-Khinchine)"
    assert pred["mean_wait_ms"] == pytest.approx(wait * 1000)
    got = Simulation(doc).run()["components"]
    # rho = 0.56: the run's mean wait is within 8% (seeds 1-5: mean -1.1%, sd 2.5%), each
    # class's response within 7% (sd 2.2%)
    assert got["svc"]["mean_wait_ms"] == pytest.approx(wait * 1000, rel=0.08)
    for name, own in (("fast", 0.002), ("slow", 0.020)):
        expected = (wait + own) * 1000
        assert pred["classes"][name]["response_ms"] == pytest.approx(expected)
        assert got["c"]["classes"][name]["latency_ms"]["mean"] == pytest.approx(expected,
                                                                                rel=0.07)


def test_a_pool_of_workers_shares_an_allen_cunneen_wait():
    """Four workers, classes of 5 and 40 ms (SCV of the mixture 2.9): Allen-Cunneen's wait
    is an approximation, a little above the run's (seeds 1-5: -6.5% on average, sd 2.8%),
    so within 15%; each class's response within 10% (light: -4.4%, sd 1.8%; heavy: -1.2%,
    sd 0.8%)."""
    classes = [{"name": "light", "share": 0.75}, {"name": "heavy", "share": 0.25}]
    doc = design(classes, rate=200.0, workers=4, service_ms=5.0, class_ms={"heavy": 40.0},
                 duration=2000)
    mean, second = mixture([0.75, 0.25], [0.005, 0.040])
    cv = math.sqrt(second / mean**2 - 1)
    wait = qt.mgc_allen_cunneen(200.0, mean, 4, cv).mean_wait
    pred = predict(doc)["components"]["svc"]
    assert pred["model"] == "Allen-Cunneen approximation"
    assert pred["mean_wait_ms"] == pytest.approx(wait * 1000)
    got = Simulation(doc).run()["components"]
    assert got["svc"]["mean_wait_ms"] == pytest.approx(wait * 1000, rel=0.15)
    for name, own in (("light", 0.005), ("heavy", 0.040)):
        assert pred["classes"][name]["response_ms"] == pytest.approx((wait + own) * 1000)
        assert got["c"]["classes"][name]["latency_ms"]["mean"] == pytest.approx(
            pred["classes"][name]["response_ms"], rel=0.10)


def federation(seed: int = 1) -> dict:
    """One service; users' classes to one database, forums' to another."""
    classes = [{"name": "GET /user", "share": 0.6},
               {"name": "GET /forum", "share": 0.3, "keys": 500, "key_skew": 1.0},
               {"name": "POST /forum", "share": 0.1, "op": "write"}]
    return design(classes, workers=8, service_ms=2.0, seed=seed, duration=600, extra=[
        {"id": "users", "kind": "database", "params": {"workers": 2, "read_ms": 4,
                                                       "write_ms": 8}},
        {"id": "forums", "kind": "database", "params": {"workers": 2, "read_ms": 4,
                                                        "write_ms": 8}}],
        links=[{"from": "svc", "to": "users", "classes": ["GET /user"]},
               {"from": "svc", "to": "forums", "classes": ["GET /forum", "POST /forum"]}])


def test_federation_gives_each_database_the_classes_it_owns():
    doc = federation()
    pred = predict(doc)["components"]
    assert pred["users"]["offered_rps"] == pytest.approx(120.0)
    assert pred["forums"]["offered_rps"] == pytest.approx(80.0)
    assert pred["forums"]["classes"] == {"GET /forum": {"offered_rps": pytest.approx(60.0)},
                                         "POST /forum": {"offered_rps": pytest.approx(20.0)}}
    got = Simulation(doc).run()["components"]
    measured = doc["duration_s"] - doc["warmup_s"]
    for db in ("users", "forums"):
        lam = pred[db]["offered_rps"]
        # Poisson counts: 4 standard deviations
        assert abs(got[db]["arrivals"] - lam * measured) <= 4 * math.sqrt(lam * measured)
        # seeds 1-5: sd 0.8%
        assert got[db]["utilisation"] == pytest.approx(pred[db]["utilisation"], rel=0.03)
    for name, figures in pred["c"]["classes"].items():  # wait + own + the database's
        assert got["c"]["classes"][name]["latency_ms"]["mean"] == pytest.approx(
            figures["response_ms"], rel=0.03)  # seeds 1-5: mean 0.0%, sd 0.6%


# --- routing ---------------------------------------------------------------------------------

class Watched(Simulation):
    """Records the route key of every request sent along each link (every request is a
    dot: the engine hands each to `dot` as it enters a link)."""

    def __init__(self, doc):
        self.seen: set[tuple[int, str]] = set()
        super().__init__(doc, dots_per_s=1e9)

    def dot(self, link, direction, req, outcome=-1):
        if direction == 0:
            self.seen.add((link, req.cls))


NAMES = ["GET /a", "GET /b", "POST /c", "PUT /d"]


@st.composite
def routed_designs(draw) -> dict:
    n = draw(st.integers(1, 4))
    classes = [{"name": NAMES[i], "share": draw(st.integers(1, 5)),
                "op": "write" if NAMES[i][0] in "PU" else "read"} for i in range(n)]
    front = draw(st.sampled_from(["load_balancer", "reverse_proxy", "service", "cache"]))
    targets = draw(st.integers(1, 3))
    params = {"cache": {"capacity_keys": 10}, "service": {"service_ms": 1.0}}.get(front, {})
    comps = [{"id": "c", "kind": "client",
              "params": {"rate_rps": 50.0, "keys": 20, "classes": classes}},
             {"id": "front", "kind": front, "params": params}]
    links = [{"from": "c", "to": "front"}]
    for j in range(targets):
        comps.append({"id": f"t{j}", "kind": draw(st.sampled_from(["service", "database"])),
                      "params": {}})
        comps[-1]["params"] = {"service_ms": 1.0} if comps[-1]["kind"] == "service" else \
            {"read_ms": 1.0, "write_ms": 2.0}
        link = {"from": "front", "to": f"t{j}"}
        carried = draw(st.none() | st.lists(st.sampled_from(NAMES[:n]), unique=True,
                                            max_size=n))
        if carried is not None:
            link["classes"] = carried
        links.append(link)
    return {"format": "playground.scenario/v1", "name": "routed", "seed": 3,
            "duration_s": 5.0, "components": comps, "links": links}


@given(routed_designs())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_classes_never_take_a_link_that_does_not_carry_them(doc):
    try:
        scenario = validate(copy.deepcopy(doc))
    except ScenarioError as exc:  # a class left with nowhere to go: named, with the front
        assert all("receives class '" in e and "'front'" in e for e in exc.errors), exc.errors
        return
    sim = Watched(scenario)
    sim.run()
    assert sim.seen
    for index, key in sim.seen:
        assert scenario.links[index].carries(key), (index, key)


def test_a_copy_mid_run_continues_exactly():
    """Checkpoints (replay) copy a running simulation: a copy's classes go on as the
    original's would."""
    doc = federation()
    doc["duration_s"] = 60
    whole = Simulation(doc, live=True)
    whole.advance(30)
    copy_continues_exactly(whole, 60)


def test_a_class_without_keys_of_its_own_follows_its_clients_set():
    """`set` keys on the client: the classes that take the client's keys draw from the new
    range, a class with its own keys keeps them."""
    doc = design([{"name": "mine", "share": 1, "keys": 7}, {"name": "theirs", "share": 1}],
                 duration=30)
    doc["events"] = [{"at_s": 10, "action": "set", "target": "c", "params": {"keys": 1}}]
    sim = Simulation(doc)
    client = sim.components["c"]
    sim.advance(15)
    assert [chooser.n for chooser in client._choosers] == [7, 1]

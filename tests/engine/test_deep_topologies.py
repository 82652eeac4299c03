"""The largest designs the validator accepts run: no recursion along a request's path.

A chain of 500 components (the limit), forwarders handing requests on at once, a service
making hundreds of calls that are answered at once, 2,000 links: each one simulates, copies
(replay checkpoints pickle the simulation), replays, predicts and grades, in plain Python
and compiled. Designs are short and slow (a few requests) so the file runs in seconds.
"""

from __future__ import annotations

import copy
import json
import pickle
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import LIMITS, Simulation, validate
from simulations.cli import main as cli_main
from simulations.grading import check_goals, grade
from simulations.kernel import Kernel
from simulations.predict import predict
from simulations.replay import Replayer
from tests.engine.scenarios import component, document, link
from tests.engine.strategies import params_for

MAX = LIMITS["components"]
SLOW_CLIENT = {"rate_rps": 20, "keys": 50}
END = component("end", "service", workers=4, service_ms=0.5)
# Kinds that pass a request on, with parameters that hand it on at once where they can.
FORWARDERS = {
    "service": {"workers": 4, "service_ms": 0},
    "load_balancer": {},
    "cache": {"capacity_keys": 5, "hit_ms": 0},
    "dns": {"lookup_ms": 0},
    "cdn": {"edge_ms": 0},
    "reverse_proxy": {"tls_ms": 0},
    "rate_limiter": {"rate_rps": 1000},
    "waf": {"inspect_ms": 0},
    "shard_router": {},
}


def chain_of(kinds: list[str], length: int, duration_s: float = 1.0,
             latency_ms: float = 0.0, **params: Any) -> dict[str, Any]:
    """client -> `length` components, of `kinds` in turn -> a service: the longest path
    allowed with length MAX - 2."""
    comps = [component("client", "client", **SLOW_CLIENT)]
    for i in range(length):
        kind = kinds[i % len(kinds)]
        comps.append(component(f"{kind}{i}", kind, **FORWARDERS[kind], **params))
    comps.append(END)
    ids = [c["id"] for c in comps]
    links = [link(a, b, latency_ms=latency_ms) for a, b in zip(ids, ids[1:], strict=False)]
    return document(comps, links, duration_s)


def sync_fan_out(queues: int) -> dict[str, Any]:
    """A service calls `queues` queues one after another, each answering at once."""
    comps = [component("client", "client", **SLOW_CLIENT),
             component("hub", "service", workers=4, service_ms=0.5),
             component("work", "worker", workers=4, service_ms=0.5)]
    links = [link("client", "hub")]
    for i in range(queues):
        comps.append(component(f"q{i}", "queue", enqueue_ms=0))
        links += [link("hub", f"q{i}"), link(f"q{i}", "work")]
    return document(comps, links, 1.0)


def bipartite(front: int, back: int) -> dict[str, Any]:
    """client -> `front` services, each calling all `back` services: front * (back + 1)
    links (2,000 with 40 x 49)."""
    comps = [component("client", "client", **SLOW_CLIENT)]
    comps += [component(f"a{i}", "service", workers=2, service_ms=0.5) for i in range(front)]
    comps += [component(f"b{j}", "service", workers=2, service_ms=0.1) for j in range(back)]
    links = [link("client", f"a{i}") for i in range(front)]
    links += [link(f"a{i}", f"b{j}") for i in range(front) for j in range(back)]
    return document(comps, links, 1.0)


def simulated(doc: dict[str, Any], until: float | None = None, seed: int = 1) -> Simulation:
    """`doc` simulated (to its end unless `until`): some requests got through. (Reports
    are left to the tests of predictions: they are what takes time on 500 components.)"""
    sim = Simulation(doc, seed=seed)
    sim.advance(sim.duration_s if until is None else until)
    client = sim.components["client"]
    assert client.total_ok > 0, client.report(sim.now)
    return sim


def states(sim: Simulation) -> dict[str, Any]:
    return {cid: c.report(sim.now) for cid, c in sim.components.items()}


# --- chains --------------------------------------------------------------------------------

@pytest.mark.parametrize("kinds", [sorted(FORWARDERS), ["load_balancer"]])
def test_a_chain_of_the_most_components_runs(kinds):
    """Every kind that passes requests on, each handing them on at once."""
    simulated(chain_of(kinds, MAX - 2))


def test_a_chain_of_queues_and_workers_runs():
    comps, links, prev = [component("client", "client", **SLOW_CLIENT)], [], "client"
    for i in range(MAX // 2 - 1):
        comps += [component(f"q{i}", "queue", enqueue_ms=0),
                  component(f"w{i}", "worker", workers=2, service_ms=0)]
        links += [link(prev, f"q{i}"), link(f"q{i}", f"w{i}")]
        prev = f"w{i}"
    sim = Simulation(document(comps, links, 1.0), seed=1)
    sim.advance(1.0)
    assert sim.components[prev].total_ok > 0


def test_a_chain_with_timeouts_and_a_failure_answers_every_caller():
    """A failure deep down is answered up through every service, each with its own calls."""
    doc = chain_of(["service"], MAX - 2, timeout_ms=5000)
    doc["events"] = [{"at_s": 0.0, "action": "fail", "target": "end"}]
    sim = Simulation(doc, seed=1)
    sim.advance(1.0)
    client = sim.components["client"].report(1.0)
    assert client["failures"]["down"] == client["requests"] > 0


def test_the_cli_runs_a_chain_of_499_services(tmp_path, capsys):
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain_of(["service"], MAX - 2)))
    assert cli_main(["run", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["succeeded"] > 0


# --- wide ----------------------------------------------------------------------------------

def test_a_service_calling_hundreds_of_components_that_answer_at_once():
    sim = simulated(sync_fan_out(MAX - 3))
    assert sim.components["hub"].total_ok == sim.components["q0"].total_ok > 0


def test_two_thousand_links_run():
    doc = bipartite(40, 49)
    assert len(doc["links"]) == LIMITS["links"]
    simulated(doc)


# --- copies, replays, grades ----------------------------------------------------------------

def test_a_deep_run_copies_and_continues_identically():
    """Mid-run, with requests in flight all along the chain (what a checkpoint pickles)."""
    passing = [kind for kind in sorted(FORWARDERS) if kind not in ("cache", "cdn")]  # no hits
    doc = chain_of(passing, MAX - 2, duration_s=2.0, latency_ms=0.5)
    sim = Simulation(doc, seed=2, dots_per_s=50)
    sim.advance(1.0)
    assert sum(c.in_flight() for c in sim.components.values()) > MAX  # deep in flight
    twin = copy.deepcopy(sim)
    restored = pickle.loads(pickle.dumps(sim))
    for s in (sim, twin, restored):
        s.advance(2.0)
    assert states(twin) == states(sim) == states(restored)
    assert twin.frame() == sim.frame() == restored.frame()


def test_a_deep_run_replays_and_seeks():
    doc = chain_of(["service"], MAX - 2, duration_s=2.0, latency_ms=0.5)
    commands = [{"at_s": 0.5, "action": "fail", "target": "service7", "params": {}}]
    replayer = Replayer(doc, 3, commands, until_s=2.0, every_s=0.5)
    replayer.advance(2.0)
    end = replayer.frame()
    replayer.seek(0.7)
    replayer.seek(2.0)
    assert replayer.frame()["components"] == end["components"]


def test_a_deep_design_predicts_and_grades():
    """Predictions follow a key's path through every cache and router of it."""
    doc = chain_of(["cache", "shard_router"], MAX - 2)
    assert "error" not in predict(doc)
    goals = check_goals({"p99_ms_max": 1000, "seeds": [1, 2], "duration_s": 1.0,
                         "warmup_s": 0.0})
    result = grade(doc, doc, goals)
    assert result["gradable"] and result["met"], result


# --- the kernel's hand-offs -----------------------------------------------------------------

def test_hand_offs_run_depth_first_in_the_order_made():
    """What nested calls would do, but one hand-off deep: A's hand-offs (and theirs) run
    before B, which A's caller handed on after A."""
    kernel, order = Kernel(), []
    tree = {"root": ["A", "B"], "A": ["A1", "A2"], "A1": ["A1x"], "B": ["B1"]}

    def visit(name):
        order.append(name)
        for child in tree.get(name, []):
            kernel.hand(visit, child)

    kernel.hand(visit, "root")
    assert order == ["root", "A", "A1", "A1x", "A2", "B", "B1"]
    assert not kernel.handing and not kernel.handed


def test_a_chain_of_hand_offs_keeps_the_stack_flat():
    kernel, depths = Kernel(), []

    def step(n):
        depths.append(len(_stack()))
        if n:
            kernel.hand(step, n - 1)

    kernel.hand(step, 10 * sys.getrecursionlimit())
    assert max(depths) == min(depths)


def _stack() -> list:
    frame, out = sys._getframe(), []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


# --- generated deep and wide designs ----------------------------------------------------------

PASS_ON = sorted(FORWARDERS)  # kinds a chain may hold
LEAVES = ("service", "database", "kv_store")


@st.composite
def stage(draw) -> tuple[str, dict[str, Any]]:
    """A pass-on kind with random parameters, or ones that hand requests on at once."""
    kind = draw(st.sampled_from(PASS_ON))
    params = draw(params_for(kind))
    if draw(st.booleans()):
        params.update(FORWARDERS[kind])
    if kind == "service":
        params["retries"] = 0
    params.pop("mtbf_s", None)  # failures are drawn as events
    return kind, params


@st.composite
def deep_and_wide_scenarios(draw) -> dict[str, Any]:
    """A client, a chain of pass-on kinds, then a fan-out: a service calling many leaves, or
    a balancer over them. Deep (a chain of 400 to 497) or wide (hundreds of leaves), up to
    the limits; a few slow requests. The chain repeats a few drawn stages (drawing 500
    would overrun hypothesis's data), mostly with no latency at all, so that every
    hand-off happens at once all along it. Retries are left out: retrying at every one of
    500 levels multiplies the work (a real design's problem, not the engine's)."""
    deep = draw(st.booleans())
    length = draw(st.integers(MAX - 100, MAX - 3) if deep else st.integers(1, 20))
    width = draw(st.integers(1, MAX - 2 - length))
    stages = draw(st.lists(stage(), min_size=1, max_size=6))
    latencies = [0.0] if draw(st.integers(0, 3)) else \
        draw(st.lists(st.floats(0.0, 2.0), min_size=1, max_size=6))
    comps = [component("client", "client", rate_rps=draw(st.floats(2.0, 10.0)),
                       keys=draw(st.integers(1, 200)))]
    for i in range(length):
        kind, params = stages[i % len(stages)]
        comps.append(component(f"p{i}", kind, **params))
    fan = draw(st.sampled_from(["service", "load_balancer"]))
    comps.append(component("fan", fan, **({"workers": 4, "service_ms": 0.2}
                                          if fan == "service" else {})))
    leaf = draw(st.sampled_from(LEAVES))
    leaf_params = {"service": {"workers": 2, "service_ms": 0.5},
                   "database": {"read_ms": 0.5, "write_ms": 1.0}, "kv_store": {}}[leaf]
    comps += [component(f"leaf{j}", leaf, **leaf_params) for j in range(width)]
    ids = [c["id"] for c in comps[:length + 2]] + [f"leaf{j}" for j in range(width)]
    froms = ids[:length + 1] + ["fan"] * width
    links = [link(a, b, latency_ms=latencies[i % len(latencies)])
             for i, (a, b) in enumerate(zip(froms, ids[1:], strict=True))]
    events = [{"at_s": draw(st.floats(0.0, 0.5)), "action": "fail",
               "target": draw(st.sampled_from([c["id"] for c in comps[1:]]))}
              for _ in range(draw(st.integers(0, 2)))]
    return document(comps, links, 0.5, events=events)


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(deep_and_wide_scenarios(), st.integers(0, 2**16))
def test_every_accepted_deep_or_wide_design_runs_copies_predicts_and_grades(doc, seed):
    validate(doc)
    sim = Simulation(doc, seed=seed)
    sim.advance(0.25)
    twin = copy.deepcopy(sim)
    twin.advance(0.5)
    report = sim.run()
    assert states(twin) == states(sim)
    client = report["components"]["client"]
    assert client["succeeded"] + client["failed"] <= client["requests"]
    assert "error" not in report["predictions"], report["predictions"]
    goals = check_goals({"success_ratio_min": 0.0, "seeds": [seed], "duration_s": 0.5,
                         "warmup_s": 0.0})
    assert grade(doc, doc, goals)["gradable"]


def test_a_chain_of_cdns_with_dynamic_reads_predicts():
    """A CDN's dynamic reads pass whatever their key. Followed as a stream of their own
    beside the static misses, the streams doubled at every CDN of a chain: 2^n of them (the
    property above found a chain of 424 that ran out of memory)."""
    cdns = [component(f"cdn{i}", "cdn", capacity_keys=13, dynamic_ratio=0.2)
            for i in range(60)]
    comps = [component("client", "client", rate_rps=5.0, keys=150), *cdns,
             component("origin", "service", workers=4, service_ms=1.0)]
    ids = [c["id"] for c in comps]
    doc = document(comps, [link(a, b) for a, b in zip(ids, ids[1:], strict=False)], 0.5)
    predictions = predict(validate(doc))
    # a request passes each CDN when it is dynamic there or a static miss: fewer the
    # further down the chain (one stream, as many as 2^8 gave the same to the last digits)
    offered = [predictions["components"][f"cdn{i}"]["offered_rps"] for i in range(60)]
    assert offered == sorted(offered, reverse=True) and 0 < offered[-1] < offered[0] <= 5.0
    assert predictions["components"]["origin"]["utilisation"] > 0

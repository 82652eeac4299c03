"""Live use of the engine: advance in slices, read frames, apply commands, replay.

`Simulation(doc, seed, dots_per_s)`: `advance(t)`, `frame()`, `apply(command)`,
`command_log`, `Simulation.replay(doc, seed, commands, until=...)`, `report()`.
"""

from __future__ import annotations

import json
import math
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import ScenarioError, Simulation, run
from simulations.components.base import OUTCOME_NAMES
from tests.engine.strategies import contract_example, valid_scenarios

MAX_DOTS = 600  # the engine keeps at most this many dots per frame
POOLS = ("service", "database", "worker")
QUEUED = ("service", "database", "queue")
OUTCOMES = range(-1, len(OUTCOME_NAMES))  # pending, then the outcome codes


def without_wall(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "wall_s"}


def live_doc(duration_s: float = 60, warmup_s: float = 0, events: bool = False,
             **client: Any) -> dict[str, Any]:
    """The contract's example, shorter; with `events`, app2 fails at 10 s and recovers at
    20 s."""
    doc = contract_example()
    doc.update(duration_s=duration_s, warmup_s=warmup_s)
    doc["events"] = [{"at_s": 10, "action": "fail", "target": "app2"},
                     {"at_s": 20, "action": "recover", "target": "app2"}] if events else []
    doc["components"][0]["params"].update(client)
    return doc


def call_links(doc: dict[str, Any]) -> dict[int, tuple[str, str]]:
    return {i: (spec["from"], spec["to"]) for i, spec in enumerate(doc["links"])
            if spec.get("kind", "call") == "call"}


def link_rates(frame: dict[str, Any]) -> dict[int, tuple[float, float]]:
    return {i: (rps, err) for i, rps, err in frame["links"]}


def window(sim: Simulation, start: float, end: float) -> dict[str, Any]:
    """Advance to `start`, take a frame, advance to `end` and return the frame there (its
    rates cover the simulated second before the last multiple of WINDOW_S)."""
    sim.advance(start)
    sim.frame()
    sim.advance(end)
    return sim.frame()


# --- frames -------------------------------------------------------------------------------------

def check_frame(frame: dict[str, Any], doc: dict[str, Any], now: float) -> None:
    json.dumps(frame, allow_nan=False)  # plain JSON, no NaN
    assert set(frame) >= {"t", "components", "links", "dots", "summary"}
    assert frame["t"] == pytest.approx(now, abs=1e-4)
    kinds = {c["id"]: c["kind"] for c in doc["components"]}
    assert set(frame["components"]) == set(kinds)
    for cid, state in frame["components"].items():
        assert isinstance(state["up"], bool), cid
        assert isinstance(state["in_flight"], int) and state["in_flight"] >= 0, cid
        assert state["rps"] >= 0 and state["err_rps"] >= 0, cid
        if kinds[cid] in POOLS:
            assert 0.0 <= state["util"] <= 1.0, cid
        if kinds[cid] in QUEUED:
            assert isinstance(state["queue"], int) and state["queue"] >= 0, cid
    calls = call_links(doc)
    assert sorted(i for i, _, _ in frame["links"]) == sorted(calls)
    for _, rps, err in frame["links"]:
        assert rps >= 0 and err >= 0
    assert isinstance(frame["dots"], list) and len(frame["dots"]) <= MAX_DOTS
    for dot in frame["dots"]:
        link, direction, outcome, hit = dot
        assert link in calls and direction in (0, 1) and outcome in OUTCOMES and hit in (0, 1)
        if direction == 0:
            assert outcome == -1, dot  # on the way there, nothing is decided yet
        else:
            assert outcome >= 0, dot
    summary = frame["summary"]
    for key in ("p50", "p95", "p99"):
        assert key in summary
    quantiles = [summary[k] for k in ("p50", "p95", "p99")]
    if quantiles[0] is not None:
        assert quantiles == sorted(quantiles)
        assert all(math.isfinite(q) and q >= 0 for q in quantiles)
    assert 0.0 <= summary["error_ratio"] <= 1.0
    assert summary["ok_rps"] >= 0


def test_frames_carry_the_live_state():
    doc = live_doc(duration_s=30, events=True)
    sim = Simulation(doc, dots_per_s=200)
    frames = []
    for i in range(1, 61):
        sim.advance(i * 0.5)
        frames.append(sim.frame())
        check_frame(frames[-1], doc, i * 0.5)
    assert any(f["dots"] for f in frames), "dots_per_s=200 draws dots"
    assert any(dot[3] == 1 for f in frames for dot in f["dots"]), "cache hits are marked"
    steady = frames[8]  # [4, 4.5] s
    assert steady["components"]["lb"]["rps"] == pytest.approx(400, rel=0.35)
    assert steady["components"]["app1"]["util"] <= 1.0
    assert steady["summary"]["p50"] is not None
    assert steady["summary"]["p50"] <= steady["summary"]["p95"] <= steady["summary"]["p99"]
    # The scheduled failure of app2 (10 s to 20 s) shows in its state.
    assert frames[25]["components"]["app2"]["up"] is False  # t = 13 s
    assert frames[45]["components"]["app2"]["up"] is True  # t = 23 s
    # Rolling percentiles follow the recent past, not the whole run.
    assert frames[-1]["summary"]["p99"] is not None


def test_dots_are_bounded_per_frame():
    sim = Simulation(live_doc(duration_s=30), dots_per_s=10_000)
    sim.advance(10)
    frame = sim.frame()
    assert len(frame["dots"]) == MAX_DOTS
    assert sim.frame()["dots"] == []  # dots are handed out once


def test_no_dots_without_dots_per_s():
    sim = Simulation(live_doc(duration_s=10))
    sim.advance(2)
    assert sim.frame()["dots"] == []


def test_frame_rates_cover_the_second_before_the_last_window_end():
    """Rates are taken at multiples of WINDOW_S over the second before, never relative to
    the previous frame: a frame at 20.2 s counts what crossed a link in [19, 20]."""
    sim = Simulation(live_doc(duration_s=60), seed=1, live=True)
    sent = {}
    for t in (19.0, 20.0):
        sim.advance(t)
        sent[t] = sim.links[0].total
    sim.advance(20.2)
    frame = sim.frame()
    rps, err = link_rates(frame)[0]
    assert rps == float(f"{sent[20.0] - sent[19.0]:.3g}") and err == 0
    assert frame["summary"]["error_ratio"] == 0
    # The client's link carries every request: ~400 rps over ten seconds of frames.
    quiet = [window(sim, t - 0.5, t) for t in range(21, 31)]
    assert sum(link_rates(f)[0][0] for f in quiet) / 10 == pytest.approx(400, rel=0.1)
    assert sum(f["summary"]["ok_rps"] for f in quiet) / 10 == pytest.approx(400, rel=0.1)


def test_client_rps_in_frames():
    sim = Simulation(live_doc(duration_s=30), seed=1)
    frame = window(sim, 5, 15)
    assert frame["components"]["users"]["rps"] == pytest.approx(400, rel=0.15)


def test_first_frame_of_a_live_run_has_percentiles():
    sim = Simulation(live_doc(duration_s=30), seed=1, live=True)
    sim.advance(3)
    frame = sim.frame()
    assert frame["summary"]["ok_rps"] > 0
    assert frame["summary"]["p50"] is not None


def test_frames_have_the_same_shape_at_zero_span():
    doc = live_doc(duration_s=30)
    sim = Simulation(doc, dots_per_s=100)
    check_frame(sim.frame(), doc, 0.0)  # before any advance
    sim.advance(2)
    sim.frame()
    check_frame(sim.frame(), doc, 2.0)  # twice at the same time


def test_advance_never_goes_backwards():
    sim = Simulation(live_doc(duration_s=30))
    sim.advance(5)
    sim.advance(3)
    assert sim.now == 5
    assert sim.frame()["t"] == 5


# --- slices, frames and dots never change the results ----------------------------------------

def test_hundred_slices_equal_one_advance():
    doc = live_doc(duration_s=40, warmup_s=5, events=True)
    whole = Simulation(doc, seed=11)
    whole.advance(40)
    sliced = Simulation(doc, seed=11, dots_per_s=200)
    for i in range(1, 101):
        sliced.advance(40 * i / 100)
        sliced.frame()
    assert without_wall(sliced.report()) == without_wall(whole.report())
    assert without_wall(whole.report()) == without_wall(run(doc, seed=11))


def test_uneven_slices_and_slices_at_event_times():
    doc = live_doc(duration_s=30, warmup_s=2, events=True, timeout_ms=60, retries=1)
    whole = Simulation(doc, seed=5)
    whole.advance(30)
    sliced = Simulation(doc, seed=5)
    for t in (0, 0.001, 1.9999, 2, 2, 7.3, 10, 10, 10.0000001, 19.99, 20, 29.5, 30):
        sliced.advance(t)
    assert without_wall(sliced.report()) == without_wall(whole.report())


def test_dots_never_change_the_results():
    doc = live_doc(duration_s=30, warmup_s=3, events=True)
    plain = Simulation(doc, seed=2)
    dotted = Simulation(doc, seed=2, dots_per_s=500)
    for i in range(1, 61):
        plain.advance(i * 0.5)
        dotted.advance(i * 0.5)
        dotted.frame()
    assert without_wall(plain.report()) == without_wall(dotted.report())


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_scenarios(warmup=True), st.integers(2, 40), st.sampled_from([0, 50, 1000]))
def test_random_scenarios_slice_invariance(doc, slices, dots_per_s):
    whole = Simulation(doc)
    whole.advance(doc["duration_s"])
    sliced = Simulation(doc, dots_per_s=dots_per_s)
    for i in range(1, slices + 1):
        sliced.advance(doc["duration_s"] * i / slices)
        frame = sliced.frame()
        json.dumps(frame, allow_nan=False)
    assert without_wall(sliced.report()) == without_wall(whole.report())


# --- commands -----------------------------------------------------------------------------------

def test_fail_and_recover_commands():
    sim = Simulation(live_doc(duration_s=60), seed=3)
    before = window(sim, 2, 5)
    assert before["components"]["app1"]["up"] is True
    assert before["components"]["app1"]["err_rps"] == 0
    sim.apply({"action": "fail", "target": "app1"})
    assert sim.frame()["components"]["app1"]["up"] is False
    failed = window(sim, 5, 9)  # within the balancer's 5 s health check
    app1 = failed["components"]["app1"]
    assert app1["up"] is False and app1["in_flight"] == 0
    assert app1["err_rps"] > 50  # half of 400 rps is turned away
    assert link_rates(failed)[1][1] > 50  # errors on lb -> app1
    assert failed["summary"]["error_ratio"] > 0.2
    sim.apply({"action": "recover", "target": "app1"})
    healed = window(sim, 20, 25)
    assert healed["components"]["app1"]["up"] is True
    assert healed["components"]["app1"]["err_rps"] == 0
    assert healed["components"]["app1"]["rps"] > 100
    assert healed["summary"]["error_ratio"] == 0


def test_set_rate_doubles_the_traffic():
    sim = Simulation(live_doc(duration_s=60), seed=4)
    before = window(sim, 5, 15)
    sim.apply({"action": "set", "target": "users", "params": {"rate_rps": 800}})
    after = window(sim, 20, 30)
    ratio = link_rates(after)[0][0] / link_rates(before)[0][0]
    assert 1.8 <= ratio <= 2.2, ratio
    lb_ratio = after["components"]["lb"]["rps"] / before["components"]["lb"]["rps"]
    assert 1.8 <= lb_ratio <= 2.2, lb_ratio
    assert after["summary"]["ok_rps"] == pytest.approx(800, rel=0.1)


def test_set_rate_to_zero_stops_the_traffic():
    sim = Simulation(live_doc(duration_s=60), seed=4)
    sim.advance(5)
    sim.apply({"action": "set", "target": "users", "params": {"rate_rps": 0}})
    quiet = window(sim, 10, 20)
    assert link_rates(quiet)[0][0] == 0
    sim.apply({"action": "set", "target": "users", "params": {"rate_rps": 100}})
    busy = window(sim, 25, 35)
    assert link_rates(busy)[0][0] == pytest.approx(100, rel=0.3)


def test_partition_and_heal_a_link():
    sim = Simulation(live_doc(duration_s=60), seed=5)
    window(sim, 2, 5)
    sim.apply({"action": "partition", "target": ["app1", "cache"]})
    cut = window(sim, 5, 10)
    rps, err = link_rates(cut)[3]  # app1 -> cache
    assert rps > 50 and err == pytest.approx(rps, rel=0.05)
    assert cut["components"]["app1"]["err_rps"] > 50
    assert link_rates(cut)[4][1] == 0  # app2 -> cache unaffected
    sim.apply({"action": "heal", "target": ["app1", "cache"]})
    healed = window(sim, 10, 15)
    assert link_rates(healed)[3][1] == 0
    assert healed["components"]["app1"]["err_rps"] == 0


def test_slow_command_slows_the_component():
    sim = Simulation(live_doc(duration_s=60), seed=6)
    normal = window(sim, 5, 10)
    sim.apply({"action": "slow", "target": "db", "params": {"factor": 8}})
    slow = window(sim, 15, 20)
    assert slow["summary"]["p50"] > normal["summary"]["p50"]
    assert slow["components"]["db"]["util"] >= normal["components"]["db"]["util"]


def test_set_service_parameters_live():
    sim = Simulation(live_doc(duration_s=60), seed=7)
    sim.advance(5)
    sim.apply({"action": "set", "target": "app1", "params": {"workers": 1, "queue_limit": 0,
                                                            "service_ms": 50}})
    busy = window(sim, 10, 15)
    assert busy["components"]["app1"]["err_rps"] > 50  # a full queue rejects at once
    assert busy["components"]["app1"]["queue"] == 0


def test_set_cache_capacity_shrinks_the_cache():
    sim = Simulation(live_doc(duration_s=60), seed=7)
    sim.advance(10)
    assert sim.frame()["components"]["cache"]["entries"] > 1000
    sim.apply({"action": "set", "target": "cache", "params": {"capacity_keys": 10}})
    sim.advance(20)
    assert sim.frame()["components"]["cache"]["entries"] <= 10


def test_command_log_records_accepted_commands():
    sim = Simulation(live_doc(duration_s=60), seed=8)
    sim.advance(2.5)
    sim.apply({"action": "fail", "target": "app2"})
    sim.advance(4)
    sim.apply({"action": "set", "target": "app1", "params": {"workers": 3}})
    sim.apply({"action": "partition", "target": ["cache", "db"], "params": {}})
    with pytest.raises(ScenarioError):
        sim.apply({"action": "set", "target": "app1", "params": {"workers": 0}})
    assert sim.command_log == [
        {"at_s": 2.5, "action": "fail", "target": "app2", "params": {}},
        {"at_s": 4, "action": "set", "target": "app1", "params": {"workers": 3}},
        {"at_s": 4, "action": "partition", "target": ["cache", "db"], "params": {}},
    ]
    json.dumps(sim.command_log, allow_nan=False)


@pytest.mark.parametrize("command, path, fragment", [
    ({"action": "explode", "target": "app1"}, "command.action", "explode"),
    ({"target": "app1"}, "command.action", ""),
    ({"action": "fail"}, "command.target", ""),
    ({"action": "fail", "target": "ghost"}, "command.target", "ghost"),
    ({"action": "fail", "target": ["lb", "app1"]}, "command.target", ""),
    ({"action": "fail", "target": "app1", "when": 3}, "command", ""),
    ({"action": "fail", "target": "app1", "params": {"x": 1}}, "command.params", "no params"),
    ({"action": "partition", "target": "app1"}, "command.target", "link"),
    ({"action": "partition", "target": ["app1", "lb"]}, "command.target", "link"),
    ({"action": "heal", "target": ["lb", "ghost"]}, "command.target", "link"),
    ({"action": "slow", "target": "db", "params": {"factor": 0}}, "command.params", "factor"),
    ({"action": "slow", "target": "db", "params": {"factor": math.nan}}, "command.params",
     "factor"),
    ({"action": "slow", "target": "db"}, "command.params", "factor"),
    ({"action": "set", "target": "app1", "params": {"workers": 0}},
     "command.params.workers", ">= 1"),
    ({"action": "set", "target": "app1", "params": {"workers": 1.5}},
     "command.params.workers", "whole number"),
    ({"action": "set", "target": "users", "params": {"rate_rps": -1}},
     "command.params.rate_rps", ">= 0"),
    ({"action": "set", "target": "users", "params": {"read_ratio": 2}},
     "command.params.read_ratio", "<= 1"),
    ({"action": "set", "target": "users", "params": {"colour": 1}},
     "command.params.colour", "unknown key"),
    ({"action": "set", "target": "users", "params": {}}, "command.params", "at least one"),
    ("fail app1", "command", ""),
    (["fail", "app1"], "command", ""),
    (None, "command", ""),
])
def test_apply_rejects_bad_commands(command, path, fragment):
    doc = live_doc(duration_s=8)
    sim = Simulation(doc, seed=9)
    sim.advance(3)
    with pytest.raises(ScenarioError) as info:
        sim.apply(command)
    errors = info.value.errors
    assert errors and all(e.startswith("command") for e in errors), errors
    assert any(e.startswith(path + ":") and fragment in e for e in errors), errors
    assert sim.command_log == []
    # A rejected command changes nothing.
    sim.advance(8)
    assert without_wall(sim.report()) == without_wall(run(doc, seed=9))


def test_apply_rejects_null_for_a_required_parameter():
    sim = Simulation(live_doc(duration_s=30), seed=9)
    sim.advance(3)
    with pytest.raises(ScenarioError) as info:
        sim.apply({"action": "set", "target": "app1", "params": {"service_ms": None}})
    assert any(e.startswith("command.params.service_ms") for e in info.value.errors)


# --- replay -------------------------------------------------------------------------------------

COMMANDS = [
    (3.25, {"action": "fail", "target": "app2"}),
    (6.1, {"action": "set", "target": "users", "params": {"rate_rps": 700, "read_ratio": 0.5}}),
    (6.1, {"action": "recover", "target": "app2"}),
    (8.0, {"action": "partition", "target": ["cache", "db"]}),
    (9.333, {"action": "slow", "target": "app1", "params": {"factor": 3}}),
    (11.0, {"action": "heal", "target": ["cache", "db"]}),
    (12.5, {"action": "set", "target": "cache", "params": {"eviction": "lfu",
                                                          "capacity_keys": 100}}),
    (14.75, {"action": "set", "target": "lb", "params": {"algorithm": "least_connections"}}),
    (16.0, {"action": "fail", "target": "db"}),
    (17.2, {"action": "recover", "target": "db"}),
]
FRAME_EVERY = 0.25
END = 20.0


def replay_doc() -> dict[str, Any]:
    doc = live_doc(duration_s=END, warmup_s=1, events=False, timeout_ms=200, retries=1,
                   backoff_ms=20)
    doc["components"].append({"id": "rep", "kind": "database",
                              "params": {"read_ms": 2, "write_ms": 4}})
    doc["links"].append({"from": "db", "to": "rep", "kind": "replication", "mode": "sync",
                         "lag_ms": 10})
    doc["events"] = [{"at_s": 13, "action": "partition", "target": ["db", "rep"]},
                     {"at_s": 15, "action": "heal", "target": ["db", "rep"]}]
    return doc


@pytest.fixture(scope="module")
def live_run():
    """A live run with commands applied between frames; frames and reports at every step."""
    doc = replay_doc()
    sim = Simulation(doc, seed=21, dots_per_s=100)
    pending = list(COMMANDS)
    frames, reports = [], {}
    steps = round(END / FRAME_EVERY)
    for k in range(1, steps + 1):
        t = k * FRAME_EVERY
        while pending and pending[0][0] <= t:
            at, command = pending.pop(0)
            sim.advance(at)
            sim.apply(command)
        sim.advance(t)
        frames.append(sim.frame())
        if k % 10 == 0:
            reports[t] = without_wall(sim.report())
    return doc, sim, frames, reports


def test_command_log_times(live_run):
    _, sim, _, _ = live_run
    assert [(c["at_s"], c["action"]) for c in sim.command_log] == [
        (at, command["action"]) for at, command in COMMANDS]


def test_replay_gives_the_same_report(live_run):
    doc, sim, _, _ = live_run
    replayed = Simulation.replay(doc, 21, sim.command_log, until=END, dots_per_s=100)
    assert replayed.now == sim.now == END
    assert without_wall(replayed.report()) == without_wall(sim.report())
    # Dots do not matter to the report, and the log survives a JSON round trip.
    logged = json.loads(json.dumps(sim.command_log))
    again = Simulation.replay(doc, 21, logged, until=END)
    assert without_wall(again.report()) == without_wall(sim.report())


def test_replay_gives_the_same_frames(live_run):
    doc, sim, frames, _ = live_run
    replayed = Simulation(doc, seed=21, dots_per_s=100)
    log = list(sim.command_log)
    for k, frame in enumerate(frames, 1):
        t = k * FRAME_EVERY
        while log and log[0]["at_s"] <= t:
            cmd = log.pop(0)
            replayed.advance(cmd["at_s"])
            replayed.apply({key: cmd[key] for key in ("action", "target", "params")})
        replayed.advance(t)
        assert replayed.frame() == frame, f"frame at {t} s differs"


def test_replay_until_intermediate_times(live_run):
    doc, sim, _, reports = live_run
    for t, report in reports.items():
        prefix = [c for c in sim.command_log if c["at_s"] <= t]
        replayed = Simulation.replay(doc, 21, prefix, until=t)
        assert replayed.now == t
        assert without_wall(replayed.report()) == report, f"report at {t} s differs"


def test_replay_until_ignores_later_commands(live_run):
    doc, sim, _, reports = live_run
    replayed = Simulation.replay(doc, 21, sim.command_log, until=5.0)
    assert replayed.now == 5.0
    assert without_wall(replayed.report()) == reports[5.0]


def test_replay_with_another_seed_differs(live_run):
    doc, sim, _, _ = live_run
    other = Simulation.replay(doc, 22, sim.command_log, until=END)
    assert without_wall(other.report()) != without_wall(sim.report())


# --- memory -------------------------------------------------------------------------------------

def test_long_live_run_keeps_memory_bounded():
    """600 simulated seconds at 300 rps, a frame every 0.5 s: the second half allocates no
    more than the first (generous bound), histograms and frames stay small. (The rate is
    modest because tracemalloc slows the engine several times over.)"""
    doc = {"format": "playground.scenario/v1", "name": "long", "duration_s": 600,
           "components": [
               {"id": "c", "kind": "client",
                "params": {"rate_rps": 300, "timeout_ms": 400, "read_ratio": 0.9}},
               {"id": "s", "kind": "service", "params": {"workers": 4, "service_ms": 5}}],
           "links": [{"from": "c", "to": "s", "latency_ms": 1}]}
    half = 600
    tracemalloc.start()
    try:
        sim = Simulation(doc, dots_per_s=200)
        sizes, buckets = [], []
        for k in range(1, 2 * half + 1):
            sim.advance(k * 0.5)
            frame = sim.frame()
            sizes.append(len(json.dumps(frame)))
            assert len(frame["dots"]) <= MAX_DOTS
            if k == half:
                current_1, peak_1 = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                buckets.append(sum(c.latency.num_buckets for c in sim.components.values()))
        current_2, peak_2 = tracemalloc.get_traced_memory()
        buckets.append(sum(c.latency.num_buckets for c in sim.components.values()))
    finally:
        tracemalloc.stop()
    assert sim.now == 600
    assert peak_2 <= 1.5 * peak_1 + 512 * 1024, (peak_1, peak_2)
    assert current_2 <= 1.5 * current_1 + 256 * 1024, (current_1, current_2)
    assert max(sizes) <= 64 * 1024
    assert max(sizes[half:]) <= 2 * max(sizes[:half])
    # A log-bucket histogram: ~1,400 buckets cover 1e-3 .. 1e9 ms.
    assert buckets[1] <= 2 * 1400
    assert buckets[1] <= buckets[0] + 200

"""Run links: a recorded run replayed exactly, with checkpoints to seek back and forth.

`Replayer(doc, seed, commands, until_s, every_s=...)`: `advance(t)`, `seek(t)`, `frame()`;
`copy.deepcopy(simulation)` gives an independent simulation that continues identically.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from simulations import ScenarioError, Simulation
from simulations.replay import Replayer
from tests.engine.strategies import contract_example

SEED = 17
UNTIL = 60.0
DOTS_PER_S = 150
COMMANDS = [
    {"at_s": 5.5, "action": "fail", "target": "app2", "params": {}},
    {"at_s": 12.0, "action": "set", "target": "users", "params": {"rate_rps": 480}},
    {"at_s": 12.0, "action": "recover", "target": "app2", "params": {}},
    {"at_s": 31.3, "action": "partition", "target": ["cache", "db"], "params": {}},
    {"at_s": 36.0, "action": "heal", "target": ["cache", "db"], "params": {}},
    {"at_s": 40.25, "action": "slow", "target": "app1", "params": {"factor": 4}},
    {"at_s": 47.0, "action": "set", "target": "cache",
     "params": {"eviction": "lfu", "capacity_keys": 800}},
    {"at_s": 52.0, "action": "fail", "target": "db", "params": {}},
]


def design() -> dict[str, Any]:
    """The contract's example with what holds state across a checkpoint: a replica with
    lag, timeouts and retries with jitter, bursty arrivals, lognormal service times."""
    doc = contract_example()
    doc.update(duration_s=UNTIL, warmup_s=3, events=[])
    users, _, app1, _, cache, db = doc["components"]
    users["params"].update(arrival_cv=2.0, timeout_ms=300, retries=1, backoff_ms=10,
                           jitter="full")
    app1["params"].update(service_dist="lognormal", service_cv=0.5)
    cache["params"].update(write_policy="write_behind", flush_ms=50)
    db["params"]["workers"] = 6
    doc["components"].append({"id": "rep", "kind": "database",
                              "params": {"read_ms": 2, "write_ms": 4}})
    doc["links"].append({"from": "db", "to": "rep", "kind": "replication", "mode": "async",
                         "lag_ms": 40})
    return doc


def frame_at(replayer: Replayer, t: float) -> dict[str, Any]:
    """The frame at `t` without its dots (dots are the requests drawn since the previous
    frame: animation, not state)."""
    replayer.seek(t)
    frame = replayer.frame()
    frame.pop("dots")
    return frame


@pytest.fixture(scope="module")
def straight() -> dict[float, dict[str, Any]]:
    """Frames of fresh replays run straight to each time."""
    return {t: frame_at(Replayer(design(), SEED, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S), t)
            for t in (12.0, 20.0, 33.3, 45.0, 55.0, UNTIL)}


def test_commands_are_applied_at_their_times():
    replayer = Replayer(design(), SEED, COMMANDS, UNTIL)
    replayer.advance(UNTIL)
    assert replayer.now == UNTIL
    assert replayer.sim.command_log == COMMANDS
    frame = replayer.frame()
    assert frame["components"]["db"]["up"] is False  # failed at 52 s
    assert frame["components"]["cache"]["entries"] <= 800  # resized at 47 s


def test_replay_equals_the_live_run_it_records():
    """A live run driven in uneven slices, commands applied between frames, frames taken
    at odd times: the replay's frames at those times are the same."""
    live = Simulation(design(), seed=SEED, dots_per_s=DOTS_PER_S)
    pending = list(COMMANDS)
    t, frames = 0.0, {}
    for step in [0.07, 0.5, 1.3, 0.013, 2.9] * 13:
        t = round(min(t + step, UNTIL), 6)
        while pending and pending[0]["at_s"] <= t:
            cmd = pending.pop(0)
            live.advance(cmd["at_s"])
            live.apply({k: cmd[k] for k in ("action", "target", "params")})
        live.advance(t)
        frame = live.frame()
        frame.pop("dots")
        frames[t] = frame
    replayer = Replayer(design(), SEED, live.command_log, UNTIL, dots_per_s=DOTS_PER_S)
    for t in sorted(frames)[::5]:
        assert frame_at(replayer, t) == frames[t], f"frame at {t} s"


def test_seeks_back_and_forth_equal_straight_runs(straight):
    replayer = Replayer(design(), SEED, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S, every_s=10,
                        max_bytes=2**30)  # no thinning here (test_checkpoints_are_bounded...)
    for t in (45.0, 20.0, 55.0, 33.3, 12.0, UNTIL, 45.0, 20.0):
        assert frame_at(replayer, t) == straight[t], f"seek to {t} s"
    # A checkpoint every 10 s, each taken once however often play went past it.
    assert replayer.checkpoint_times == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def test_frames_do_not_depend_on_how_the_run_was_sliced(straight):
    """Differently sliced runs with frames in between: the frame at t is the same."""
    for slices in ([20.0], [0.1 * k for k in range(1, 201)], [7.77, 13.0, 19.999, 20.0]):
        replayer = Replayer(design(), SEED, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S)
        for t in slices:
            replayer.advance(t)
            replayer.frame()
        frame = replayer.frame()
        frame.pop("dots")
        assert frame == straight[20.0], slices[:3]


def test_history_after_a_seek_is_the_run_up_to_there(straight):
    """The summaries a seek's keyframe carries back (the charts' window) are those of a
    run played straight, however the replay got there, and none is missing."""
    played = Simulation(design(), seed=SEED, dots_per_s=DOTS_PER_S)
    want = {}
    for n in range(1, 91):  # straight to 45 s: the summary every half second
        for cmd in [c for c in COMMANDS if (n - 1) * 0.5 < c["at_s"] <= n * 0.5]:
            played.advance(cmd["at_s"])
            played.apply({k: cmd[k] for k in ("action", "target", "params")})
        played.advance(n * 0.5)
        want[n * 0.5] = played.live_summary()
    replayer = Replayer(design(), SEED, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S)
    # forward in slices of a few ms of wall time (as the server does), back to a
    # checkpoint, forward again in one go
    for t, budget in ((45.0, 0.002), (20.0, None), (45.0, None)):
        while not replayer.advance(replayer.rewind(t), budget):
            pass
        history = replayer.history(t, 15.0)
        times = [n * 0.5 for n in range(int(2 * (t - 15)), int(2 * t) + 1)]
        assert [at for at, _ in history] == times
        for at, summary in history:
            assert summary == want[at], f"summary at {at} s after a seek to {t} s"
    assert replayer.history(45.0, 100.0)[0][0] == 0.5  # never before the run's start


def test_checkpoints_are_bounded_in_number_and_bytes(straight):
    many = Replayer(design(), SEED, COMMANDS, UNTIL, every_s=1, max_checkpoints=6)
    many.advance(UNTIL)
    times = many.checkpoint_times
    assert len(times) <= 6
    assert times[0] == 0 and times[-1] >= UNTIL - many.every_s  # still spread to the end
    assert many.every_s == 16  # doubled from 1 s as the run went on

    one = len(pickle.dumps(Simulation(design(), seed=SEED, live=True)))
    small = Replayer(design(), SEED, COMMANDS, UNTIL, every_s=2, max_bytes=12 * one,
                     dots_per_s=DOTS_PER_S)
    small.advance(UNTIL)
    assert len(small.checkpoint_times) >= 2 and small.checkpoint_bytes <= 12 * one
    for t in (55.0, 33.3, 45.0):  # thinned checkpoints still rewind exactly
        assert frame_at(small, t) == straight[t]


def test_deepcopy_is_independent_and_continues_identically():
    sim = Simulation(design(), seed=SEED, dots_per_s=DOTS_PER_S)
    sim.advance(9.7)
    sim.apply({"action": "slow", "target": "app2", "params": {"factor": 2}})
    twin = copy.deepcopy(sim)
    assert twin.components["app1"] is not sim.components["app1"]
    # The twin runs ahead and changes; the original is untouched by it.
    twin.advance(25.0)
    twin.apply({"action": "fail", "target": "cache"})
    twin.advance(30.0)
    assert sim.now == 9.7 and sim.components["cache"].up
    assert len(sim.command_log) == 1
    # Both continue identically from where the copy was taken.
    again = copy.deepcopy(sim)
    for s in (sim, again):
        s.advance(25.0)
    assert again.frame() == sim.frame()
    assert _without_wall(again.report()) == _without_wall(sim.report())


@pytest.mark.parametrize(("commands", "until_s", "message"), [
    ([{"at_s": 5, "action": "fail"}], 10, "commands[0]: must be {at_s, action, target, params}"),
    ([{"at_s": 5, "action": "fail", "target": "app1"},
      {"at_s": 4, "action": "recover", "target": "app1"}], 10,
     "commands[1].at_s: must be a time in order, from 5 s to until_s (10 s)"),
    ([{"at_s": 11, "action": "fail", "target": "app1"}], 10,
     "commands[0].at_s: must be a time in order, from 0 s to until_s (10 s)"),
    ([], float("nan"), "until_s: must be a finite number of seconds >= 0"),
    ("fail", 10, "commands: must be a list"),
])
def test_a_bad_command_log_is_refused_with_a_clear_message(commands, until_s, message):
    with pytest.raises(ScenarioError) as exc:
        Replayer(design(), SEED, commands, until_s)
    assert message in exc.value.errors


def test_an_invalid_command_is_refused_by_the_engine_rules():
    replayer = Replayer(design(), SEED, [{"at_s": 1, "action": "fail", "target": "nope"}], 5)
    with pytest.raises(ScenarioError, match="nope"):
        replayer.advance(5)


def test_the_replay_ends_at_until_s():
    replayer = Replayer(design(), SEED, COMMANDS[:2], 15.0)
    assert replayer.advance(40.0)
    assert replayer.now == 15.0
    replayer.seek(99)
    assert replayer.now == 15.0


def _without_wall(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "wall_s"}

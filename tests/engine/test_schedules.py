"""A client's rate over time (`schedule`): arrivals against the integral of the rate, the
rate per window, the backlog of a step above capacity against the fluid model, validation,
live `set`, replay and seek across a schedule.

Tolerances: a schedule's arrival count over [0, T] has mean Lambda(T) and, for renewal gaps
of cv c in operational time, a variance of about c^2 Lambda(T) (Poisson: exactly Lambda(T));
counts are checked within 4 such standard deviations, at fixed seeds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from simulations import ScenarioError, Simulation, validate
from simulations.components.rates import ScheduledGaps, rate_schedule
from simulations.distributions import gap_sampler
from simulations.kernel import Kernel, stream
from simulations.predict import predict
from simulations.replay import Replayer
from simulations.theory import fluid_backlog
from tests.engine.scenarios import copy_continues_exactly

SHAPES = {
    "points": {"shape": "points", "points": [[10, 20], [40, 120], [60, 120], [70, 0],
                                             [80, 0], [90, 60]]},
    "step": {"shape": "step", "at_s": 30, "to_rps": 150},
    "ramp": {"shape": "ramp", "start_s": 20, "end_s": 80, "to_rps": 200},
    "spike": {"shape": "spike", "at_s": 25, "peak_rps": 400, "rise_s": 2, "hold_s": 15,
              "decay_s": 30},
    "diurnal": {"shape": "diurnal", "peak_rps": 160, "period_s": 40, "peak_at_s": 12},
    "bursts": {"shape": "bursts", "burst_rps": 300, "every_s": 15, "burst_s": 3,
               "first_s": 4},
}
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BASE_RPS = 40.0
DURATION = 100.0


def design(schedule: dict[str, Any] | None = None, duration_s: float = DURATION,
           **client: Any) -> dict[str, Any]:
    """A client in front of a pool too big to matter (unless `app` is given)."""
    app = client.pop("app", {"workers": 1000, "service_ms": 1})
    params = {"rate_rps": BASE_RPS, **client}
    if schedule is not None:
        params["schedule"] = schedule
    return {"format": "playground.scenario/v1", "name": "schedule", "duration_s": duration_s,
            "seed": 11, "components": [
                {"id": "users", "kind": "client", "params": params},
                {"id": "app", "kind": "service", "params": app}],
            "links": [{"from": "users", "to": "app"}]}


def expected(schedule: dict[str, Any], start: float, end: float,
             base: float = BASE_RPS) -> float:
    full = validate(design(schedule)).components[0].settings["schedule"]
    rates = rate_schedule(base, full)
    return rates.integral(end) - rates.integral(start)


def report(sim: Simulation) -> dict[str, Any]:
    out = sim.run()
    out.pop("wall_s")
    return out


def sent(sim: Simulation) -> int:
    return sim.components["users"].total_in


# --- the rate and its integral -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SHAPES))
def test_the_integral_is_the_rate_summed(name):
    """Lambda against a midpoint sum of rate(t) (each piece is straight: exact up to
    rounding), and inverse(Lambda(t)) = t where the rate is positive."""
    schedule = validate(design(SHAPES[name])).components[0].settings["schedule"]
    rates = rate_schedule(BASE_RPS, schedule)
    n = 20_000
    h = DURATION / n
    summed = math.fsum(rates.rate((k + 0.5) * h) for k in range(n)) * h
    assert rates.integral(DURATION) == pytest.approx(summed, rel=1e-6)
    for t in (0.5, 13.3, 27.0, 55.5, 99.0):
        if rates.rate(t) > 0:
            assert rates.inverse(rates.integral(t)) == pytest.approx(t, abs=1e-9)


def test_named_shapes_hold_what_they_say():
    def at(schedule, t):
        full = validate(design(schedule)).components[0].settings["schedule"]
        return rate_schedule(BASE_RPS, full).rate(t)

    assert (at(SHAPES["step"], 29.9), at(SHAPES["step"], 30.0)) == (40, 150)
    assert at(SHAPES["ramp"], 50) == pytest.approx(120)
    assert [at(SHAPES["spike"], t) for t in (24, 26, 40, 57, 80)] == \
        pytest.approx([40, 220, 400, 400 - 360 * 15 / 30, 40])
    # diurnal: peak at 12 s and every 40 s after; the trough (rate_rps) half a period on
    assert [at(SHAPES["diurnal"], t) for t in (12, 52, 32, 72)] == \
        pytest.approx([160, 160, 40, 40])
    assert [at(SHAPES["bursts"], t) for t in (3.9, 4, 6.9, 7, 19, 22, 34.5)] == \
        [40, 300, 300, 40, 300, 40, 300]
    assert at(SHAPES["points"], 5) == 40  # rate_rps until the first point
    assert at(SHAPES["points"], 25) == pytest.approx(70)
    assert at(SHAPES["points"], 500) == 60  # the last point's rate holds


# --- arrivals ------------------------------------------------------------------------------

@pytest.mark.parametrize("cv", [1.0, 2.0, 0.5])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_arrivals_count_the_integral_of_the_rate(name, cv):
    sim = Simulation(design(SHAPES[name], arrival_cv=cv))
    sim.advance(DURATION)
    mean = expected(SHAPES[name], 0, DURATION)
    assert abs(sent(sim) - mean) <= 4 * cv * math.sqrt(mean), (sent(sim), mean)


@pytest.mark.parametrize("cv", [1.0, 3.0])
def test_the_rate_per_window_follows_the_schedule(cv):
    """Two days of a diurnal sine in windows of a twelfth of a day: each window's count
    against the schedule's integral over it."""
    schedule = {"shape": "diurnal", "peak_rps": 400, "period_s": 120, "peak_at_s": 30}
    sim = Simulation(design(schedule, duration_s=240, arrival_cv=cv))
    counts = []
    for k in range(1, 25):
        before = sent(sim)
        sim.advance(k * 10.0)
        counts.append(sent(sim) - before)
    for k, count in enumerate(counts):
        mean = expected(schedule, k * 10.0, (k + 1) * 10.0)
        assert abs(count - mean) <= 4 * cv * math.sqrt(mean), (k, count, mean)
    # and the shape is there: the peak windows far above the trough ones
    assert min(counts[2], counts[14]) > 3 * max(counts[8], counts[20])


def test_gaps_keep_their_cv_in_operational_time():
    """arrival_cv means the cv of the gaps measured in Lambda (operational time): the gaps
    Lambda(t_n+1) - Lambda(t_n) of a ramp's arrivals have mean 1 and cv 2 (50,000 gaps:
    within 3% and 8%)."""
    rates = rate_schedule(20.0, {"shape": "ramp", "start_s": 0, "end_s": 200,
                                 "to_rps": 400})
    kernel = Kernel()
    gaps = ScheduledGaps(rates, gap_sampler(1.0, 2.0, stream(5, "gaps")), kernel)
    gaps.begin(0.0)
    ops = []
    for _ in range(50_000):
        kernel.now += gaps.sample()
        ops.append(rates.integral(kernel.now))
    diffs = [b - a for a, b in zip(ops, ops[1:], strict=False)]
    mean = math.fsum(diffs) / len(diffs)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / len(diffs))
    assert mean == pytest.approx(1.0, rel=0.03)
    assert sd / mean == pytest.approx(2.0, rel=0.08)


def test_a_rate_that_stays_zero_sends_nothing_more():
    sim = Simulation(design({"shape": "step", "at_s": 10, "to_rps": 0}))
    sim.advance(10.0)
    at_ten = sent(sim)
    sim.advance(DURATION)
    assert sent(sim) == at_ten
    assert at_ten == pytest.approx(10 * BASE_RPS, abs=4 * math.sqrt(10 * BASE_RPS))


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("schedule, message", [
    ({"shape": "points", "points": [[0, 1], [5, 2], [5, 3]]},
     "components[0].params.schedule.points[2][0]: must be > 5"),
    ({"shape": "points", "points": [[0, 1], [5, 2e6]]},
     "components[0].params.schedule.points[1][1]: must be <= 200000"),
    ({"shape": "points", "points": [[0, 1], [float("inf"), 2]]},
     "components[0].params.schedule.points[1][0]: must be a finite number"),
    ({"shape": "points", "points": [[i, 1] for i in range(1001)]},
     "components[0].params.schedule.points: must have at most 1000 items"),
    ({"shape": "points", "points": [[0, 1, 2]]},
     "components[0].params.schedule.points[0]: must have at most 2 items"),
    ({"shape": "points", "points": [[0, "1"]]},
     "components[0].params.schedule.points[0][1]: must be a number"),
    ({"shape": "wave"}, "components[0].params.schedule.shape: must be one of points, step"),
    ({"shape": "step", "at_s": 5}, "components[0].params.schedule.to_rps: is required"),
    ({"shape": "step", "at_s": 5, "to_rps": 1, "by": 2},
     "components[0].params.schedule.by: unknown key"),
    ({"shape": "ramp", "start_s": 10, "end_s": 10, "to_rps": 5},
     "components[0].params.schedule.end_s: must be > start_s (10)"),
    ({"shape": "spike", "at_s": 1, "peak_rps": -1},
     "components[0].params.schedule.peak_rps: must be >= 0"),
    ({"shape": "diurnal", "peak_rps": 9, "period_s": 0},
     "components[0].params.schedule.period_s: must be > 0"),
    ({"shape": "bursts", "burst_rps": 9, "every_s": 5, "burst_s": 6},
     "components[0].params.schedule.burst_s: must be <= every_s (5)"),
    ([[0, 1]], "components[0].params.schedule: must be an object"),
])
def test_a_bad_schedule_is_refused_naming_the_field(schedule, message):
    with pytest.raises(ScenarioError) as err:
        validate(design(schedule))
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors


def test_all_clients_peaks_count_against_the_total_rate_limit():
    doc = design({"shape": "spike", "at_s": 5, "peak_rps": 150_000})
    doc["components"].append({"id": "more", "kind": "client",
                              "params": {"rate_rps": 60_000}})
    doc["links"].append({"from": "more", "to": "app"})
    with pytest.raises(ScenarioError, match="clients may send 210000 rps in all"):
        validate(doc)


def test_a_schedule_in_a_set_event_is_checked_and_runs_with_its_defaults():
    doc = design()
    doc["events"] = [{"at_s": 10, "action": "set", "target": "users",
                      "params": {"schedule": {"shape": "spike", "at_s": 20, "peak_rps": 9,
                                              "hold": 1}}}]
    with pytest.raises(ScenarioError, match=r"events\[0\]\.params\.schedule\.hold: unknown"):
        validate(doc)
    doc["events"][0]["params"]["schedule"] = {"shape": "spike", "at_s": 20, "peak_rps": 400}
    sim = Simulation(doc)
    sim.advance(DURATION)
    mean = 10 * BASE_RPS + expected(doc["events"][0]["params"]["schedule"], 10, DURATION)
    assert abs(sent(sim) - mean) <= 4 * math.sqrt(mean)


# --- live set, replay, seek ----------------------------------------------------------------

def test_a_live_set_of_a_schedule_takes_over_from_now():
    sim = Simulation(design(), live=True)
    sim.advance(20.0)
    before = sent(sim)
    sim.apply({"action": "set", "target": "users",
               "params": {"schedule": {"shape": "step", "at_s": 30, "to_rps": 400}}})
    sim.advance(29.9)
    assert sim.frame()["components"]["users"]["target_rps"] == 40
    sim.advance(40.0)
    frame = sim.frame()["components"]["users"]
    assert frame["target_rps"] == 400
    assert frame["rps"] == pytest.approx(400, abs=4 * math.sqrt(400))
    mean = 10 * BASE_RPS + 10 * 400
    assert abs(sent(sim) - before - mean) <= 4 * math.sqrt(mean)
    assert sim.design_now()["components"][0]["params"]["schedule"]["to_rps"] == 400
    # a set of rate_rps moves the base the shape starts from; a set to null ends the shape
    sim.apply({"action": "set", "target": "users", "params": {"rate_rps": 10}})
    sim.advance(45.0)
    assert sim.frame()["components"]["users"]["target_rps"] == 400
    sim.apply({"action": "set", "target": "users", "params": {"schedule": None}})
    sim.advance(60.0)
    assert "target_rps" not in sim.frame()["components"]["users"]
    assert sim.frame()["components"]["users"]["rps"] == pytest.approx(10, abs=4 * math.sqrt(10))


def test_a_live_set_of_something_else_leaves_the_schedule_where_it_is():
    """A set of another parameter (keys, read_ratio) mid-schedule: the stream goes on from
    where it was, never back in time, and still counts its integral."""
    sim = Simulation(design(SHAPES["ramp"], keys=100), live=True)
    sim.advance(50.0)
    for at, change in ((50.0, {"keys": 5000}), (60.0, {"read_ratio": 0.5})):
        sim.advance(at)
        sim.apply({"action": "set", "target": "users", "params": change})
    times = []
    while sim.now < DURATION:
        sim.advance(round(sim.now + 0.5, 6))
        times.append(sim.kernel.now)
    assert times == sorted(times)
    mean = expected(SHAPES["ramp"], 0, DURATION)
    assert abs(sent(sim) - mean) <= 4 * math.sqrt(mean)


@pytest.mark.parametrize("schedule, message", [
    ({"shape": "step", "at_s": 30}, "command.params.schedule.to_rps: is required"),
    ({"shape": "points", "points": [[5, 1], [4, 2]]},
     "command.params.schedule.points[1][0]: must be > 5"),
    ({"shape": "ramp", "start_s": 1, "end_s": 2, "to_rps": 300_000},
     "command.params.schedule.to_rps: must be <= 200000"),
])
def test_a_live_set_that_would_break_the_schedule_is_refused(schedule, message):
    sim = Simulation(design(SHAPES["step"]), live=True)
    sim.advance(5.0)
    with pytest.raises(ScenarioError) as err:
        sim.apply({"action": "set", "target": "users", "params": {"schedule": schedule}})
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors
    assert sim.command_log == []
    sim.advance(40.0)  # still the old schedule
    assert sim.frame()["components"]["users"]["target_rps"] == 150


COMMANDS = [
    {"at_s": 12.5, "action": "set", "target": "users",
     "params": {"schedule": {"shape": "bursts", "burst_rps": 500, "every_s": 7, "burst_s": 2,
                             "first_s": 1}}},
    {"at_s": 33.0, "action": "set", "target": "users", "params": {"rate_rps": 80}},
]


def _frame(replayer: Replayer, t: float) -> dict[str, Any]:
    replayer.seek(t)
    frame = replayer.frame()
    frame.pop("dots")
    return frame


def test_replay_and_seek_across_a_schedule_equal_the_live_run():
    doc = design(SHAPES["spike"], duration_s=60, arrival_cv=1.7)
    live = Simulation(doc, dots_per_s=50)
    frames = {}
    for t in (5.0, 12.5, 20.0, 33.0, 41.0, 60.0):
        live.advance(t)
        for cmd in [c for c in COMMANDS if c["at_s"] == t]:
            live.apply({k: cmd[k] for k in ("action", "target", "params")})
        frame = live.frame()
        frame.pop("dots")
        frames[t] = frame
    assert live.command_log == COMMANDS
    replayer = Replayer(doc, doc["seed"], live.command_log, 60.0, every_s=10)
    for t in (41.0, 20.0, 60.0, 5.0, 33.0, 12.5):
        assert _frame(replayer, t) == frames[t], f"seek to {t} s"


def test_a_copy_mid_schedule_continues_identically():
    sim = Simulation(design(SHAPES["diurnal"], arrival_cv=0.5))
    sim.advance(31.7)
    copy_continues_exactly(sim, sim.duration_s)


def test_no_schedule_is_the_constant_rate_exactly():
    """An explicit null is the old constant rate, arrival for arrival."""
    plain = report(Simulation(design(arrival_cv=1.5)))
    null = design(arrival_cv=1.5)
    null["components"][0]["params"]["schedule"] = None
    assert report(Simulation(null)) == plain


# --- predictions ---------------------------------------------------------------------------

def test_predictions_give_the_schedule_and_take_the_steady_state_at_its_mean():
    doc = design(SHAPES["ramp"])
    doc["warmup_s"] = 10
    out = predict(doc)
    figures = out["clients"]["users"]["schedule"]
    assert figures["expected_arrivals"] == pytest.approx(expected(SHAPES["ramp"], 10, 100))
    mean = (40 * 10 + (40 + 200) / 2 * 60 + 200 * 20) / 90  # 10-20 s, ramp, held
    assert figures["mean_rps"] == pytest.approx(mean)
    assert figures["peak_rps"] == 200
    assert figures["measured_s"] == [10, 100]
    assert out["components"]["app"]["offered_rps"] == pytest.approx(mean)
    assert out["components"]["app"]["peak_utilisation"] == pytest.approx(200 * 0.001 / 1000)
    assert any("mean rate over the measured part" in a for a in out["assumptions"])
    assert out["saturation"]["client_rate_rps"] == pytest.approx(1000 / 0.001)


def test_the_fluid_backlog_piles_up_above_capacity_and_drains_below():
    arrived = [3, 3, 3, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert fluid_backlog(arrived, [1] * 8) == [2, 4, 6, 5.5, 5, 4.5, 4, 3.5]
    assert fluid_backlog([0.5, 2], [1, 1]) == [0, 1]  # never below empty
    with pytest.raises(ValueError, match="arrived"):
        fluid_backlog([-1], [1])


def test_constant_rates_predict_as_before():
    out = predict(design())
    assert "schedule" not in out["clients"].get("users", {})
    assert "peak_utilisation" not in out["components"]["app"]
    assert not any("schedule" in a for a in out["assumptions"])


def test_a_step_above_capacity_predicts_the_fluid_backlog_the_run_builds():
    """10 workers of 100 ms serve 100 rps; a step from 50 to 150 rps at 20 s leaves 50 rps
    unserved: the backlog grows as (lambda - mu c) (t - 20). The run's, within 10% (about
    3 standard deviations of arrivals plus services at 40 s in)."""
    schedule = {"shape": "step", "at_s": 20, "to_rps": 150}
    app = {"workers": 10, "service_ms": 100}
    doc = design(schedule, duration_s=120, rate_rps=50, app=app)
    pool = predict(doc)["components"]["app"]
    assert pool["peak_utilisation"] == pytest.approx(1.5)
    assert pool["capacity_rps"] == pytest.approx(100)
    assert pool["peak_backlog"] == pytest.approx(50 * 100)
    assert pool["peak_backlog_at_s"] == 120
    assert "drain_s" not in pool  # it never drains within the run
    sim = Simulation(doc)
    for t in (60.0, 100.0, 120.0):
        sim.advance(t)
        held = sim.components["app"].in_flight()
        assert held == pytest.approx((150 - 100) * (t - 20), rel=0.1), t
    assert held == pytest.approx(pool["peak_backlog"], rel=0.1)


def test_a_spike_predicts_its_backlog_and_how_long_it_drains():
    """300 rps for 10 s into a pool serving 100: 2000 behind at the spike's end, drained
    at 100 - 50 rps in 40 s (fluid). The run: within 10% at the spike's end, and the
    backlog gone a little after the predicted time (randomness delays the last of it)."""
    schedule = {"shape": "spike", "at_s": 20, "peak_rps": 300, "hold_s": 10, "decay_s": 0}
    doc = design(schedule, duration_s=120, rate_rps=50,
                 app={"workers": 10, "service_ms": 100})
    pool = predict(doc)["components"]["app"]
    assert pool["peak_backlog"] == pytest.approx(2000)
    assert pool["peak_backlog_at_s"] == pytest.approx(30)
    assert pool["drain_s"] == pytest.approx(40, abs=0.1)
    sim = Simulation(doc)
    sim.advance(30.0)
    assert sim.components["app"].in_flight() == pytest.approx(2000, rel=0.1)
    sim.advance(30.0 + 40 * 0.8)
    assert sim.components["app"].in_flight() > 100
    sim.advance(30.0 + 40 * 1.3)
    assert sim.components["app"].in_flight() < 60


def test_the_flash_crowd_example_meets_its_predictions():
    """docs/examples/flash-crowd.json: the requests counted against the schedule's expected
    arrivals (4 sd), and the run's longest wait against the fluid one, the peak backlog over
    the capacity (within 10%: the last of the crowd waits behind all of it)."""
    doc = json.loads((EXAMPLES / "flash-crowd.json").read_text(encoding="utf-8"))
    out = Simulation(doc).run()
    predicted = out["predictions"]["clients"]["users"]["schedule"]
    requests = out["components"]["users"]["requests"]
    assert abs(requests - predicted["expected_arrivals"]) <= \
        4 * math.sqrt(predicted["expected_arrivals"])
    api = out["predictions"]["components"]["api"]
    fluid_wait_ms = api["peak_backlog"] / api["capacity_rps"] * 1000
    assert out["components"]["api"]["latency_ms"]["max"] == pytest.approx(fluid_wait_ms, rel=0.1)

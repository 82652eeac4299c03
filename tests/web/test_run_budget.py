"""Simulation work a message causes runs in budgeted slices and stops when nobody wants it
(playground/live/simscheduler.py): a long `step` or `seek` of a heavy design is reached over
many frames, other runs keep their frames meanwhile, and a disconnect stops the work.

Counts over generous windows, never latencies: the machine may be busy with other things.
"""

import asyncio
import copy
import json
import os
import threading
import time

import pytest

from playground.live.runs import registry
from playground.models import RunLink
from tests.web.test_play_consumer import DESIGN, connect, receive_until, start
from tests.web.test_workers import join, workers, workers_mode  # noqa: F401 (fixtures)

# About 0.3 s of CPU per simulated second: a 60 s step is some twenty seconds of work.
HEAVY = {
    "format": "playground.scenario/v1", "name": "heavy", "seed": 1, "duration_s": 600,
    "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 20000}},
                   {"id": "lb", "kind": "load_balancer", "params": {"health_check_s": 0}},
                   *({"id": f"s{i}", "kind": "service",
                      "params": {"workers": 64, "service_ms": 1}} for i in range(40))],
    "links": [{"from": "users", "to": "lb"},
              *({"from": "lb", "to": f"s{i}"} for i in range(40))],
}
# asyncio's default thread pool on this machine: as many unbounded steps filled it before.
ATTACKERS = min(32, (os.cpu_count() or 1) + 4)


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


async def step(comm, run_id, seconds=60):
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "step",
                             "seconds": seconds})


async def frames_within(comm, seconds):
    """The frames a viewer receives (and acks) in the next `seconds`. A run with viewers
    sends one at least every KEYFRAME_S; a receive that times out ends the application
    (Channels' test communicator), so each waits that long and more."""
    frames = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frames.append(await receive_until(comm, lambda m: m["type"] == "frame", 10))
    return frames


async def still(run, settle=1.0, watch=1.5):
    """Whether the run's simulated time stays put (after a slice in flight ends)."""
    await asyncio.sleep(settle)
    before = run.sim.now
    await asyncio.sleep(watch)
    return run.sim.now == before


async def test_heavy_steps_do_not_stop_other_runs_frames():
    victim = await connect()
    await start(victim, speed=1)
    await frames_within(victim, 0.5)
    attackers = {}  # a socket handles its messages one after another: one each
    for _ in range(ATTACKERS):
        comm = await connect()
        snap = await start(comm, HEAVY, paused=True)
        assert snap["type"] == "snapshot", snap
        attackers[snap["run_id"]] = comm
    for run_id, comm in attackers.items():
        await step(comm, run_id)
    frames = await frames_within(victim, 3.0)
    assert len(frames) >= 10, f"the victim got {len(frames)} frames in 3 s of the steps"
    assert frames[-1]["frame"]["t"] > frames[0]["frame"]["t"]
    assert all(registry.get(r).sim.now < 60 for r in attackers), "the steps really are long"
    for comm in attackers.values():
        await comm.disconnect()
    await victim.disconnect()


async def test_a_long_step_is_reached_in_slices_and_ends_paused_at_its_target():
    comm = await connect()
    snap = await start(comm, HEAVY, paused=True)
    run_id = snap["run_id"]
    await step(comm, run_id)
    progress = await frames_within(comm, 2.0)
    moving = [f for f in progress if 0 < f["frame"]["t"] < 60]
    assert moving, "frames come while the step goes on"
    assert all(f["status"]["behind"] and not f["status"]["playing"] for f in moving)
    times = [f["frame"]["t"] for f in progress]
    assert times == sorted(times)
    await comm.disconnect()

    light = await connect()  # the same with a design small enough to finish soon
    snap = await start(light, paused=True)
    await step(light, snap["run_id"], 30)
    done = await receive_until(light, lambda m: m["type"] == "frame"
                               and not m["status"]["behind"] and m["frame"]["t"] > 0, 30)
    assert done["frame"]["t"] == pytest.approx(30)
    assert done["status"]["playing"] is False
    assert await still(registry.get(snap["run_id"]), watch=0.5), "paused at the target"
    await light.disconnect()


async def test_disconnecting_stops_a_long_step():
    comm = await connect()
    snap = await start(comm, HEAVY, paused=True)
    run = registry.get(snap["run_id"])
    await step(comm, snap["run_id"])
    await receive_until(comm, lambda m: m["type"] == "frame" and m["frame"]["t"] > 0)
    await comm.disconnect()
    assert await still(run), "no work goes on for a run nobody watches"
    assert run.sim.now < 60


async def test_pause_cancels_a_long_step():
    comm = await connect()
    snap = await start(comm, HEAVY, paused=True)
    run = registry.get(snap["run_id"])
    await step(comm, snap["run_id"])
    await receive_until(comm, lambda m: m["type"] == "frame" and m["frame"]["t"] > 0)
    await comm.send_json_to({"type": "control", "run_id": snap["run_id"], "action": "pause"})
    status = await receive_until(comm, lambda m: m["type"] == "status")
    assert status["status"]["playing"] is False
    assert await still(run)
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_db")
async def test_a_long_seek_is_reached_in_slices_and_stops_with_its_viewer():
    link = await asyncio.to_thread(lambda: RunLink.objects.create(
        title="heavy", document=HEAVY, seed=1, commands=[], until_s=60.0).share_id)
    comm = await connect()
    await comm.send_json_to({"type": "replay", "run_link": link, "paused": True})
    snap = await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"), 10)
    assert snap["type"] == "snapshot", snap
    run = registry.get(snap["run_id"])
    await comm.send_json_to({"type": "control", "run_id": snap["run_id"], "action": "seek",
                             "t": 55})
    progress = await frames_within(comm, 2.0)
    moving = [f for f in progress if 0 < f["frame"]["t"] < 55]
    assert moving and all(f["status"]["behind"] for f in moving), \
        "frames come while the seek goes on"
    await comm.disconnect()
    assert await still(run)
    assert run.sim.now < 55


def test_replay_seek_is_restore_then_advance():
    """seek(t) = rewind(t) (restore a checkpoint) + advance(t): the driver does the advance
    in budgeted slices and lands on the same frame."""
    from simulations.replay import Replayer

    design = copy.deepcopy(DESIGN)
    whole = Replayer(design, 5, [], 30.0)
    whole.advance(25)
    whole.seek(12.0)
    sliced = Replayer(design, 5, [], 30.0)
    sliced.advance(25)
    t = sliced.rewind(12.0)
    while not sliced.advance(t, 0.001):
        pass
    sliced.sim.drop_dots()
    assert t == 12.0
    assert json.dumps(sliced.frame()) == json.dumps(whole.frame())


@pytest.mark.redis
async def test_a_worker_slices_a_long_step_and_stops_it_on_disconnect(workers):  # noqa: F811
    worker = await workers.start("w1")
    comm = await connect()
    await comm.send_json_to({"type": "start", "scenario": HEAVY, "paused": True})
    snap = await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"), 10)
    assert snap["type"] == "snapshot", snap
    run_id = snap["run_id"]
    await step(comm, run_id)
    progress = await frames_within(comm, 3.0)
    assert [f for f in progress if 0 < f["frame"]["t"] < 60], \
        "the worker publishes frames while the step goes on"
    # The worker still answers other messages meanwhile.
    viewer = await connect()
    assert (await join(viewer, run_id))["type"] == "snapshot"
    await viewer.disconnect()
    await comm.disconnect()
    assert await still(worker.runs[run_id])


def test_grading_runs_at_a_low_priority():
    """A grading is one long simulation in a child process: the OS gives live runs the
    CPU first (its time limit is tests/web/test_classroom_grading.py's)."""
    from playground.classrooms.grader import NICE, Grader

    grader = Grader()
    try:
        assert grader.pool().apply(os.nice, (0,)) == min(19, os.nice(0) + NICE)
    finally:
        grader.close()


async def test_the_scheduler_serves_the_lightest_run_first_and_skips_cancelled_jobs():
    """Jobs queued while the simulation thread is busy: the run that used the least CPU
    goes first; a job whose caller gave up is not run."""
    from playground.live.simscheduler import SimScheduler

    sched = SimScheduler()
    heavy, light = object(), object()
    await sched.run(time.sleep, 0.05, who=heavy)  # heavy has used CPU lately
    gate, done = threading.Event(), []
    busy = asyncio.ensure_future(sched.run(gate.wait, 10))
    await asyncio.sleep(0.1)  # the thread is in gate.wait
    queued = [asyncio.ensure_future(sched.run(done.append, "heavy", who=heavy)),
              asyncio.ensure_future(sched.run(done.append, "gone", who=light)),
              asyncio.ensure_future(sched.run(done.append, "light", who=light))]
    await asyncio.sleep(0)  # each is queued
    queued[1].cancel()
    gate.set()
    await asyncio.gather(busy, queued[0], queued[2])
    assert done == ["light", "heavy"]


async def test_building_a_run_waits_for_light_runs_not_for_heavy_ones():
    """A job for no run yet (building one) goes after the slices of runs that used little
    CPU lately and before those of heavy ones: attackers' builds arriving together must not
    stop a light run's frames."""
    from playground.live.simscheduler import SimScheduler

    sched = SimScheduler()
    heavy, light = object(), object()
    await sched.run(time.sleep, 0.3, who=heavy)
    gate, done = threading.Event(), []
    busy = asyncio.ensure_future(sched.run(gate.wait, 10))
    await asyncio.sleep(0.1)
    queued = [asyncio.ensure_future(sched.run(done.append, "heavy", who=heavy)),
              asyncio.ensure_future(sched.run(done.append, "build")),
              asyncio.ensure_future(sched.run(done.append, "light", who=light))]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(busy, *queued)
    assert done == ["light", "build", "heavy"]


async def test_simulation_yields_to_an_overloaded_event_loop():
    """While the event loop runs late (more sockets and requests than its part of the
    process), simulation's share of wall time shrinks; it grows back once the loop keeps
    time."""
    from playground.live import simscheduler

    sched = simscheduler.SimScheduler()
    await sched.run(lambda: None)  # the scheduler now watches this loop
    for _ in range(10):
        time.sleep(0.05)  # the loop is busy: its timers fire late
        await asyncio.sleep(simscheduler.PROBE_S * 2)
    assert sched.share < simscheduler.SHARE / 2  # (on-time probes between blocks add back)
    assert sched.budget(object(), 1.0) == pytest.approx(sched.share)
    for _ in range(200):
        sched.observe_lateness(0.0)
    assert sched.share == simscheduler.SHARE


async def test_a_long_job_does_not_stop_every_run_for_long():
    """A job that cannot be sliced (building a heavy run) is followed by a rest of at most a
    frame, not one in proportion to it: at a share of 15%, 0.3 s of building would stop
    every run's frames for 1.7 s."""
    from playground.live import simscheduler

    sched = simscheduler.SimScheduler(share=simscheduler.MIN_SHARE)
    await sched.run(time.sleep, 0.3)
    ended = time.perf_counter()
    started = await sched.run(time.perf_counter, who=object())
    assert started - ended < simscheduler.MAX_REST_S + 0.25


async def test_a_takeovers_re_simulation_is_sliced_and_lands_on_the_same_frame(monkeypatch):
    """A worker taking a run over re-simulates it in slices, turns on the simulation
    thread between which the worker's other runs and its lease renewals go on, to the very
    frame a straight replay of the command log gives."""
    from playground.live.runs import DOTS_PER_S, Run, RunRegistry
    from playground.live.simscheduler import scheduler
    from simulations import Simulation

    commands = [{"at_s": 2.0, "action": "fail", "target": "app2", "params": {}},
                {"at_s": 5.5, "action": "set", "target": "users",
                 "params": {"rate_rps": 300}}]
    straight = Simulation.replay(DESIGN, 3, commands, until=8.0, dots_per_s=DOTS_PER_S)
    straight.drop_dots()
    run = Run(RunRegistry(), DESIGN, 3, 1.0, paused=True)
    monkeypatch.setattr(scheduler, "budget", lambda who, frame_s: 0.0005)
    turns, run_job = [], scheduler.run

    async def counted(job, *args, who=None):
        turns.append(who)
        return await run_job(job, *args, who=who)

    monkeypatch.setattr(scheduler, "run", counted)
    await run.catch_up(commands, 8.0)
    assert turns.count(run) > 10, "re-simulated in many short turns"
    assert run.sim.command_log == straight.command_log
    assert json.dumps(run.last_frame) == json.dumps(straight.frame())


async def test_building_a_run_is_three_jobs_between_which_other_runs_go(monkeypatch):
    """Validating, predicting and building a large design take 0.1-0.5 s each: one job for
    all three stopped a light run's frames for most of a second per attacker's start."""
    from playground.live.simscheduler import scheduler

    jobs, run_job = [], scheduler.run

    async def counted(job, *args, who=None):
        jobs.append(who)
        return await run_job(job, *args, who=who)

    monkeypatch.setattr(scheduler, "run", counted)
    comm = await connect()
    snap = await start(comm, HEAVY, paused=True)
    assert snap["type"] == "snapshot", snap
    assert jobs[:3] == [None, None, None], "three jobs for no run yet"
    await comm.disconnect()


async def test_a_design_is_predicted_once_and_its_predictions_never_change(monkeypatch):
    """A class starts the same lesson sixty times: its predictions are kept, and a live `set`
    recomputes its own without touching them."""
    from playground.live import runs
    from simulations import predict as predict_package

    monkeypatch.setattr(runs, "_predicted", type(runs._predicted)())
    calls, predict = [], predict_package.predict
    monkeypatch.setattr(predict_package, "predict", lambda s: calls.append(s) or predict(s))
    design = dict(DESIGN, name="predicted once")
    comms = [await connect() for _ in range(3)]
    snaps = [await start(comm, design, paused=True) for comm in comms]
    assert len(calls) == 1
    kept = copy.deepcopy(snaps[0]["predictions"])
    run_id = snaps[0]["run_id"]
    await comms[0].send_json_to({"type": "command", "run_id": run_id, "command": {
        "action": "set", "target": "app1", "params": {"workers": 8}}})
    changed = await receive_until(comms[0], lambda m: m["type"] == "predictions")
    assert "recomputed" in changed["predictions"]
    assert json.dumps(runs._predictions(runs.validate(design))) == json.dumps(kept)
    for comm in comms:
        await comm.disconnect()


async def test_a_light_runs_slice_does_not_wait_out_a_heavy_ones_rest(monkeypatch):
    """After a heavy slice the thread rests (the event loop's share); a light run's slice
    waiting meanwhile used to wait it out too, a frame lost to every heavy slice: a victim
    among attackers' runs got 7 frames a second (bench/abuse.py). Its slice goes at once; a
    heavy one's waits."""
    import types

    from playground.live import simscheduler

    slept = []
    clock = types.SimpleNamespace(perf_counter=time.perf_counter, monotonic=time.monotonic,
                                  sleep=lambda s: slept.append(s) or time.sleep(s))
    monkeypatch.setattr(simscheduler, "time", clock)

    def busy(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    sched = simscheduler.SimScheduler(share=simscheduler.MIN_SHARE)
    heavy, light = object(), object()
    await sched.run(lambda: None, who=light)  # its last slice was short
    await sched.run(busy, 0.03, who=heavy)
    slept.clear()
    await sched.run(lambda: None, who=light)
    assert slept == [], "the light slice waited out the heavy one's rest"
    await sched.run(busy, 0.03, who=heavy)
    await sched.run(busy, 0.001, who=heavy)
    assert slept and slept[-1] > 0.01, "a heavy slice still rests after the last"


async def test_jobs_done_while_the_loop_is_busy_wake_it_once(monkeypatch):
    """A worker's runs tick together: their slices' outcomes, done while the event loop is
    busy, reach their callers with one wake-up of the loop (a write to its pipe), not one
    each (issue #20: a tenth of a worker's CPU)."""
    from playground.live.simscheduler import SimScheduler

    sched, loop = SimScheduler(), asyncio.get_running_loop()
    wakeups = []
    wake = loop.call_soon_threadsafe
    monkeypatch.setattr(loop, "call_soon_threadsafe",
                        lambda *args: wakeups.append(args) or wake(*args))
    jobs = [asyncio.ensure_future(sched.run(pow, n, 2, who=n)) for n in range(10)]
    await asyncio.sleep(0)  # every job is queued
    time.sleep(0.2)  # the loop is busy; the thread does them all meanwhile
    assert await asyncio.gather(*jobs) == [n * n for n in range(10)]
    assert len(wakeups) == 1


async def test_slices_queued_together_wake_the_loop_once(monkeypatch):
    """The runs of a process tick together: the outcomes of their slices, queued at once,
    reach the waiting event loop with one wake-up when the last is done, so their frames
    are published in one turn of the loop and share a write to Redis (issue #20), not one
    wake-up and one write per run as each finished."""
    from playground.live.simscheduler import SimScheduler

    sched, loop = SimScheduler(), asyncio.get_running_loop()
    await sched.run(lambda: None)  # the thread is up and waiting
    for who in range(10):  # light runs: their last slices were short
        await sched.run(lambda: None, who=who)
    wakeups = []
    wake = loop.call_soon_threadsafe
    monkeypatch.setattr(loop, "call_soon_threadsafe",
                        lambda *args: wakeups.append(args) or wake(*args))
    jobs = [sched.run(time.sleep, 0.0005, who=who) for who in range(10)]
    await asyncio.gather(*jobs)  # the loop waits, idle, while the thread works
    assert len(wakeups) == 1


async def test_a_heavy_slice_does_not_hold_back_the_outcomes_before_it():
    """Outcomes wait for light jobs only: a heavy slice queued behind a light one starts
    after the light one's outcome has gone to the loop."""
    from playground.live.simscheduler import SimScheduler

    sched = SimScheduler()
    heavy, light = object(), object()
    await sched.run(time.sleep, 0.05, who=heavy)
    await sched.run(lambda: None, who=light)
    first = asyncio.ensure_future(sched.run(time.perf_counter, who=light))
    second = asyncio.ensure_future(sched.run(time.sleep, 0.3, who=heavy))
    done = await first
    assert not second.done()
    assert time.perf_counter() - done < 0.25, "the light outcome waited for the heavy slice"
    await second

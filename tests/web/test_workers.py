"""PLAYGROUND_RUNNER=workers in one process: the play websocket relays, simworkers
(playground/live/simworker.py) drive the runs through a real Redis (database 11, keys under a
prefix of each test's own, removed afterwards). tests/cluster/ runs it as separate processes.
"""

import asyncio
import contextlib
import contextvars
import os
import secrets
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from playground.live import runstore, simworker
from playground.live.simworker import MOVED, SimWorker
from tests.web.test_play_consumer import DESIGN, connect, receive_until
from tests.web.test_smoke import ROOT, settings_with


@pytest.fixture
async def workers_mode(redis_url, settings):
    url = urlunsplit(urlsplit(redis_url)._replace(path="/11"))
    prefix = f"test-workers-{secrets.token_hex(4)}:"
    settings.PLAYGROUND_RUNNER = "workers"
    settings.REDIS_URL = url
    settings.PLAYGROUND_REDIS_PREFIX = prefix
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "playground.fenced.layers.FanOutRedisLayer",
                                           "CONFIG": {"hosts": [url]}}}
    yield
    r = runstore.client()
    keys = [k async for k in r.scan_iter(match=f"{prefix}*")]
    if keys:
        await r.delete(*keys)
    await r.aclose()


class Workers:
    """Simworkers serving in this event loop, as `manage.py simworker` would."""

    def __init__(self):
        self.tasks: dict[str, asyncio.Task] = {}

    async def start(self, name: str, max_runs: int = 5) -> SimWorker:
        """A worker serving, once web processes can see it (its first heartbeat)."""
        worker = SimWorker(max_runs=max_runs, name=name)
        self.tasks[name] = asyncio.create_task(worker.serve())
        deadline = time.monotonic() + 10
        while worker.id not in await runstore.loads():
            assert time.monotonic() < deadline, f"worker {name} did not come up"
            await asyncio.sleep(0.05)
        return worker

    async def stop(self, name: str) -> None:
        """As on SIGTERM: the serving stops, then the worker hands its runs over."""
        task = self.tasks.pop(name)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def workers(workers_mode):
    running = Workers()
    yield running
    for name in list(running.tasks):
        await running.stop(name)


async def start_run(comm, **extra):
    await comm.send_json_to({"type": "start", "scenario": DESIGN, **extra})
    return await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"), 10)


async def join(comm, run_id, token=None):
    await comm.send_json_to({"type": "join", "run_id": run_id,
                             **({"token": token} if token else {})})
    return await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"), 10)


@pytest.mark.redis
async def test_a_worker_drives_the_run_the_web_process_relays(workers):
    worker = await workers.start("w1")
    owner = await connect()
    snap = await start_run(owner, speed=4)
    assert snap["type"] == "snapshot", snap
    assert snap["owner"] is True and snap["token"]
    run_id = snap["run_id"]
    assert set(worker.runs) == {run_id}
    # The owner joined before any worker drove the run: the claim's roll call found it.
    deadline = time.monotonic() + 3
    while not worker.runs[run_id].viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(worker.runs[run_id].viewers) == 1
    times = [(await receive_until(owner, lambda m: m["type"] == "frame"))["frame"]["t"]
             for _ in range(5)]
    assert times == sorted(times) and times[-1] > times[0]

    viewer = await connect()
    seen = await join(viewer, run_id)
    assert seen["type"] == "snapshot" and seen["owner"] is False and "token" not in seen
    await viewer.send_json_to({"type": "control", "run_id": run_id, "action": "pause"})
    refused = await receive_until(viewer, lambda m: m["type"] == "error")
    assert refused["code"] == "forbidden" and refused["ref"] == "control"

    # Errors the worker finds come back to the asker only.
    await owner.send_json_to({"type": "control", "run_id": run_id, "action": "seek", "t": 1})
    error = await receive_until(owner, lambda m: m["type"] == "error")
    assert (error["code"], error["ref"]) == ("not_a_replay", "control")
    await owner.send_json_to({"type": "command", "run_id": run_id,
                              "command": {"action": "fail", "target": "nope"}})
    error = await receive_until(owner, lambda m: m["type"] == "error")
    assert (error["code"], error["ref"]) == ("invalid_command", "command")
    assert any("nope" in e for e in error["errors"])

    await owner.send_json_to({"type": "command", "run_id": run_id,
                              "command": {"action": "fail", "target": "app2"}})
    applied = await receive_until(viewer, lambda m: m["type"] == "command")
    assert applied["command"]["target"] == "app2"
    await owner.send_json_to({"type": "control", "run_id": run_id, "action": "pause"})
    status = await receive_until(viewer, lambda m: m["type"] == "status")
    assert status["status"]["playing"] is False
    # The record has what a next worker needs: the command log and the play state.
    record = await runstore.load(run_id)
    assert [c["target"] for c in record["commands"]] == ["app2"]
    assert record["playing"] is False and record["claimed"] is True
    await owner.disconnect()
    await viewer.disconnect()


@pytest.mark.redis
async def test_runs_spread_over_the_workers(workers):
    running = [await workers.start("w1"), await workers.start("w2")]
    await asyncio.sleep(0.3)  # both have said they are up (heartbeats)
    owner = await connect()
    first = await start_run(owner)
    second = await start_run(owner)
    assert first["type"] == second["type"] == "snapshot"
    assert sorted(len(w.runs) for w in running) == [1, 1]
    await owner.disconnect()


@pytest.mark.redis
async def test_start_when_every_worker_is_full_says_the_server_is_busy(workers):
    await workers.start("w1", max_runs=1)
    await asyncio.sleep(0.3)
    owner = await connect()
    assert (await start_run(owner))["type"] == "snapshot"
    await asyncio.sleep(0.2)  # the worker's heartbeat now says 1/1
    busy = await start_run(owner)
    assert (busy["type"], busy["code"]) == ("error", "server_busy")
    await owner.disconnect()


@pytest.mark.redis
async def test_a_stopping_worker_hands_its_run_to_another_with_a_notice(workers):
    running = {"w1": await workers.start("w1"), "w2": await workers.start("w2")}
    owner = await connect()
    snap = await start_run(owner, speed=4)
    run_id, token = snap["run_id"], snap["token"]
    await owner.send_json_to({"type": "command", "run_id": run_id,
                              "command": {"action": "fail", "target": "app1"}})
    await receive_until(owner, lambda m: m["type"] == "command")
    last = await receive_until(owner, lambda m: m["type"] == "frame")
    first = await runstore.client().get(runstore.key("lease", run_id))
    await workers.stop(first)  # saves, releases the lease

    notice = await receive_until(owner, lambda m: m["type"] == "notice", 10)
    assert notice["message"] == MOVED
    again = await receive_until(owner, lambda m: m["type"] == "snapshot", 10)
    assert again["owner"] is True and again["token"] == token
    assert again["frame"]["t"] >= last["frame"]["t"]
    assert [c["target"] for c in again["commands"]] == ["app1"], "the command log came along"
    assert again["frame"]["components"]["app1"]["up"] is False
    second = await runstore.client().get(runstore.key("lease", run_id))
    assert second != first and run_id in running[second].runs
    frame = await receive_until(owner, lambda m: m["type"] == "frame", 5)
    assert frame["frame"]["t"] >= again["frame"]["t"]
    await owner.disconnect()


@pytest.mark.redis
async def test_a_run_whose_worker_died_before_claiming_it_is_claimed_by_another(workers):
    # A worker that took the run off the queue and died at once: only its heartbeat is left.
    await runstore.heartbeat("ghost", 0, 5)
    owner = await connect()
    await owner.send_json_to({"type": "start", "scenario": DESIGN})
    deadline = time.monotonic() + 5
    while (run_id := await runstore.pop_pending()) is None:
        assert time.monotonic() < deadline, "the run was not queued"
        await asyncio.sleep(0.05)
    started_at = time.monotonic()
    await workers.start("w1")
    snap = await receive_until(owner, lambda m: m["type"] in ("snapshot", "notice"),
                               runstore.CLAIM_GRACE_S + 3 * runstore.RENEW_S)
    assert (snap["type"], snap["run_id"]) == ("snapshot", run_id), "a new run, not moved"
    assert time.monotonic() - started_at < runstore.CLAIM_GRACE_S + 3 * runstore.RENEW_S
    assert (await runstore.load(run_id))["claimed"] is True
    await owner.disconnect()


@pytest.mark.redis
async def test_a_run_whose_record_redis_lost_ends_as_lost(workers):
    worker = await workers.start("w1")
    owner = await connect()
    run_id = (await start_run(owner))["run_id"]
    await runstore.client().delete(runstore.key("run", run_id))
    ended = await receive_until(owner, lambda m: m["type"] == "ended", 5)
    assert ended["reason"] == "lost"
    await asyncio.sleep(runstore.RENEW_S + 0.5)
    assert run_id not in worker.runs
    # A browser that joins it again (its socket closed while Redis was away) hears why.
    await owner.send_json_to({"type": "join", "run_id": run_id})
    again = await receive_until(owner, lambda m: m["type"] in ("ended", "error"))
    assert (again["type"], again["reason"]) == ("ended", "lost")
    await owner.send_json_to({"type": "join", "run_id": "x" * 22})
    gone = await receive_until(owner, lambda m: m["type"] == "error")
    assert gone["code"] == "unknown_run"
    await owner.disconnect()


@pytest.mark.redis
async def test_a_worker_that_lost_its_lease_stops_driving_the_run(workers):
    worker = await workers.start("w1")
    owner = await connect()
    run_id = (await start_run(owner))["run_id"]
    await runstore.client().set(runstore.key("lease", run_id), "another-worker", px=60_000)
    deadline = time.monotonic() + 2 * runstore.RENEW_S + 1
    while run_id in worker.runs and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert run_id not in worker.runs
    while not await owner.receive_nothing(0.3):  # what was in flight
        await owner.receive_from()
    assert await owner.receive_nothing(1.0), "no frames from a worker without the lease"
    await owner.disconnect()


@pytest.mark.redis
async def test_start_without_a_worker_says_so(workers_mode):
    owner = await connect()
    answer = await start_run(owner)
    assert answer["type"] == "error" and answer["code"] == "no_workers"
    assert answer["ref"] == "start"
    await owner.disconnect()


@pytest.mark.redis
async def test_a_run_nobody_watches_any_more_ends_idle(workers, settings):
    settings.PLAYGROUND_IDLE_RUN_S = 0.5
    worker = await workers.start("w1")
    owner = await connect()
    run_id = (await start_run(owner))["run_id"]
    viewer = await connect()
    await join(viewer, run_id)
    await owner.disconnect()
    await asyncio.sleep(1.0)
    assert worker.runs[run_id].ended is None, "someone still watches"
    run = worker.runs[run_id]
    await viewer.send_json_to({"type": "leave", "run_id": run_id})
    await asyncio.sleep(1.5)
    assert run.ended == "idle"
    await viewer.disconnect()



def test_the_workers_runner_needs_redis_and_says_so():
    result = settings_with(PLAYGROUND_RUNNER="workers")
    assert result.returncode != 0
    assert "PLAYGROUND_RUNNER=workers needs REDIS_URL" in result.stderr
    assert "is 'inprocess' or 'workers'" in settings_with(PLAYGROUND_RUNNER="threads").stderr


def test_simworker_refuses_to_start_without_redis():
    result = subprocess.run([sys.executable, "manage.py", "simworker"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "REDIS_URL"})
    assert result.returncode != 0
    assert "simworker needs REDIS_URL" in result.stderr


@pytest.mark.redis
async def test_viewers_that_stop_answering_roll_calls_are_forgotten(workers, settings,
                                                                    monkeypatch):
    """A web process that died never says its viewers left: they stop answering the
    worker's roll calls, and the run, watched by nobody, ends as idle."""
    settings.PLAYGROUND_IDLE_RUN_S = 0.3
    monkeypatch.setattr(simworker, "ROLL_CALL_S", 0.1)
    monkeypatch.setattr(simworker, "VIEWER_GONE_S", 0.5)
    worker = await workers.start("w1")
    owner = await connect()
    run_id = (await start_run(owner))["run_id"]
    run = worker.runs[run_id]
    worker._viewer(run, "specific.dead-web-process!socket")  # joined, then its process died
    await owner.disconnect()
    deadline = time.monotonic() + 3 * runstore.RENEW_S + 2
    while run.ended is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert run.ended == "idle"


@pytest.mark.redis
async def test_a_workers_renewal_takes_as_many_round_trips_for_many_runs_as_for_one(
        workers, monkeypatch):
    """Every RENEW_S a worker renews its leases, saves its runs' progress and scans every
    run for orphans: in a few pipelines, not a round trip or two per run (issue #20: at 20
    runs, some 40 round trips a second per worker, each ~0.1 ms of its CPU)."""
    from redis.asyncio.connection import AbstractConnection

    worker = await workers.start("w1")
    counting = contextvars.ContextVar("counting", default=False)  # the renewal's, not the
    sends = []  # worker's other loops' (claiming polls Redis meanwhile)
    send = AbstractConnection.send_packed_command
    monkeypatch.setattr(AbstractConnection, "send_packed_command", lambda self, *a, **k: (
        counting.get() and sends.append(1)) or send(self, *a, **k))

    async def round_trips() -> int:
        sends.clear()
        token = counting.set(True)
        try:
            await worker._renew()
        finally:
            counting.reset(token)
        return len(sends)

    owners = []
    for _ in range(4):
        owners.append(owner := await connect())
        assert (await start_run(owner))["type"] == "snapshot"
        if len(owners) == 1:
            one = await round_trips()
    assert len(worker.runs) == 4
    assert await round_trips() == one
    assert all(run.ended is None for run in worker.runs.values())
    for owner in owners:
        await owner.disconnect()


@pytest.mark.redis
async def test_a_burst_of_joins_waits_for_redis_connections_rather_than_failing(workers_mode):
    """A class's joins arriving together (bench/load.py: 250 per web process) each ask Redis
    at the same moment. redis-py's pool refused every command past its 100th connection
    (MaxConnectionsError, read as Redis going away: close 4013, "come back later"); they
    now wait their turn for one of the pool's connections."""
    many = 3 * runstore.MAX_CONNECTIONS
    answers = await asyncio.gather(*(runstore.token_hash(f"no-run-{i}") for i in range(many)))
    assert answers == [None] * many

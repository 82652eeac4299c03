"""Replays of run links over the play websocket: `replay`, `seek`, and what a replay refuses."""

import pytest

from playground.live.runs import DOTS_PER_S, registry
from playground.models import RunLink
from simulations.replay import Replayer
from tests.web.test_play_consumer import DESIGN, connect, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]

COMMANDS = [{"at_s": 2.0, "action": "fail", "target": "app2", "params": {}},
            {"at_s": 6.5, "action": "recover", "target": "app2", "params": {}},
            {"at_s": 9.0, "action": "set", "target": "users", "params": {"rate_rps": 300}}]
UNTIL = 15.0


@pytest.fixture
def run_link() -> str:
    record = RunLink.objects.create(title="app2 fails for a while", document=DESIGN,
                                      seed=5, commands=COMMANDS, until_s=UNTIL)
    return record.share_id


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


async def replay(comm, run_link, **extra):
    await comm.send_json_to({"type": "replay", "run_link": run_link, **extra})
    return await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"))


async def seek(comm, run_id, t):
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "seek", "t": t})
    return await receive_until(comm, lambda m: m["type"] == "frame" and m.get("full")
                               and m["frame"]["t"] == t or m["type"] == "error")


async def test_a_replay_starts_and_streams_frames(run_link):
    comm = await connect()
    snap = await replay(comm, run_link, speed=20)
    assert snap["type"] == "snapshot" and snap["owner"] is True
    assert snap["replay"] == {"run_link": run_link, "title": "app2 fails for a while",
                              "until_s": UNTIL, "commands": COMMANDS}
    assert snap["seed"] == 5 and snap["scenario"] == DESIGN
    times = []
    while not times or times[-1] < 3:
        times.append((await receive_until(comm, lambda m: m["type"] == "frame"))["frame"]["t"])
    assert times == sorted(times) and len(set(times)) > 1
    await comm.disconnect()


async def test_seek_back_and_forth_gives_the_frames_of_the_recorded_run(run_link):
    comm = await connect()
    snap = await replay(comm, run_link, paused=True)
    run_id = snap["run_id"]
    at_12 = (await seek(comm, run_id, 12.0))["frame"]
    at_4 = (await seek(comm, run_id, 4.0))["frame"]
    assert at_4["components"]["app2"]["up"] is False  # failed at 2 s, back at 6.5 s
    again = (await seek(comm, run_id, 12.0))["frame"]
    assert again["summary"] == at_12["summary"]
    assert again["components"] == at_12["components"]
    # The same as the engine's replay straight to 12 s (dots aside).
    direct = Replayer(DESIGN, 5, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S)
    direct.advance(12.0)
    expected = direct.frame()
    assert at_12["summary"] == expected["summary"]
    assert at_12["components"] == expected["components"]
    assert at_12["summary"]["ok_rps"] > 250  # the rate was set to 300 at 9 s
    await comm.disconnect()


async def test_a_seek_brings_the_summaries_before_it_for_the_charts(run_link):
    comm = await connect()
    snap = await replay(comm, run_link, paused=True)
    run_id = snap["run_id"]
    for t in (12.0, 4.0):  # forward from 0, then back to a checkpoint
        history = (await seek(comm, run_id, t))["history"]
        assert [at for at, _ in history] == [k * 0.5 for k in range(1, int(2 * t) + 1)]
        direct = Replayer(DESIGN, 5, COMMANDS, UNTIL, dots_per_s=DOTS_PER_S)
        direct.advance(t)
        assert history[-1][1] == direct.frame()["summary"]
    await comm.disconnect()


async def test_a_replay_refuses_commands(run_link):
    comm = await connect()
    snap = await replay(comm, run_link, paused=True)
    await comm.send_json_to({"type": "command", "run_id": snap["run_id"],
                             "command": {"action": "fail", "target": "app1"}})
    error = await receive_until(comm, lambda m: m["type"] == "error")
    assert error["code"] == "replay_is_fixed" and error["ref"] == "command"
    assert "takes no commands" in error["message"]
    await comm.disconnect()


async def test_a_replay_pauses_at_until_s(run_link):
    comm = await connect()
    await replay(comm, run_link, speed=100)
    status = await receive_until(comm, lambda m: m["type"] == "status"
                                 and not m["status"]["playing"], timeout=10)
    assert status["status"]["t"] == UNTIL
    await comm.disconnect()


async def test_unknown_run_link_and_seek_of_a_live_run_are_refused_clearly(run_link):
    comm = await connect()
    error = await replay(comm, "x" * 22)
    assert error["type"] == "error" and error["code"] == "unknown_run_link"
    assert "no shared run has this link" in error["message"]

    await comm.send_json_to({"type": "start", "scenario": DESIGN, "paused": True})
    live = await receive_until(comm, lambda m: m["type"] == "snapshot")
    error = await seek(comm, live["run_id"], 3.0)
    assert error["code"] == "not_a_replay"
    assert "only a replay of a shared run can seek" in error["message"]

    snap = await replay(comm, run_link, paused=True)
    await comm.send_json_to({"type": "control", "run_id": snap["run_id"], "action": "seek"})
    error = await receive_until(comm, lambda m: m["type"] == "error")
    assert error["errors"] == ["t: seek needs the time to go to, in seconds"]
    await comm.disconnect()

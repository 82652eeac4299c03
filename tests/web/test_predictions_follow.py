"""The predictions a run sends are those of the parameters it runs with now, whichever way a
`set` reached it: live commands one after another, a `set` the scenario schedules, a reset,
a replay passing a recorded `set` or seeking back before it (issue 15)."""

import copy

import pytest

from playground.live.runs import registry
from playground.models import RunLink
from tests.web.test_play_consumer import DESIGN, connect, receive_until, start
from tests.web.test_replay_consumer import replay, seek

# app1 gets half of 200 rps: 4 workers of 10 ms are 25% busy, 8 are 12.5%
BUSY_4, BUSY_8 = 0.25, 0.125


def utilisation(predictions: dict, cid: str = "app1") -> float:
    return predictions["components"][cid]["utilisation"]


async def predictions_after(comm, command: dict, run_id: str) -> dict:
    await comm.send_json_to({"type": "command", "run_id": run_id, "command": command})
    return (await receive_until(comm, lambda m: m["type"] == "predictions"))["predictions"]


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


async def test_a_second_set_keeps_the_first_and_a_reset_drops_both():
    comm = await connect()
    snap = await start(comm, speed=5)
    run_id = snap["run_id"]
    assert utilisation(snap["predictions"]) == pytest.approx(BUSY_4)
    assert "recomputed" not in snap["predictions"]
    first = await predictions_after(comm, {"action": "set", "target": "app1",
                                           "params": {"workers": 8}}, run_id)
    assert utilisation(first) == pytest.approx(BUSY_8)
    second = await predictions_after(comm, {"action": "set", "target": "app2",
                                            "params": {"service_ms": 5}}, run_id)
    assert utilisation(second) == pytest.approx(BUSY_8)  # was the design's 25% again
    assert utilisation(second, "app2") == pytest.approx(BUSY_4 / 2)
    assert second["recomputed"]["params"] == {"app1": {"workers": 8},
                                              "app2": {"service_ms": 5}}
    # a viewer joining now is told the same
    viewer = await connect()
    await viewer.send_json_to({"type": "join", "run_id": run_id})
    joined = await receive_until(viewer, lambda m: m["type"] == "snapshot")
    assert joined["predictions"] == second
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "reset"})
    reset = await receive_until(comm, lambda m: m["type"] == "snapshot")
    assert utilisation(reset["predictions"]) == pytest.approx(BUSY_4)
    assert "recomputed" not in reset["predictions"]
    await comm.disconnect()
    await viewer.disconnect()


async def test_a_scheduled_set_changes_the_predictions_when_the_run_passes_it():
    design = copy.deepcopy(DESIGN)
    design["events"] = [{"at_s": 1.0, "action": "set", "target": "app1",
                         "params": {"workers": 8}}]
    comm = await connect()
    snap = await start(comm, design, speed=10)
    assert utilisation(snap["predictions"]) == pytest.approx(BUSY_4)
    message = await receive_until(comm, lambda m: m["type"] == "predictions")
    assert utilisation(message["predictions"]) == pytest.approx(BUSY_8)
    assert message["predictions"]["recomputed"] == {"at_s": 1.0,
                                                    "params": {"app1": {"workers": 8}}}
    frame = await receive_until(comm, lambda m: m["type"] == "frame")
    assert frame["frame"]["t"] >= 1.0  # sent before the first frame past the set
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_db")
async def test_a_replay_follows_its_recorded_sets_forwards_and_back():
    commands = [{"at_s": 3.0, "action": "set", "target": "app1", "params": {"workers": 8}}]
    record = await RunLink.objects.acreate(title="more workers", document=DESIGN, seed=5,
                                             commands=commands, until_s=10.0)
    comm = await connect()
    snap = await replay(comm, record.share_id, paused=True)
    run_id = snap["run_id"]
    assert utilisation(snap["predictions"]) == pytest.approx(BUSY_4)
    await seek(comm, run_id, 6.0)
    # the predictions arrived with the frames of the seek (before its last keyframe)
    await comm.send_json_to({"type": "join", "run_id": run_id})
    now = await receive_until(comm, lambda m: m["type"] == "snapshot")
    assert utilisation(now["predictions"]) == pytest.approx(BUSY_8)
    await seek(comm, run_id, 2.0)
    await comm.send_json_to({"type": "join", "run_id": run_id})
    back = await receive_until(comm, lambda m: m["type"] == "snapshot")
    assert utilisation(back["predictions"]) == pytest.approx(BUSY_4)
    assert "recomputed" not in back["predictions"]
    await comm.disconnect()

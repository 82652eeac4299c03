"""A co-edited design's shared run (issue 19): a run an editor starts is seen by everyone in
the room, late joiners too; editors steer it through the room, viewers and revoked editors
do not; what was done is told to everyone with the sender's name; the owner token stays
with the browser that started the run."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async

from playground.coedit import sharedrun
from playground.live import runstore
from playground.live.runs import registry
from tests.web.test_classroom_sockets import connect, receive_until
from tests.web.test_coedit import drain, owner_cookie, saved_design
from tests.web.test_coedit_store import in_redis  # noqa: F401 (a fixture)
from tests.web.test_workers import workers, workers_mode  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


async def start_run(design):
    """A play socket that started a run of the design: (socket, run id, owner token)."""
    play = await connect("/ws/play/")
    await play.send_json_to({"type": "start", "scenario": design, "paused": False})
    snapshot = await receive_until(play, "snapshot")
    return play, snapshot["run_id"], snapshot["token"]


async def send(comm, **message):
    await comm.send_to(text_data=json.dumps(message))


async def room(design):
    """An owner's room with two editors (Ada, Bob) and a viewer, all welcomed."""
    owner, share_id, link = await saved_design(design)
    ada, bob = await connect(link["socket"]), await connect(link["socket"])
    viewer = await connect(f"/ws/coedit/s/{share_id}/")
    me = await connect(f"/ws/coedit/s/{share_id}/", owner_cookie(owner))
    for comm, name in ((ada, "Ada"), (bob, "Bob"), (viewer, "Vic"), (me, "Olga")):
        await receive_until(comm, "welcome")
        await send(comm, type="presence", name=name, selection=[])
    for comm in (ada, bob, viewer, me):
        await drain(comm, 0.3)
    return owner, share_id, link, (ada, bob, viewer, me)


async def test_a_shared_run_reaches_everyone_in_the_room_and_late_joiners(design):
    _, share_id, link, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(ada, type="run", run_id=run_id, token=token)
    told = [await receive_until(c, "run") for c in (ada, bob, viewer, me)]
    assert {m["run_id"] for m in told} == {run_id}
    assert [m["control"] for m in told] == [True, True, False, True]
    assert all(m["by"] == "Ada" and "token" not in m for m in told)
    # A viewer's player watches it read-only: frames, no token.
    watch = await connect("/ws/play/")
    await watch.send_json_to({"type": "join", "run_id": run_id})
    snapshot = await receive_until(watch, "snapshot")
    assert snapshot["owner"] is False and "token" not in snapshot
    assert (await receive_until(watch, "frame"))["run_id"] == run_id
    # Someone who comes later attaches too, as the viewer they are.
    late = await connect(f"/ws/coedit/s/{share_id}/")
    await receive_until(late, "welcome")
    assert await receive_until(late, "run") == {
        "type": "run", "run_id": run_id, "by": "Ada", "control": False}
    # A new run replaces the shared one for everyone.
    play2, run2, token2 = await start_run(design)
    await send(bob, type="run", run_id=run2, token=token2)
    assert [(await receive_until(c, "run"))["run_id"]
            for c in (ada, bob, viewer, me, late)] == [run2] * 5
    # Once it ends, a newcomer is told of no run.
    await registry.get(run2).end("stopped")
    newcomer = await connect(link["socket"])
    await receive_until(newcomer, "welcome")
    assert "run" not in {m["type"] for m in await drain(newcomer, 0.5)}
    for comm in (ada, bob, viewer, me, late, newcomer, play, play2, watch):
        await comm.disconnect()


async def test_only_a_run_one_started_is_shared_and_only_by_editors(design):
    _, _, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(viewer, type="run", run_id=run_id, token=token)
    assert (await receive_until(viewer, "error"))["code"] == "read_only"
    await send(ada, type="run", run_id=run_id, token="x" * 32)  # not its token
    assert (await receive_until(ada, "error"))["code"] == "forbidden"
    await send(ada, type="run", run_id="../../etc", token=token)
    assert (await receive_until(ada, "error"))["code"] == "bad_message"
    assert "run" not in {m["type"] for m in await drain(bob, 0.3)}
    for comm in (ada, bob, viewer, me, play):
        await comm.disconnect()


async def test_editors_steer_the_shared_run_and_everyone_hears_who_did(design):
    _, share_id, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(ada, type="run", run_id=run_id, token=token)
    for comm in (ada, bob, viewer, me):
        await receive_until(comm, "run")
    run = registry.get(run_id)
    await send(bob, type="run_control", action="pause")
    said = [await receive_until(c, "run_action") for c in (ada, bob, viewer, me)]
    assert all(m == {"type": "run_action", "run_id": run_id, "by": "Bob", "kind": "control",
                     "action": "pause", "speed": None, "seconds": None} for m in said)
    assert run.playing is False
    assert (await receive_until(play, "status"))["status"]["playing"] is False
    await send(me, type="run_command", command={"action": "fail", "target": "db"})
    assert await receive_until(viewer, "run_action") == {
        "type": "run_action", "run_id": run_id, "by": "Olga", "kind": "command",
        "action": "fail", "target": "db"}
    assert (await receive_until(play, "command"))["command"]["target"] == "db"
    # Someone who comes later hears who sent the run's commands (the timeline names them).
    late = await connect(f"/ws/coedit/s/{share_id}/")
    assert (await receive_until(late, "run"))["run_id"] == run_id
    assert (await receive_until(late, "run_action"))["by"] == "Olga"
    await late.disconnect()
    # Checked like the play socket's messages, and told to nobody when refused.
    await send(bob, type="run_control", action="speed", speed=1000)
    assert (await receive_until(bob, "error"))["code"] == "bad_message"
    await send(bob, type="run_command", command={"action": "fail", "target": "nope"})
    assert (await receive_until(bob, "error"))["code"] == "invalid_command"
    assert "run_action" not in {m["type"] for m in await drain(viewer, 0.3)}
    # A viewer watches only.
    await send(viewer, type="run_control", action="play")
    assert (await receive_until(viewer, "error"))["code"] == "read_only"
    await send(viewer, type="run_command", command={"action": "recover", "target": "db"})
    assert (await receive_until(viewer, "error"))["code"] == "read_only"
    assert run.playing is False and len(run.sim.command_log) == 1
    for comm in (ada, bob, viewer, me, play):
        await comm.disconnect()


async def test_a_revoked_editor_loses_control_at_once(design):
    owner, share_id, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(me, type="run", run_id=run_id, token=token)
    assert (await receive_until(ada, "run"))["control"] is True
    response = await database_sync_to_async(owner.delete)(
        f"/api/scenarios/{share_id}/edit-link")
    assert response.status_code == 204
    assert (await receive_until(ada, "role"))["role"] == "viewer"
    assert (await receive_until(ada, "run"))["control"] is False  # the player says so
    await send(ada, type="run_control", action="pause")
    assert (await receive_until(ada, "error"))["code"] == "read_only"
    assert registry.get(run_id).playing is True
    # The owner still steers it.
    await send(me, type="run_control", action="pause")
    assert (await receive_until(ada, "run_action"))["by"] == "Olga"
    assert registry.get(run_id).playing is False
    for comm in (ada, bob, viewer, me, play):
        await comm.disconnect()


async def test_names_are_those_of_presence_bounded_and_relayed_as_text(design):
    _, _, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(ada, type="run", run_id=run_id, token=token)
    await receive_until(bob, "run")
    await send(bob, type="presence", name="<b>Bob</b> & co", selection=[])
    await send(bob, type="presence", name="B" * 41, selection=[])  # refused: Bob stays
    assert (await receive_until(bob, "error"))["code"] == "bad_message"
    await send(bob, type="run_control", action="step", seconds=0.5)
    said = await receive_until(ada, "run_action")
    assert said["by"] == "<b>Bob</b> & co" and said["seconds"] == 0.5
    for comm in (ada, bob, viewer, me, play):
        await comm.disconnect()


@pytest.mark.redis
@pytest.mark.usefixtures("in_redis")
async def test_with_redis_every_web_process_knows_the_rooms_run():
    record = {"run_id": "r" * 22, "token": "t" * 32, "by": "Ada"}
    await sharedrun._remember("abc", record)
    assert "abc" not in sharedrun._memory  # in Redis, for every process
    said = [{"run_id": record["run_id"], "by": "Ben", "kind": "command", "action": "fail",
             "target": f"app{n}"} for n in range(sharedrun.SAID + 5)]
    for action in said:
        await sharedrun._remember_said("abc", action)
    assert await sharedrun._recall("abc") == (record, said[-sharedrun.SAID:])
    for key in sharedrun._keys("abc"):
        assert await runstore.client().ttl(key) > 3600
    # A new run: who did what to the one before is forgotten
    await sharedrun._remember("abc", record | {"run_id": "s" * 22})
    assert await sharedrun._recall("abc") == (record | {"run_id": "s" * 22}, [])


@pytest.mark.redis
@pytest.mark.usefixtures("in_redis")
async def test_with_redis_a_newcomer_is_told_the_run_from_redis(design):
    """As on another web process: nothing of the room's run in this process's memory."""
    _, share_id, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(ada, type="run", run_id=run_id, token=token)
    await receive_until(bob, "run")
    await send(bob, type="run_command", command={"action": "fail", "target": "db"})
    await receive_until(ada, "run_action")
    assert share_id not in sharedrun._memory
    late = await connect(f"/ws/coedit/s/{share_id}/")
    assert (await receive_until(late, "run"))["run_id"] == run_id
    assert (await receive_until(late, "run_action"))["by"] == "Bob"
    for comm in (ada, bob, viewer, me, play, late):
        await comm.disconnect()


@pytest.mark.redis
async def test_with_simulation_workers_the_room_steers_through_the_worker(
        design, workers):  # noqa: F811 (the fixture)
    """A simulation worker drives the run: the room checks the token's hash in Redis and
    steers through the worker's group."""
    worker = await workers.start("w1")
    _, _, _, (ada, bob, viewer, me) = await room(design)
    play, run_id, token = await start_run(design)
    await send(ada, type="run", run_id=run_id, token=token)
    assert (await receive_until(bob, "run"))["control"] is True
    await send(bob, type="run_control", action="pause")
    assert (await receive_until(viewer, "run_action"))["action"] == "pause"
    deadline = time.monotonic() + 5
    while worker.runs[run_id].playing and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not worker.runs[run_id].playing
    # The worker refuses a command it cannot apply: its answer reaches the sender only.
    await send(bob, type="run_command", command={"action": "fail", "target": "nope"})
    refused = await receive_until(bob, "error", 10)
    assert refused["code"] == "invalid_command" and refused["ref"] == "run_command"
    await send(viewer, type="run_control", action="play")
    assert (await receive_until(viewer, "error"))["code"] == "read_only"
    for comm in (ada, bob, viewer, me, play):
        await comm.disconnect()

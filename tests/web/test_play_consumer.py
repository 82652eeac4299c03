"""The play websocket driven through the full ASGI application (origin checks included)."""

import asyncio
import copy
import json
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from playground.asgi import application
from playground.live.runs import registry

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")  # the origin must be the site itself (playground/live/wsorigin.py)

DESIGN = {
    "format": "playground.scenario/v1", "name": "two apps", "seed": 3, "duration_s": 600,
    "components": [
        {"id": "users", "kind": "client", "params": {"rate_rps": 200}},
        {"id": "lb", "kind": "load_balancer", "params": {"health_check_s": 0}},
        {"id": "app1", "kind": "service", "params": {"workers": 4, "service_ms": 10}},
        {"id": "app2", "kind": "service", "params": {"workers": 4, "service_ms": 10}},
    ],
    "links": [{"from": "users", "to": "lb"}, {"from": "lb", "to": "app1"},
              {"from": "lb", "to": "app2"}],
}


async def connect(origin=ORIGIN, timeout=1.0):
    comm = WebsocketCommunicator(application, "/ws/play/", headers=[origin, HOST])
    connected, _ = await comm.connect(timeout)
    assert connected
    return comm


async def receive_until(comm, predicate, timeout=5.0, ack=True):
    """Messages until one satisfies `predicate`; returns it. Frames are acked as a browser
    does (else the server stops sending after PLAYGROUND_WS_FRAMES_IN_FLIGHT)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await comm.receive_from(max(0.01, deadline - time.monotonic())))
        if ack and message["type"] == "frame":
            await comm.send_json_to({"type": "ack", "run_id": message["run_id"],
                                     "seq": message["seq"]})
        if predicate(message):
            return message


async def start(comm, design=DESIGN, **extra):
    await comm.send_json_to({"type": "start", "scenario": design, **extra})
    return await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"))


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


async def test_start_streams_frames_with_advancing_time():
    comm = await connect()
    snap = await start(comm, speed=10)
    assert snap["type"] == "snapshot" and snap["owner"] is True
    assert set(snap["frame"]["components"]) == {"users", "lb", "app1", "app2"}
    times = []
    for _ in range(8):
        frame = await receive_until(comm, lambda m: m["type"] == "frame")
        times.append(frame["frame"]["t"])
    assert times == sorted(times) and times[-1] > times[0]
    assert frame["frame"]["links"], "link throughput is reported"
    await comm.disconnect()


async def test_frames_carry_only_changes_and_keyframes_heal():
    comm = await connect()
    snap = await start(comm)
    seq = snap["seq"]
    state = copy.deepcopy(snap["frame"]["components"])
    saw_full = False
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        m = await receive_until(comm, lambda m: m["type"] == "frame")
        assert m["seq"] == seq + 1
        seq = m["seq"]
        if m.get("full"):
            saw_full = True
            assert set(m["frame"]["components"]) == set(state)
        for cid, fields in m["frame"]["components"].items():
            state[cid].update(fields)
    assert saw_full, "a keyframe arrives every 2 s"
    assert state["app1"]["up"] is True
    await comm.disconnect()


async def test_pause_step_speed_and_status():
    comm = await connect()
    snap = await start(comm, paused=True)
    run_id = snap["run_id"]
    assert snap["status"]["playing"] is False
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "step",
                             "seconds": 2.5})
    frame = await receive_until(comm, lambda m: m["type"] == "frame" and m["frame"]["t"] > 0)
    assert frame["frame"]["t"] == pytest.approx(2.5)
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "speed",
                             "speed": 50})
    status = await receive_until(comm, lambda m: m["type"] == "status")
    assert status["status"]["speed"] == 50 and status["status"]["playing"] is False
    await comm.send_json_to({"type": "control", "run_id": run_id, "action": "play"})
    frame = await receive_until(comm, lambda m: m["type"] == "frame" and m["frame"]["t"] > 5)
    assert frame["status"]["playing"] is True
    await comm.disconnect()


async def test_fail_recover_and_set_apply_at_simulated_time():
    comm = await connect()
    snap = await start(comm, speed=5)
    run_id = snap["run_id"]
    await receive_until(comm, lambda m: m["type"] == "frame" and m["frame"]["t"] > 1)
    await comm.send_json_to({"type": "command", "run_id": run_id,
                             "command": {"action": "fail", "target": "app2"}})
    applied = await receive_until(comm, lambda m: m["type"] == "command")
    assert applied["command"]["action"] == "fail" and applied["command"]["at_s"] > 1
    await receive_until(
        comm, lambda m: m["type"] == "frame" and "app2" in m["frame"]["components"]
        and m["frame"]["components"]["app2"].get("up") is False)
    # health_check_s is 0: the balancer stops sending to app2 at once, app1 takes it all.
    busy = await receive_until(
        comm, lambda m: m["type"] == "frame" and m["frame"]["components"].get("app1", {})
        .get("rps", 0) > 150)
    assert busy["frame"]["components"]["app1"]["rps"] > 150
    await comm.send_json_to({"type": "command", "run_id": run_id,
                             "command": {"action": "recover", "target": "app2"}})
    await receive_until(comm, lambda m: m["type"] == "command"
                        and m["command"]["action"] == "recover")
    await comm.send_json_to({"type": "command", "run_id": run_id, "command": {
        "action": "set", "target": "users", "params": {"rate_rps": 400}}})
    await receive_until(comm, lambda m: m["type"] == "command"
                        and m["command"]["action"] == "set")
    faster = await receive_until(
        comm, lambda m: m["type"] == "frame"
        and m["frame"]["components"].get("lb", {}).get("rps", 0) > 330)
    assert faster["frame"]["components"]["lb"]["rps"] > 330
    await comm.disconnect()


@pytest.mark.parametrize("message, code, fragment", [
    ("not json", "bad_message", "not valid JSON"),
    (json.dumps({"type": "teleport"}), "bad_message", "type must be one of"),
    (json.dumps({"type": "control", "run_id": "x" * 22, "action": "jump"}), "bad_message",
     "action"),
    (json.dumps({"type": "start", "scenario": {"format": "nope"}}), "invalid_scenario",
     "format"),
    (json.dumps({"type": "control", "run_id": "x" * 22, "action": "pause"}), "unknown_run",
     "no such run"),
])
async def test_bad_messages_get_errors_and_socket_stays_open(message, code, fragment):
    comm = await connect()
    await comm.send_to(text_data=message)
    error = json.loads(await comm.receive_from())
    assert error["type"] == "error" and error["code"] == code
    assert fragment in error["message"] + " ".join(error["errors"])
    await comm.send_json_to({"type": "ping", "id": 1})
    assert json.loads(await comm.receive_from()) == {"type": "pong", "id": 1}
    await comm.disconnect()


async def test_invalid_command_names_the_path():
    comm = await connect()
    snap = await start(comm)
    await comm.send_json_to({"type": "command", "run_id": snap["run_id"], "command": {
        "action": "set", "target": "app1", "params": {"workers": 0}}})
    error = await receive_until(comm, lambda m: m["type"] == "error")
    assert error["code"] == "invalid_command"
    assert error["errors"] == ["command.params.workers: must be >= 1"]
    await comm.disconnect()


async def test_foreign_origin_is_refused():
    comm = WebsocketCommunicator(application, "/ws/play/",
                                 headers=[(b"origin", b"http://evil.example")])
    connected, _ = await comm.connect()
    assert not connected


async def test_viewer_watches_but_cannot_steer_and_owner_token_restores_control():
    owner = await connect()
    snap = await start(owner, speed=5)
    run_id, token = snap["run_id"], snap["token"]
    viewer = await connect()
    await viewer.send_json_to({"type": "join", "run_id": run_id})
    seen = await receive_until(viewer, lambda m: m["type"] == "snapshot")
    assert seen["owner"] is False and "token" not in seen
    await receive_until(viewer, lambda m: m["type"] == "frame")
    await viewer.send_json_to({"type": "control", "run_id": run_id, "action": "pause"})
    error = await receive_until(viewer, lambda m: m["type"] == "error")
    assert error["code"] == "forbidden"
    # The owner's tab closes: the run goes on for the viewer.
    await owner.disconnect()
    before = (await receive_until(viewer, lambda m: m["type"] == "frame"))["frame"]["t"]
    after = (await receive_until(viewer, lambda m: m["type"] == "frame"
                                 and m["frame"]["t"] > before))["frame"]["t"]
    assert after > before
    # The owner reconnects with its token and steers again.
    back = await connect()
    await back.send_json_to({"type": "join", "run_id": run_id, "token": token})
    assert (await receive_until(back, lambda m: m["type"] == "snapshot"))["owner"] is True
    await back.send_json_to({"type": "control", "run_id": run_id, "action": "pause"})
    status = await receive_until(back, lambda m: m["type"] == "status")
    assert status["status"]["playing"] is False
    await viewer.disconnect()
    await back.disconnect()


async def test_oversized_message_closes_the_socket():
    comm = await connect()
    with override_settings(PLAYGROUND_WS_MAX_MESSAGE_BYTES=1000):
        await comm.send_to(text_data=json.dumps({"type": "ping", "id": "x" * 2000}))
        error = json.loads(await comm.receive_from())
        assert error["code"] == "too_large"
        assert (await comm.receive_output())["type"] == "websocket.close"
        await comm.disconnect()


async def test_flood_is_rate_limited_then_closed():
    with override_settings(PLAYGROUND_WS_RATE=5, PLAYGROUND_WS_BURST=5,
                           PLAYGROUND_WS_FLOOD_CLOSE_S=0.3):
        comm = await connect()
        codes = []
        closed = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not closed:
            await comm.send_json_to({"type": "ping", "id": 1})
            while not comm.output_queue.empty():
                output = await comm.receive_output()
                if output["type"] == "websocket.close":
                    closed = True
                else:
                    reply = json.loads(output["text"])
                    codes.append(reply.get("code", reply["type"]))
            await asyncio.sleep(0.01)
        assert closed
        # the burst answered, then refusals: one error (not one per message), then the close
        assert codes[:5] == ["pong"] * 5
        assert codes.count("rate_limited") == 2 and codes[-1] == "rate_limited"
        await comm.disconnect()  # the consumer's end, as Daphne's would follow the close


async def test_runs_per_connection_are_limited():
    with override_settings(PLAYGROUND_RUNS_PER_CONNECTION=1):
        comm = await connect()
        assert (await start(comm))["type"] == "snapshot"
        error = await start(comm)
        assert error["code"] == "too_many_runs"
        await comm.disconnect()


async def test_unwatched_run_stops_after_idle_timeout():
    with override_settings(PLAYGROUND_IDLE_RUN_S=0.3):
        comm = await connect()
        snap = await start(comm)
        await comm.disconnect()
        await asyncio.sleep(1.0)
        assert registry.get(snap["run_id"]) is None


async def test_pings_are_answered_while_a_heavy_run_advances():
    """The simulation advances in a thread: while it does, the event loop goes on answering
    other sockets. Shown by timestamps, not by a latency bound (that would only measure how
    busy the machine is): pings sent and answered entirely inside one advance."""
    heavy = copy.deepcopy(DESIGN)
    heavy["components"][0]["params"]["rate_rps"] = 20000
    for comp in heavy["components"][2:]:
        comp["params"]["workers"] = 200
    runner = await connect()
    snap = await start(runner, heavy, speed=100)
    assert snap["type"] == "snapshot"
    run = registry.get(snap["run_id"])
    advances = []
    advance = run.sim.advance

    def timed_advance(*args, **kwargs):
        started = time.perf_counter()
        try:
            return advance(*args, **kwargs)
        finally:
            advances.append((started, time.perf_counter()))

    run.sim.advance = timed_advance
    await receive_until(runner, lambda m: m["type"] == "frame")
    pinger = await connect()
    pings = []
    for i in range(60):  # 16 a second: under the connection's message rate limit
        t0 = time.perf_counter()
        await pinger.send_json_to({"type": "ping", "id": i})
        await receive_until(pinger, lambda m: m["type"] == "pong")
        pings.append((t0, time.perf_counter()))
        await asyncio.sleep(0.06)
    frame = await receive_until(runner, lambda m: m["type"] == "frame")
    assert frame["status"]["behind"] is True, "the run really is heavy: it cannot keep up"
    inside = [p for p in pings if any(a <= p[0] and p[1] <= b for a, b in advances)]
    assert len(inside) >= 5, f"{len(inside)} of {len(pings)} pings answered during an advance"
    rtts = sorted(b - a for a, b in pings)
    print(f"ping round trip p50 {rtts[len(rtts) // 2] * 1000:.2f} ms; "
          f"{len(inside)} of {len(pings)} answered while the simulation advanced")
    await runner.disconnect()
    await pinger.disconnect()


async def test_a_playing_run_pauses_at_the_scenario_duration():
    short = copy.deepcopy(DESIGN)
    short["duration_s"] = 3
    comm = await connect()
    await start(comm, short, speed=20)
    status = await receive_until(comm, lambda m: m["type"] == "status")
    assert status["status"]["playing"] is False
    assert status["status"]["t"] == pytest.approx(3)
    await comm.disconnect()

"""The classroom websockets through the full ASGI application: the instructor's dashboard and
the students' seat sockets (presence, the chaos drill, grades arriving live)."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, RequestFactory

from playground.accounts import permissions
from playground.asgi import application
from playground.classrooms import live, services
from playground.classrooms.models import Assignment, Classroom, Submission
from playground.live.runs import registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")  # the origin must be the site itself (playground/live/wsorigin.py)
BRIEF = {"format": "playground.scenario/v1", "name": "Brief", "duration_s": 60,
         "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 10}}],
         "links": []}


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


@database_sync_to_async
def make_class():
    teacher = User.objects.create_user("teacher", password="pw-12345678")
    room = Classroom.objects.create(name="Class")
    room.instructors.add(teacher)
    assignment = Assignment.objects.create(classroom=room, title="A", brief=BRIEF,
                                           goals={"p99_ms_max": 50})
    ada = services.join(room, "<b>Ada</b>")
    return teacher, room, assignment, ada


@database_sync_to_async
def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def seat_cookie(student) -> bytes:
    response = permissions.remember_seat(RequestFactory().get("/"), HttpResponse(), student.key)
    return f"sdp_seats={response.cookies['sdp_seats'].value}".encode()


async def connect(path, cookie=b""):
    headers = [ORIGIN, HOST] + ([(b"cookie", cookie)] if cookie else [])
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def receive_until(comm, kind, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await comm.receive_from(max(0.01, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


async def test_only_instructors_open_the_dashboard():
    teacher, room, _, ada = await make_class()
    path = f"/ws/dashboard/{room.join_id}/"
    for cookie in (b"", await session_cookie(
            await database_sync_to_async(User.objects.create_user)("x", password="pw-1234567"))):
        comm = await connect(path, cookie)
        assert (await comm.receive_json_from())["code"] == "forbidden"
        assert (await comm.receive_output())["code"] == 4003
        await comm.disconnect()
    # A student's seat cookie is not an instructor either.
    comm = await connect(path, seat_cookie(ada))
    assert (await comm.receive_json_from())["code"] == "forbidden"
    await comm.disconnect()


async def test_dashboard_roster_presence_drill_and_grades():
    teacher, room, assignment, ada = await make_class()
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    roster = await receive_until(dash, "roster")
    assert [s["name"] for s in roster["students"]] == ["<b>Ada</b>"]  # as text, never HTML
    assert roster["students"][0]["online"] is False

    seat = await connect(f"/ws/seat/{assignment.share_id}/", seat_cookie(ada))
    presence = await receive_until(dash, "presence")
    assert presence == {"type": "presence", "student": ada.pk, "name": "<b>Ada</b>",
                        "online": True, "run_id": None}
    await seat.send_json_to({"type": "watching", "run_id": "r" * 22})
    assert (await receive_until(dash, "presence"))["run_id"] == "r" * 22

    await dash.send_json_to({"type": "drill", "command": {"action": "fail", "target": "db"}})
    drill = await receive_until(seat, "drill")
    assert drill["command"] == {"action": "fail", "target": "db"}
    assert drill["from"] == "teacher"
    await dash.send_json_to({"type": "drill", "command": {"action": "explode", "target": "db"}})
    assert (await receive_until(dash, "error"))["code"] == "bad_drill"

    sub = await database_sync_to_async(Submission.objects.create)(
        assignment=assignment, student=ada, document=BRIEF, state=Submission.DONE, score=1,
        out_of=1, met=True, cost_per_hour=2.0)
    await asyncio.to_thread(live.submission_graded, sub)
    graded = await receive_until(dash, "graded")
    assert (graded["student"], graded["assignment"], graded["met"]) == (
        ada.pk, assignment.share_id, True)

    await seat.disconnect()
    assert (await receive_until(dash, "presence"))["online"] is False
    await dash.disconnect()


async def test_redis_going_away_sends_dashboards_and_seats_to_reconnect_later():
    # The workers' layer tells each socket `layer.down` (playground/fenced/layers.py); both
    # browsers reconnect with backoff on close 4013 (dashboard.js, assignment.js).
    teacher, room, assignment, ada = await make_class()
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    await receive_until(dash, "roster")
    seat = await connect(f"/ws/seat/{assignment.share_id}/", seat_cookie(ada))
    await receive_until(dash, "presence")
    layer = get_channel_layer()
    for group, comm in ((live.dashboard_group(room.pk), dash),
                        (live.seats_group(room.pk), seat)):
        await layer.group_send(group, {"type": "layer.down"})
        assert (await receive_until(comm, "notice"))["message"].startswith(
            "the live-run service is unavailable")
        assert (await comm.receive_output(2))["code"] == 4013
        await comm.disconnect()


async def test_digests_reach_the_dashboard_batched():
    teacher, room, assignment, ada = await make_class()
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    await receive_until(dash, "roster")
    for t in range(5):  # five digests of one student inside one flush: the newest wins
        await live.publish_digest(room.pk, ada.pk, {"run_id": "x" * 22, "t": float(t),
                                                    "playing": True})
    batch = await receive_until(dash, "digests")
    assert len(batch["digests"]) == 1 and batch["digests"][0]["t"] == 4.0
    # A dashboard that connects later sees the latest digest in its roster.
    late = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    roster = await receive_until(late, "roster")
    assert roster["students"][0]["digest"]["t"] == 4.0
    await dash.disconnect()
    await late.disconnect()


async def test_a_browser_without_a_seat_gets_no_seat_socket():
    _, room, assignment, _ = await make_class()
    comm = await connect(f"/ws/seat/{assignment.share_id}/")
    assert (await comm.receive_json_from())["code"] == "forbidden"
    await comm.disconnect()


RUNNABLE = {"format": "playground.scenario/v1", "name": "Mine", "duration_s": 600,
            "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 50}},
                           {"id": "app", "kind": "service",
                            "params": {"workers": 2, "service_ms": 5}}],
            "links": [{"from": "users", "to": "app"}]}


async def test_a_students_run_sends_digests_to_the_dashboard():
    teacher, room, assignment, ada = await make_class()
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    await receive_until(dash, "roster")
    play = await connect("/ws/play/", seat_cookie(ada))
    await play.send_json_to({"type": "start", "scenario": RUNNABLE, "speed": 10,
                             "assignment": assignment.share_id})
    snapshot = await receive_until(play, "snapshot")
    digests = []
    while len(digests) < 3:  # at most 2 a second: three take about a second
        digests += (await receive_until(dash, "digests"))["digests"]
    assert {d["student"] for d in digests} == {ada.pk}
    assert {d["run_id"] for d in digests} == {snapshot["run_id"]}
    last = digests[-1]
    assert last["playing"] and last["t"] > 0 and last["throughput_rps"] > 0
    assert time.time() - last["at"] < 2
    await play.send_json_to({"type": "control", "run_id": snapshot["run_id"], "action": "stop"})
    while not (await receive_until(dash, "digests"))["digests"][-1]["ended"]:
        pass
    await play.disconnect()
    await dash.disconnect()


async def test_a_run_on_an_assignment_needs_a_seat():
    _, _, assignment, _ = await make_class()
    play = await connect("/ws/play/")
    await play.send_json_to({"type": "start", "scenario": RUNNABLE,
                             "assignment": assignment.share_id})
    error = await receive_until(play, "error")
    assert error["code"] == "not_in_class"
    await play.disconnect()


async def test_the_dashboard_shows_a_design_from_its_first_open_and_after_a_submit(settings):
    """A student who opened the assignment has a design (the brief's copy), and a submitted
    design is their latest: the dashboard's thumbnail follows both, not only autosaves."""
    settings.PLAYGROUND_GRADER = "worker"  # nothing grades in this test's background
    teacher, room, assignment, ada = await make_class()
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    await receive_until(dash, "roster")
    await database_sync_to_async(services.work_of)(assignment, ada)
    opened = await receive_until(dash, "work")
    assert (opened["student"], opened["design"]["assignment"]) == (ada.pk, assignment.share_id)
    app = {"id": "app", "kind": "service", "params": {"service_ms": 5}}
    design = {**BRIEF, "components": [*BRIEF["components"], app],
              "links": [{"from": "users", "to": "app"}]}
    await database_sync_to_async(services.submit)(assignment, ada, design)
    submitted = await receive_until(dash, "work")
    assert submitted["student"] == ada.pk
    assert submitted["design"]["updated_at"] > opened["design"]["updated_at"]
    await dash.disconnect()

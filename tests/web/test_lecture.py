"""Lecture mode (issue 19): an instructor presents one of their designs to a classroom.
Who may start one, who gets in and with which role, the presenter's viewport relayed to the
followers (and checked), who follows reaching the dashboard, the pen handed and taken back
changing a student's role at once, and the lecture ending closing its sockets."""

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from playground.classrooms import services
from playground.classrooms.models import Lecture
from playground.models import Scenario
from tests.web.test_classroom_sockets import (
    connect,
    make_class,
    receive_until,
    seat_cookie,
    session_cookie,
)
from tests.web.test_coedit import drain, edit, replica

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def saved_by(client: Client, design) -> str:
    return client.post("/api/scenarios", {"document": design},
                       content_type="application/json").json()["id"]


@database_sync_to_async
def lecture_for(design):
    """A classroom with a student, Ada, and its instructor presenting a design of theirs."""
    teacher, room, _, ada = make_class.__wrapped__()
    teaching = signed_in(teacher)
    response = teaching.post(f"/classes/{room.join_id}/lecture",
                             {"scenario": saved_by(teaching, design)})
    lecture = Lecture.objects.get(classroom=room)
    assert response.url == f"/l/{lecture.lecture_id}"
    return teacher, room, ada, lecture


async def join(lecture, cookie=b""):
    comm = await connect(f"/ws/coedit/l/{lecture.lecture_id}/", cookie)
    return comm, await receive_until(comm, "welcome")


# -- starting a lecture ----------------------------------------------------------------------
def test_only_an_instructor_presents_their_own_design(design):
    teacher, room, _, ada = make_class.__wrapped__()
    stranger = signed_in(User.objects.create_user("stranger", password="pw-12345678"))
    theirs = saved_by(stranger, design)
    url = f"/classes/{room.join_id}/lecture"
    assert stranger.post(url, {"scenario": theirs}).status_code == 404  # not their class
    teaching = signed_in(teacher)
    # someone else's design, an unknown one, or a lesson: nothing starts
    Scenario.objects.create(share_id="lesson1", title="L", document=design,
                            lesson_slug="l1", lesson_order=1)
    dashboard = f"/classes/{room.join_id}/dashboard"
    for share_id in (theirs, "nope", "lesson1"):
        assert teaching.post(url, {"scenario": share_id}).url == dashboard
    assert not Lecture.objects.exists()
    mine = saved_by(teaching, design)
    assert teaching.post(url, {"scenario": mine}).status_code == 302
    lecture = Lecture.objects.get(classroom=room)
    # the student finds it on their classroom page and opens it; a stranger is sent to join
    student = Client()
    student.cookies["sdp_seats"] = seat_cookie(ada).decode().split("=", 1)[1]
    assert f"/l/{lecture.lecture_id}" in student.get(f"/c/{room.join_id}").content.decode()
    page = student.get(f"/l/{lecture.lecture_id}").content.decode()
    assert f"/ws/coedit/l/{lecture.lecture_id}/" in page
    assert stranger.get(f"/l/{lecture.lecture_id}").url == f"/join/{room.join_id}"
    assert teaching.post(f"/classes/{room.join_id}/lecture/end").status_code == 302
    assert student.get(f"/l/{lecture.lecture_id}").status_code == 404
    assert f"/l/{lecture.lecture_id}" not in student.get(f"/c/{room.join_id}").content.decode()


def test_the_classroom_page_and_the_dashboard_learn_of_a_lecture_while_open(design, settings):
    """What their pages poll: the lecture running now, to the class's students and
    instructors only, bounded per person."""
    teacher, room, _, ada = make_class.__wrapped__()
    teaching = signed_in(teacher)
    student = Client()
    student.cookies["sdp_seats"] = seat_cookie(ada).decode().split("=", 1)[1]
    stranger = signed_in(User.objects.create_user("stranger", password="pw-12345678"))
    url = f"/c/{room.join_id}/lecture"
    for person in (student, teaching):
        response = person.get(url)
        assert response.json() == {"lecture": None}
        assert response["Cache-Control"] == "no-store"
    # nobody else learns of it, nor whether the classroom exists
    assert stranger.get(url).status_code == Client().get(url).status_code == 404
    assert stranger.get("/c/nope/lecture").json() == stranger.get(url).json()
    mine = saved_by(teaching, design)
    Scenario.objects.filter(share_id=mine).update(title="<b>Queues</b>")
    teaching.post(f"/classes/{room.join_id}/lecture", {"scenario": mine})
    lecture = Lecture.objects.get(classroom=room)
    want = {"id": lecture.lecture_id, "url": f"/l/{lecture.lecture_id}", "title": "<b>Queues</b>"}
    for person in (student, teaching):
        assert person.get(url).json() == {"lecture": want}  # the page sets the title as text
    assert stranger.get(url).status_code == 404
    teaching.post(f"/classes/{room.join_id}/lecture/end")
    assert student.get(url).json() == {"lecture": None}
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "lecture_state": "2/60"}
    asked = [student.get(url).status_code for _ in range(3)]
    assert asked == [200, 200, 429]
    assert teaching.get(url).status_code == 200  # per person: the instructor is not counted in


# -- the room --------------------------------------------------------------------------------
async def test_students_watch_read_only_and_strangers_are_refused(design):
    teacher, room, ada, lecture = await lecture_for(design)
    presenter, welcome = await join(lecture, await session_cookie(teacher))
    assert welcome["role"] == "owner"
    student, welcome = await join(lecture, seat_cookie(ada))
    assert welcome["role"] == "viewer"
    colleague = await database_sync_to_async(User.objects.create_user)("co", password="pw-1234")
    await database_sync_to_async(room.instructors.add)(colleague)
    other, welcome_other = await join(lecture, await session_cookie(colleague))
    assert welcome_other["role"] == "viewer"  # another instructor of the class watches
    update = edit(replica(welcome), lambda d: d.update(name="mine"))
    await student.send_to(text_data=json.dumps({"type": "update", "update": update}))
    assert (await receive_until(student, "error"))["code"] == "read_only"
    # Someone without a seat (or a removed student) gets nothing of the design.
    stranger = await connect(f"/ws/coedit/l/{lecture.lecture_id}/")
    refused = await receive_until(stranger, "error")
    assert refused["code"] == "not_found" and "state" not in refused
    assert (await stranger.receive_output(2))["code"] == 4004
    await database_sync_to_async(services.remove)(ada)
    removed = await connect(f"/ws/coedit/l/{lecture.lecture_id}/", seat_cookie(ada))
    assert (await receive_until(removed, "error"))["code"] == "not_found"
    for comm in (presenter, student, other):
        await comm.disconnect()


async def test_the_presenters_viewport_reaches_followers_checked(design):
    teacher, room, ada, lecture = await lecture_for(design)
    presenter, _ = await join(lecture, await session_cookie(teacher))
    student, _ = await join(lecture, seat_cookie(ada))
    view = {"type": "viewport", "x": 120.5, "y": -40, "zoom": 1.5}
    await presenter.send_json_to(view)
    got = await receive_until(student, "viewport")
    assert (got["x"], got["y"], got["zoom"]) == (120.5, -40, 1.5)
    for bad in ({"x": "1", "y": 0, "zoom": 1}, {"x": 0, "y": 0, "zoom": 9},
                {"x": 1e9, "y": 0, "zoom": 1}, {"x": True, "y": 0, "zoom": 1}, {"y": 0}):
        await presenter.send_json_to({"type": "viewport", **bad})
        error = await receive_until(presenter, "error")
        assert (error["code"], error["ref"]) == ("bad_message", "viewport")
    # none of them reached the student (who may hear the good one twice: as it was sent, and
    # as the presenter's answer to the student's arrival, as the layer orders them)
    relayed = [m for m in await drain(student, 0.3) if m["type"] == "viewport"]
    assert all((m["x"], m["zoom"]) == (120.5, 1.5) for m in relayed)
    # Only the presenter leads; a newcomer starts from the presenter's last view.
    await student.send_json_to(view)
    assert (await receive_until(student, "error"))["code"] == "forbidden"
    late, _ = await join(lecture, seat_cookie(ada))
    assert (await receive_until(late, "viewport"))["zoom"] == 1.5
    for comm in (presenter, student, late):
        await comm.disconnect()


async def test_the_dashboard_sees_who_follows_and_hands_the_pen(design):
    teacher, room, ada, lecture = await lecture_for(design)
    presenter, _ = await join(lecture, await session_cookie(teacher))
    student, welcome = await join(lecture, seat_cookie(ada))
    # A dashboard opened after the student joined hears of them (the roll call).
    dash = await connect(f"/ws/dashboard/{room.join_id}/", await session_cookie(teacher))
    seen = await receive_until(dash, "lecture")
    assert (seen["student"], seen["name"], seen["following"], seen["role"], seen["present"]) \
        == (ada.pk, "<b>Ada</b>", True, "viewer", True)
    await student.send_json_to({"type": "follow", "following": False})
    assert (await receive_until(dash, "lecture"))["following"] is False
    while (await receive_until(presenter, "presence"))["peer"].get("following") is not False:
        pass
    await student.send_json_to({"type": "follow", "following": "yes"})
    assert (await receive_until(student, "error"))["ref"] == "follow"

    await dash.send_json_to({"type": "pen", "student": ada.pk, "pen": True})
    assert (await receive_until(student, "role"))["role"] == "editor"
    assert (await receive_until(dash, "lecture"))["role"] == "editor"
    doc = replica(welcome)
    await student.send_to(text_data=json.dumps(
        {"type": "update", "update": edit(doc, lambda d: d.update(name="Ada's"))}))
    await receive_until(student, "accepted")
    await dash.send_json_to({"type": "pen", "student": ada.pk, "pen": False})
    assert (await receive_until(student, "role"))["role"] == "viewer"
    await student.send_to(text_data=json.dumps(
        {"type": "update", "update": edit(doc, lambda d: d.update(name="still mine"))}))
    assert (await receive_until(student, "error"))["code"] == "read_only"
    for stranger in (10**9, True, str(ada.pk)):
        await dash.send_json_to({"type": "pen", "student": stranger, "pen": True})
        assert (await receive_until(dash, "error"))["code"] == "bad_pen"
    # A reconnect while holding the pen: the role comes from the lecture's pen.
    await dash.send_json_to({"type": "pen", "student": ada.pk, "pen": True})
    await receive_until(student, "role")
    again, welcome = await join(lecture, seat_cookie(ada))
    assert welcome["role"] == "editor"

    await student.disconnect()
    while (await receive_until(dash, "lecture"))["present"]:
        pass
    for comm in (presenter, again, dash):
        await comm.disconnect()


async def test_ending_the_lecture_closes_its_sockets(design):
    teacher, room, ada, lecture = await lecture_for(design)
    student, _ = await join(lecture, seat_cookie(ada))
    response = await database_sync_to_async(
        lambda: signed_in(teacher).post(f"/classes/{room.join_id}/lecture/end"))()
    assert response.status_code == 302
    ended = await receive_until(student, "error")
    assert (ended["code"], ended["ref"]) == ("not_found", "lecture")
    assert (await student.receive_output(2))["code"] == 4004

"""Classroom pages, the student API and who may see what (playground/permissions.py)."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from playground import permissions
from playground.classrooms import services
from playground.classrooms.models import Assignment, Classroom, Submission, Work

pytestmark = pytest.mark.django_db

BRIEF = {"format": "playground.scenario/v1", "name": "Serve 100 rps", "duration_s": 60,
         "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 100}},
                        {"id": "app", "kind": "service",
                         "params": {"workers": 2, "service_ms": 5}}],
         "links": [{"from": "users", "to": "app"}]}


@pytest.fixture(autouse=True)
def graded_elsewhere(settings):
    settings.PLAYGROUND_GRADER = "worker"  # nothing grades in these tests' background


@pytest.fixture
def teacher():
    return User.objects.create_user("teacher", password="pw-12345678")


@pytest.fixture
def room(teacher):
    room = Classroom.objects.create(name="Scalability 101")
    room.instructors.add(teacher)
    return room


@pytest.fixture
def assignment(room):
    return Assignment.objects.create(classroom=room, title="Serve it", brief=BRIEF,
                                     goals={"p99_ms_max": 50})


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seated(room, name="Ada") -> Client:
    """A browser that joined the classroom with a display name only."""
    client = Client()
    response = client.post(f"/join/{room.join_id}", {"display_name": name})
    assert response.status_code == 302, response.content
    return client


def test_instructor_creates_a_classroom_and_sees_its_code(teacher):
    client = logged_in(teacher)
    response = client.post("/classes", {"name": "Distributed systems"})
    room = Classroom.objects.get(name="Distributed systems")
    assert response["Location"] == f"/classes/{room.join_id}"
    page = client.get(response["Location"]).content.decode()
    assert room.code in page and f"/join/{room.join_id}" in page


def test_only_the_classrooms_instructors_see_its_pages(room, assignment):
    stranger = logged_in(User.objects.create_user("other", password="pw-12345678"))
    base = f"/classes/{room.join_id}"
    student = services.join(room, "Ada")
    for url in (base, f"{base}/dashboard", f"{base}/assignments/new",
                f"{base}/assignments/{assignment.share_id}",
                f"{base}/assignments/{assignment.share_id}/grades.csv"):
        assert stranger.get(url).status_code == 404, url
        assert Client().get(url).status_code == 302, url  # to the log-in page
    assert stranger.post(f"{base}/students/{student.pk}/remove").status_code == 404
    student.refresh_from_db()
    assert not student.removed


def test_join_by_code_then_name_gives_a_seat(room, assignment):
    client = Client()
    wrong = client.post("/join", {"code": "ZZZZZZZZ"})
    assert b"No classroom has that code" in wrong.content
    bad = client.post("/join", {"code": "12"})
    assert b"8 letters and digits" in bad.content
    typed = room.code.lower()[:4] + "-" + room.code.lower()[4:]
    assert client.post("/join", {"code": typed})["Location"] == f"/join/{room.join_id}"
    response = client.post(f"/join/{room.join_id}", {"display_name": "Ada"})
    assert response["Location"] == f"/c/{room.join_id}"
    page = client.get(f"/c/{room.join_id}").content.decode()
    assert "Ada" in page and assignment.title in page
    assert Client().get(f"/c/{room.join_id}").status_code == 302  # no seat: join first


def test_join_codes_are_rate_limited(settings, room):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "join": "5/300"}
    client = Client()
    codes = [client.post("/join", {"code": "ZZZZZZZZ"}).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]


def test_student_names_are_text_on_the_instructors_pages(teacher, room):
    seated(room, "<img src=x onerror=alert(1)>")
    page = logged_in(teacher).get(f"/classes/{room.join_id}").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_assignment_form_names_the_wrong_goal(teacher, room):
    client = logged_in(teacher)
    base = f"/classes/{room.join_id}/assignments/new"
    response = client.post(base, {"title": "Drill", "seeds": 3, "duration_s": 120,
                                  "p99_ms_max": 100, "fault_target": "db", "fault_at_s": 30})
    assert "goals.faults[0].target: the brief has no component" in response.content.decode()
    none = client.post(base, {"title": "Nothing", "seeds": 3, "duration_s": 120})
    assert "set at least one of" in none.content.decode()
    ok = client.post(base, {"title": "Fast", "seeds": 2, "duration_s": 60, "p99_ms_max": 80,
                            "fault_target": "users", "fault_at_s": 30,
                            "allowed_kinds": ["service", "cache"]})
    assert ok.status_code == 302
    made = Assignment.objects.get(title="Fast")
    assert made.goals["seeds"] == [1, 2] and made.goals["faults"][0]["target"] == "users"
    assert made.goals["allowed_kinds"] == ["service", "cache"]


def test_the_student_api_saves_and_submits_their_own_work(room, assignment):
    ada = seated(room, "Ada")
    url = f"/api/assignments/{assignment.share_id}"
    assert ada.get(f"{url}/work").json()["document"] == BRIEF
    mine = dict(BRIEF, name="Mine")
    assert ada.put(f"{url}/work", {"document": mine},
                   content_type="application/json").status_code == 200
    bad = ada.put(f"{url}/work", {"document": dict(BRIEF, components="none")},
                  content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"][0].startswith("document.components")
    sent = ada.post(f"{url}/submissions", {"document": mine}, content_type="application/json")
    assert sent.status_code == 202 and sent.json()["state"] == "queued"
    listed = ada.get(f"{url}/submissions").json()["results"]
    assert [s["id"] for s in listed] == [sent.json()["id"]]
    # Another student sees only their own; someone with no seat sees nothing at all.
    bob = seated(room, "Bob")
    assert bob.get(f"{url}/submissions").json()["results"] == []
    assert bob.get(f"{url}/work").json()["document"] == BRIEF
    assert Client().get(f"{url}/work").status_code == 404
    assert Client().post(f"{url}/submissions", {"document": mine},
                         content_type="application/json").status_code == 404


def test_student_api_needs_csrf(room, assignment):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/join/{room.join_id}")
    token = client.cookies["csrftoken"].value
    client.post(f"/join/{room.join_id}", {"display_name": "Ada",
                                          "csrfmiddlewaretoken": token})
    url = f"/api/assignments/{assignment.share_id}/submissions"
    body = json.dumps({"document": BRIEF})
    assert client.post(url, body, content_type="application/json").status_code == 403
    assert client.post(url, body, content_type="application/json",
                       HTTP_X_CSRFTOKEN=token).status_code == 202


def test_a_removed_student_loses_their_seat(teacher, room, assignment):
    ada = seated(room, "Ada")
    student = room.students.get(display_name="Ada")
    logged_in(teacher).post(f"/classes/{room.join_id}/students/{student.pk}/remove")
    assert ada.get(f"/api/assignments/{assignment.share_id}/work").status_code == 404
    assert ada.get(f"/c/{room.join_id}").status_code == 302


def test_a_forged_seat_cookie_is_no_seat(room, assignment):
    student = services.join(room, "Ada")
    client = Client()
    client.cookies["sdp_seats"] = student.key  # unsigned: anyone could write it
    assert client.get(f"/api/assignments/{assignment.share_id}/work").status_code == 404


def test_classmates_see_each_others_work_only_after_an_allowed_deadline(rf, room, assignment):
    ada, bob = services.join(room, "Ada"), services.join(room, "Bob")
    work = services.work_of(assignment, ada)

    def request_as(student):
        """A request from the browser holding this student's seat cookie."""
        request = rf.get("/")
        request.user = AnonymousUser()
        response = permissions.remember_seat(request, HttpResponse(), student.key)
        request.COOKIES["sdp_seats"] = response.cookies["sdp_seats"].value
        return request

    assert permissions.may_see_work(request_as(ada), work)
    assert not permissions.may_see_work(request_as(bob), work)
    assignment.deadline = timezone.now() - timedelta(hours=1)
    assignment.save()
    assert not permissions.may_see_work(request_as(bob), work)  # not allowed by the assignment
    assignment.peers_visible_after_deadline = True
    assignment.save()
    assert permissions.may_see_work(request_as(bob), work)


def test_grades_csv_and_leaderboard_pages(teacher, room, assignment):
    ada = services.join(room, "Ada")
    Submission.objects.create(assignment=assignment, student=ada, document=BRIEF,
                              state=Submission.DONE, score=1, out_of=1, met=True,
                              cost_per_hour=1.5)
    client = logged_in(teacher)
    base = f"/classes/{room.join_id}/assignments/{assignment.share_id}"
    page = client.get(base).content.decode()
    assert re.search(r"Ada</td>\s*<td><span class=\"pill pill-ok\">1 / 1", page)
    csv_text = client.get(f"{base}/grades.csv").content.decode()
    assert csv_text.splitlines()[1].startswith("Ada,1,1,True,1.5000")


def test_the_assignment_page_is_the_editor_with_the_goals(room, assignment):
    ada = seated(room, "Ada")
    page = ada.get(f"/a/{assignment.share_id}").content.decode()
    data = json.loads(re.search(r'<script id="page-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))
    assert data["mode"] == "assignment"
    assert data["assignment"]["goals"] == [{"goal": "p99_ms", "target": 50.0,
                                            "text": "p99 latency at most 50 ms"}]
    assert data["assignment"]["document"] == BRIEF
    assert Work.objects.filter(assignment=assignment).count() == 1
    assert Client().get(f"/a/{assignment.share_id}")["Location"] == f"/join/{room.join_id}"


def test_design_pictures_follow_who_may_see_work(teacher, room, assignment):
    ada, bob = seated(room, "Ada"), seated(room, "Bob")
    ada.get(f"/a/{assignment.share_id}")
    work = Work.objects.get(assignment=assignment, student__display_name="Ada")
    url = f"/works/{work.pk}/preview.svg"
    assert ada.get(url).status_code == 200
    assert logged_in(teacher).get(url)["Content-Type"] == "image/svg+xml"
    assert bob.get(url).status_code == 404
    assert Client().get(url).status_code == 404
    assert "peer-designs" not in bob.get(f"/c/{room.join_id}").content.decode()
    assignment.deadline = timezone.now() - timedelta(minutes=5)
    assignment.peers_visible_after_deadline = True
    assignment.save()
    assert bob.get(url).status_code == 200
    page = bob.get(f"/c/{room.join_id}").content.decode()
    assert "peer-designs" in page and url in page

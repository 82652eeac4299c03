"""Classroom pages, the student API and who may see what (playground/accounts/permissions.py)."""

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from playground.accounts import permissions
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
    bad = client.post("/join", {"code": "zz"})
    assert "A join code is 8 characters; “ZZ” has 2." in bad.content.decode()
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
    row = next(csv.DictReader(io.StringIO(csv_text)))
    assert (row["student"], row["goals_met"], row["all_met"]) == ("Ada", "1", "True")
    assert (row["cost"], row["cost_per_hour"]) == ("1.50", "1.5")


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


# -- the instructor's flow (issue 14) --------------------------------------------------------
def _new_assignment(client, room, **fields):
    data = {"title": "Serve it", "seeds": 2, "duration_s": 60, "p99_ms_max": 80, **fields}
    return client.post(f"/classes/{room.join_id}/assignments/new", data)


def test_the_default_brief_is_a_valid_design_a_student_can_save_back(teacher, room):
    assert _new_assignment(logged_in(teacher), room).status_code == 302
    made = Assignment.objects.get(title="Serve it")
    kinds = sorted(c["kind"] for c in made.brief["components"])
    assert kinds == ["client", "service"] and made.brief["links"]
    assert "goals" in made.brief["description"]  # it says what to do
    ada = seated(room, "Ada")
    url = f"/api/assignments/{made.share_id}/work"
    copy = ada.get(url).json()["document"]
    saved = ada.put(url, {"document": copy}, content_type="application/json")
    assert saved.status_code == 200, saved.content


def test_an_instructors_own_starting_design_is_checked(teacher, room):
    from playground.models import Scenario

    broken = Scenario.objects.create(title="Half done", document={
        "format": "playground.scenario/v1", "name": "Half done", "duration_s": 60,
        "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 10}}],
        "links": []})
    response = _new_assignment(logged_in(teacher), room, brief=f"http://x/s/{broken.share_id}")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Starting design" in text and "has no outgoing link" in text
    assert not Assignment.objects.filter(title="Serve it").exists()


@pytest.mark.parametrize(("typed", "says"), [
    ("zzzz1111", "“1” is never in a join code"),
    ("ZZZZ-0O00", "“0” and “O” are never in a join code"),
    ("abc", "8 characters; “ABC” has 3"),
    ("ZZZZ!ZZZ", "“!” is never in a join code"),
])
def test_a_wrong_join_code_is_told_what_is_wrong(typed, says):
    page = Client().post("/join", {"code": typed}).content.decode()
    assert says in page, page


def test_grades_csv_has_each_goals_worst_figure_and_whether_it_was_met(teacher, room):
    assignment = Assignment.objects.create(
        classroom=room, title="Two goals", brief=BRIEF,
        goals={"p99_ms_max": 50, "cost_per_hour_max": 1, "seeds": [1, 2]})
    ada, bob, _cy = (services.join(room, n) for n in ("Ada", "Bob", "Cy"))
    result = {"gradable": True, "errors": [], "met": False, "score": 1, "out_of": 2,
              "goals": [{"goal": "p99_ms", "measured": 61.25, "per_seed": [40.0, 61.25],
                         "met": False},
                        {"goal": "cost_per_hour", "measured": 0.825, "per_seed": [0.825, 0.825],
                         "met": True}]}
    Submission.objects.create(assignment=assignment, student=ada, document=BRIEF,
                              state=Submission.DONE, score=1, out_of=2, met=False,
                              cost_per_hour=0.825, result=result)
    Submission.objects.create(assignment=assignment, student=bob, document=BRIEF,
                              state=Submission.DONE, score=0, out_of=2, met=False,
                              result={"gradable": False, "errors": ["no client"], "goals": []})
    base = f"/classes/{room.join_id}/assignments/{assignment.share_id}"
    rows = list(csv.DictReader(io.StringIO(logged_in(teacher).get(f"{base}/grades.csv")
                                           .content.decode())))
    by_name = {r["student"]: r for r in rows}
    assert by_name["Ada"]["p99_ms_worst"] == "61.25" and by_name["Ada"]["p99_ms_goal"] == "not met"
    assert by_name["Ada"]["cost_per_hour_worst"] == "0.825"
    assert by_name["Ada"]["cost_per_hour_goal"] == "met"
    assert by_name["Ada"]["cost"] == "0.83"  # as every page shows it
    assert by_name["Ada"]["cost_per_hour"] == "0.825"  # and in full
    assert by_name["Bob"]["p99_ms_goal"] == "not met" and by_name["Bob"]["p99_ms_worst"] == ""
    assert by_name["Cy"]["goals_met"] == "0" and by_name["Cy"]["p99_ms_goal"] == ""


def test_one_money_format_on_the_results_page(teacher, room, assignment):
    ada = services.join(room, "Ada")
    Submission.objects.create(assignment=assignment, student=ada, document=BRIEF,
                              state=Submission.DONE, score=1, out_of=1, met=True,
                              cost_per_hour=0.825)
    page = logged_in(teacher).get(
        f"/classes/{room.join_id}/assignments/{assignment.share_id}").content.decode()
    assert "<td>0.83</td>" in page


@pytest.mark.parametrize(("value", "shown"), [
    (0.825, "0.83"), (0.125, "0.13"), (2.675, "2.68"), (1234.5, "1,234.50"), (0.0, "0.00"),
    (0.004999, "0.00"), (-0.125, "-0.13"), (None, "–")])
def test_money_rounds_half_up_from_the_figure_people_read(value, shown):
    from playground.classrooms.services import money

    assert money(value) == shown


def test_dashboard_links_say_where_they_go_and_offer_the_drill_targets(teacher, room,
                                                                      assignment):
    page = logged_in(teacher).get(f"/classes/{room.join_id}/dashboard").content.decode()
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">'
                                r"(.*?)</script>", page, re.S).group(1))
    targets = data["drill"][assignment.share_id]
    assert targets["components"] == [{"id": "users", "kind": "client", "label": "users"},
                                     {"id": "app", "kind": "service", "label": "app"}]
    assert targets["links"] == [["users", "app"]]
    assert "Results and grades CSV" not in page


def test_strangers_are_sent_to_log_in_for_any_classroom_address(teacher, room, assignment):
    """docs/classrooms.md: not signed in, every /classes address (a real classroom or not)
    answers the same redirect to the log-in page; signed in without teaching it, 404."""
    real = f"/classes/{room.join_id}"
    fake = "/classes/" + "x" * len(room.join_id)
    for tail in ("", "/dashboard", f"/assignments/{assignment.share_id}/grades.csv"):
        for base in (real, fake):
            response = Client().get(base + tail)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login?next=")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "classrooms.md").read_text()
    assert "sent to the log-in page" in docs and "Everyone else gets 404" not in docs


def test_editor_pages_are_never_cached(room, assignment):
    """The back button must not bring back the copy of a student's work from a first visit:
    the editor's pages carry the design as it is now."""
    ada = seated(room, "Ada")
    for response in (ada.get(f"/a/{assignment.share_id}"), Client().get("/")):
        assert "no-store" in response["Cache-Control"]


def test_joining_again_after_removal_says_so(teacher, room):
    ada = User.objects.create_user("ada", password="pw-12345678")
    services.remove(services.join(room, "Ada", ada))
    page = logged_in(ada).post(f"/join/{room.join_id}", {"display_name": "Ada"})
    assert page.status_code == 200
    assert "You were removed from this classroom." in page.content.decode()

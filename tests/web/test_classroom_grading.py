"""Joining a classroom, submitting, background grading, the leaderboard and the grades CSV."""

import csv
import io
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from playground.classrooms import services
from playground.classrooms.grader import Grader, claim_next
from playground.classrooms.models import CODE_ALPHABET, Assignment, Classroom, Submission

pytestmark = pytest.mark.django_db(transaction=True)

BRIEF = {"format": "playground.scenario/v1", "name": "Serve 100 rps", "duration_s": 60,
         "components": [{"id": "users", "kind": "client",
                         "params": {"rate_rps": 100, "read_ratio": 1.0}}], "links": []}


def design(workers: int) -> dict:
    """One service of `workers` at 5 ms: one worker is M/M/1 at rho 0.5 (p99 46 ms), two
    workers answer almost without queueing (p99 near 5 ms x ln 100 = 23 ms)."""
    return dict(BRIEF, components=BRIEF["components"] + [
        {"id": "app", "kind": "service", "params": {"workers": workers, "service_ms": 5}}],
        links=[{"from": "users", "to": "app"}])


def grade_all() -> int:
    grader = Grader()
    try:
        return grader.grade_pending()
    finally:
        grader.close()


@pytest.fixture(autouse=True)
def graded_here(settings):
    """Graders are this test's explicit calls, not the web process's background thread."""
    settings.PLAYGROUND_GRADER = "worker"


@pytest.fixture
def assignment():
    teacher = User.objects.create_user("teacher", password="pw-12345678")
    room = Classroom.objects.create(name="Scalability 101")
    room.instructors.add(teacher)
    return Assignment.objects.create(
        classroom=room, title="Keep p99 under 35 ms", brief=BRIEF,
        goals={"p99_ms_max": 35, "success_ratio_min": 0.99, "duration_s": 60,
               "warmup_s": 5, "seeds": [1, 2]})


def test_join_codes_are_long_and_unambiguous():
    codes = {Classroom.objects.create(name=str(i)).code for i in range(20)}
    assert len(codes) == 20
    assert all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(CODE_ALPHABET)


def test_join_names_and_accounts(assignment):
    room = assignment.classroom
    with pytest.raises(services.ClassroomError, match="display_name"):
        services.join(room, "   ")
    ada = services.join(room, "  Ada   Lovelace ")
    assert ada.display_name == "Ada Lovelace" and ada.user is None
    user = User.objects.create_user("grace", password="pw-12345678")
    seat = services.join(room, "Grace", user)
    assert services.join(room, "Grace again", user) == seat  # one seat per account
    services.remove(seat)
    with pytest.raises(services.ClassroomError, match="removed"):
        services.join(room, "Grace", user)


def test_submissions_are_graded_in_the_background_and_ranked(assignment):
    room = assignment.classroom
    slow, fast = services.join(room, "Slow"), services.join(room, "Fast")
    s1 = services.submit(assignment, slow, design(1))
    s2 = services.submit(assignment, fast, design(2))
    assert {s1.state, s2.state} == {Submission.QUEUED}
    assert grade_all() == 2
    s1.refresh_from_db()
    s2.refresh_from_db()
    assert s1.state == s2.state == Submission.DONE
    assert (s1.score, s1.out_of, s1.met) == (1, 2, False)  # p99 ~46 ms misses 35 ms
    assert (s2.score, s2.out_of, s2.met) == (2, 2, True)
    p99 = next(g for g in s1.result["goals"] if g["goal"] == "p99_ms")
    assert p99["measured"] > 35 and len(p99["per_seed"]) == 2
    board = services.leaderboard(assignment)
    assert [row["student"] for row in board] == ["Fast", "Slow"]
    rows = list(csv.DictReader(io.StringIO(services.grades_csv(assignment))))
    assert {r["student"]: r["all_met"] for r in rows} == {"Fast": "True", "Slow": "False"}


def test_a_design_that_drops_the_traffic_is_graded_as_such(assignment):
    student = services.join(assignment.classroom, "Sneaky")
    doc = design(1)
    doc["components"] = [c for c in doc["components"] if c["id"] != "users"] + [
        {"id": "bots", "kind": "client", "params": {"rate_rps": 1}}]
    doc["links"] = [{"from": "bots", "to": "app"}]
    sub = services.submit(assignment, student, doc)
    grade_all()
    sub.refresh_from_db()
    assert sub.state == Submission.DONE and not sub.met and sub.score == 0
    assert any("'users' is missing" in e for e in sub.result["errors"])


def test_invalid_designs_deadlines_and_floods_are_refused(assignment):
    student = services.join(assignment.classroom, "Eve")
    with pytest.raises(services.ClassroomError, match=r"document\.components"):
        services.submit(assignment, student, dict(BRIEF, components=[]))
    for _ in range(services.MAX_QUEUED_PER_STUDENT):
        services.submit(assignment, student, design(1))
    with pytest.raises(services.ClassroomError, match="still being graded"):
        services.submit(assignment, student, design(1))
    assignment.deadline = timezone.now() - timedelta(minutes=1)
    assignment.save()
    with pytest.raises(services.ClassroomError, match="deadline has passed"):
        services.submit(assignment, services.join(assignment.classroom, "Late"), design(2))


def test_a_vanished_graders_claim_is_taken_over(assignment):
    student = services.join(assignment.classroom, "Bob")
    sub = services.submit(assignment, student, design(2))
    assert claim_next("dead-worker").pk == sub.pk
    assert claim_next("other") is None  # claimed, and the lease is fresh
    Submission.objects.filter(pk=sub.pk).update(
        claimed_at=timezone.now() - timedelta(hours=1))
    taken = claim_next("other")
    assert taken.pk == sub.pk and taken.claimed_by == "other"


def test_csv_cells_cannot_be_formulas(assignment):
    services.join(assignment.classroom, "=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(services.grades_csv(assignment))))
    assert rows[1][0].startswith("'=")


def test_the_embedded_grader_thread_grades_after_a_submit(assignment, settings):
    settings.PLAYGROUND_GRADER = "thread"
    sub = services.submit(assignment, services.join(assignment.classroom, "Kim"), design(2))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sub.refresh_from_db()
        if sub.state == Submission.DONE:
            break
        time.sleep(0.2)
    assert sub.state == Submission.DONE and sub.met


def test_a_grading_that_overruns_is_stopped_and_says_so(assignment, settings):
    settings.PLAYGROUND_GRADE_TIMEOUT_S = 0.5
    assignment.goals = {**assignment.goals, "duration_s": 3600, "seeds": [1, 2, 3]}
    assignment.save()
    sub = services.submit(assignment, services.join(assignment.classroom, "Slowpoke"),
                          design(2))
    started = time.monotonic()
    assert grade_all() == 1
    assert time.monotonic() - started < 30  # the child was stopped, not waited for
    sub.refresh_from_db()
    assert sub.state == Submission.FAILED
    assert sub.result["errors"] == ["grading took longer than 0.5 s"]

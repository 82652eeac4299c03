"""What people do in a classroom: join, leave a design, submit, and how the class ranks.

Who may do each is decided in playground/accounts/permissions.py; these functions assume it
was asked.
"""

from __future__ import annotations

import contextlib
import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from simulations import ScenarioError, validate
from simulations.grading import check_goals, count_goals, goal_list

from . import grader, live
from .models import Assignment, Classroom, Student, Submission, Work

MAX_STUDENTS = 500
MAX_QUEUED_PER_STUDENT = 3  # submissions waiting at once: a student cannot flood the graders


class ClassroomError(ValueError):
    """A request that cannot be done; each error says why, for the person who asked.
    `status` is the HTTP status an API answers it with."""

    def __init__(self, *errors: str, status: int = 400, **extra: Any):
        super().__init__("; ".join(errors))
        self.errors, self.status, self.extra = list(errors), status, extra


def join(classroom: Classroom, display_name: str, user=None) -> Student:
    name = " ".join(display_name.split())
    if not name:
        raise ClassroomError("display_name: enter the name your instructor will see")
    if len(name) > 60:
        raise ClassroomError("display_name: at most 60 characters")
    if user is not None and user.is_authenticated:
        seat = classroom.students.filter(user=user).first()
        if seat is not None:
            if seat.removed:
                raise ClassroomError("you were removed from this classroom")
            return seat
    if classroom.students.filter(removed=False).count() >= MAX_STUDENTS:
        raise ClassroomError(f"this classroom is full ({MAX_STUDENTS} students)")
    return Student.objects.create(classroom=classroom, display_name=name,
                                  user=user if user is not None and user.is_authenticated
                                  else None)


def remove(student: Student) -> None:
    student.removed = True
    student.save(update_fields=["removed"])


def work_of(assignment: Assignment, student: Student) -> Work:
    """The student's copy of the assignment's design, made from the brief on first open (the
    dashboard's thumbnail shows it from then on)."""
    work, made = Work.objects.get_or_create(assignment=assignment, student=student,
                                            defaults={"document": assignment.brief})
    if made:
        transaction.on_commit(lambda: live.work_saved(work))
    return work


def past_deadline(assignment: Assignment) -> bool:
    return assignment.deadline is not None and timezone.now() > assignment.deadline


def _checked(document: Any) -> dict[str, Any]:
    try:
        validate(document)
    except ScenarioError as exc:
        raise ClassroomError(*(f"document.{e}" for e in exc.errors)) from None
    return document


def save_work(assignment: Assignment, student: Student, document: dict[str, Any],
              base_version: int | None = None) -> Work:
    """Keep the student's design as it is (the caller checked it as a draft: it need not
    run). `base_version`, the version the editor started from: if the work was saved
    since (another tab or device), 409 and nothing changes."""
    work_of(assignment, student)
    with transaction.atomic():
        work = Work.objects.select_for_update().get(assignment=assignment, student=student)
        if base_version is not None and base_version != work.version:
            raise ClassroomError(f"base_version: your work is at version {work.version} now, "
                                 f"not {base_version}: it was saved from another tab or "
                                 "device", status=409, version=work.version)
        if work.document != document:
            work.document = document
            work.version += 1
            work.save()
    live.work_saved(work)
    return work


def submit(assignment: Assignment, student: Student, document: Any) -> Submission:
    """Queue a design for grading (graded in the background; the result arrives later)."""
    if past_deadline(assignment):
        raise ClassroomError("the deadline has passed: submissions are closed", status=409)
    document = _checked(document)
    with transaction.atomic():
        waiting = Submission.objects.filter(
            assignment=assignment, student=student,
            state__in=[Submission.QUEUED, Submission.RUNNING]).count()
        if waiting >= MAX_QUEUED_PER_STUDENT:
            raise ClassroomError(f"{waiting} submissions are still being graded: wait for "
                                 "their results", status=429)
        sub = Submission.objects.create(
            assignment=assignment, student=student, document=document,
            out_of=count_goals(check_goals(assignment.goals)))
    # A student who never saved (an API client) has what they handed in as their work. The
    # editor saves before it submits, and an autosave of a later edit may land first: that
    # newer work is never replaced by the older design handed in.
    if work_of(assignment, student).version == 1:
        with contextlib.suppress(ClassroomError):  # saved meanwhile: that save is newer
            save_work(assignment, student, document, base_version=1)
    transaction.on_commit(grader.kick)
    return sub


def drill_targets(assignment: Assignment) -> dict[str, Any]:
    """What a chaos drill can aim at in this assignment: the brief's components (every
    student's design starts with them) and its links."""
    brief = assignment.brief
    return {"components": [{"id": c["id"], "kind": c["kind"], "label": c.get("label") or c["id"]}
                           for c in brief.get("components", [])],
            "links": [[link["from"], link["to"]] for link in brief.get("links", [])]}


def best_submissions(assignment: Assignment) -> dict[int, Submission]:
    """Each student's best graded submission: most goals met, then cheapest, then first."""
    best: dict[int, Submission] = {}
    for sub in assignment.submissions.filter(state=Submission.DONE, student__removed=False):
        if sub.student_id not in best or _rank(sub) < _rank(best[sub.student_id]):
            best[sub.student_id] = sub
    return best


def _rank(sub: Submission) -> tuple:
    cost = sub.cost_per_hour if sub.cost_per_hour is not None else float("inf")
    return (-sub.score, cost, sub.created_at)


def leaderboard(assignment: Assignment) -> list[dict[str, Any]]:
    """By goals met, then cost per hour (cheaper first)."""
    best = best_submissions(assignment)
    tries = dict(assignment.submissions.values_list("student").annotate(n=Count("id")))
    rows = sorted(best.values(), key=_rank)
    return [{"rank": i + 1, "student": sub.student.display_name, "student_id": sub.student_id,
             "score": sub.score, "out_of": sub.out_of, "met": sub.met,
             "cost_per_hour": sub.cost_per_hour, "cost": money(sub.cost_per_hour),
             "submitted_at": sub.created_at,
             "submissions": tries.get(sub.student_id, 0)}
            for i, sub in enumerate(rows)]


def money(value: float | None) -> str:
    """A cost as every page shows it (format.js `money` is its twin): two decimals, rounded
    half up from the figure as people read it (0.825 is 0.83, though the float is a hair
    below), thousands grouped."""
    if value is None:
        return "–"
    cents = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{cents.copy_abs() if cents.is_zero() else cents:,.2f}"


def grades_csv(assignment: Assignment) -> str:
    """One row per student of the class (also those who never submitted). Each goal of the
    assignment has its worst figure over the seeds and `met` / `not met`; `cost` is the cost
    as the pages show it, `cost_per_hour` the full figure."""
    goals = [g["goal"] for g in goal_list(check_goals(assignment.goals))]
    best = best_submissions(assignment)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "goals_met", "goals", "all_met",
                     *(f"{g}{tail}" for g in goals for tail in ("_goal", "_worst")),
                     "cost", "cost_per_hour", "submitted_at"])
    for student in assignment.classroom.students.filter(removed=False):
        sub = best.get(student.pk)
        writer.writerow([_cell(student.display_name),
                         sub.score if sub else 0, sub.out_of if sub else "",
                         sub.met if sub else False,
                         *(cell for g in goals for cell in _goal_cells(sub, g)),
                         "" if sub is None or sub.cost_per_hour is None
                         else money(sub.cost_per_hour),
                         "" if sub is None or sub.cost_per_hour is None
                         else repr(sub.cost_per_hour),
                         sub.created_at.isoformat() if sub else ""])
    return out.getvalue()


def _goal_cells(sub: Submission | None, goal: str) -> tuple[str, str]:
    """(met / not met, the worst figure over the seeds) of one goal; blank without a
    submission, `not met` with no figure when the design could not be graded."""
    if sub is None:
        return "", ""
    row = next((g for g in (sub.result or {}).get("goals", []) if g.get("goal") == goal), {})
    figure = row.get("measured")
    return ("met" if row.get("met") else "not met"), ("" if figure is None else repr(figure))


def _cell(text: str) -> str:
    """A spreadsheet must not run a name as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

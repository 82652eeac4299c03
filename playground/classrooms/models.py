"""Classrooms, their students, assignments, each student's working design and submissions."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from playground.models import new_share_id

# No 0/O, 1/I/L: a code read aloud in a lecture hall is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31^8 ~ 8.5e11; join attempts are rate limited, so not guessable


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_student_key() -> str:
    return secrets.token_urlsafe(16)


class Classroom(models.Model):
    name = models.CharField(max_length=120)
    # The join link carries join_id (128 random bits); the code is for typing.
    join_id = models.CharField(max_length=32, unique=True, default=new_share_id, editable=False)
    code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_join_code)
    instructors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teaching")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Student(models.Model):
    """A seat in a classroom: a display name, and either an account or a browser that holds
    `key` in a signed cookie."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="students")
    display_name = models.CharField(max_length=60)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="seats")
    key = models.CharField(max_length=32, unique=True, default=new_student_key, editable=False)
    removed = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [models.UniqueConstraint(
            fields=["classroom", "user"], condition=models.Q(user__isnull=False),
            name="one_seat_per_account_and_classroom")]

    def __str__(self) -> str:
        return self.display_name


class Assignment(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE,
                                  related_name="assignments")
    share_id = models.CharField(max_length=32, unique=True, default=new_share_id, editable=False)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    brief = models.JSONField()  # the starting design; its clients are the graded traffic
    goals = models.JSONField()  # simulations.grading.Goals
    deadline = models.DateTimeField(null=True, blank=True)
    peers_visible_after_deadline = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Work(models.Model):
    """A student's own copy of an assignment's design, as last saved: a draft, which may
    not run yet. `version` counts its saves, so one tab cannot overwrite another's newer
    save unawares."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="works")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="works")
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "student"],
                                               name="one_work_per_student")]


class Submission(models.Model):
    """A design handed in for grading. The table is also the grading queue: a grader claims
    the oldest queued row (see grading.py)."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE,
                                   related_name="submissions")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="submissions")
    document = models.JSONField()
    state = models.CharField(max_length=8, choices=STATES, default=QUEUED, db_index=True)
    result = models.JSONField(null=True, blank=True)
    score = models.PositiveIntegerField(default=0)
    out_of = models.PositiveIntegerField(default=0)
    met = models.BooleanField(default=False)
    cost_per_hour = models.FloatField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Lecture(models.Model):
    """An instructor presenting one of their designs to a classroom (one lecture at a time):
    the students follow the presenter's view in the design's co-editing room, read-only
    unless handed the pen (`pen`)."""

    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="lecture")
    lecture_id = models.CharField(max_length=32, unique=True, default=new_share_id,
                                  editable=False)
    scenario = models.ForeignKey("playground.Scenario", on_delete=models.CASCADE,
                                 related_name="lectures")
    presenter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="lectures")
    pen = models.ManyToManyField(Student, blank=True, related_name="pens")
    started_at = models.DateTimeField(auto_now_add=True)

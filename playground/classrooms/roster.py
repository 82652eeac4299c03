"""The dashboard's picture of a class: who is online, what they run, how they scored
(presence and run digests from `presence`), and the instructor's drills."""

from __future__ import annotations

import time
from typing import Any, Literal

from django.core.cache import cache
from pydantic import BaseModel, ConfigDict, Field

from simulations.scenario import Id

from . import services
from .live import design_of
from .models import Classroom, Work
from .presence import key


def snapshot(classroom: Classroom) -> dict[str, Any]:
    students = list(classroom.students.filter(removed=False))
    assignments = list(classroom.assignments.all())
    best = {a.pk: services.best_submissions(a) for a in assignments}
    latest = {}
    works = Work.objects.filter(assignment__classroom=classroom).select_related(
        "assignment__classroom").order_by("updated_at")
    for work in works:
        latest[work.student_id] = work  # the most recently saved design wins
    keys = [key(kind, classroom.pk, s.pk) for s in students for kind in ("presence", "digest")]
    cached = cache.get_many(keys)
    rows = []
    for s in students:
        presence = cached.get(key("presence", classroom.pk, s.pk)) or {"online": False,
                                                                         "run_id": None}
        work = latest.get(s.pk)
        rows.append({
            "id": s.pk, "name": s.display_name, **presence,
            "digest": cached.get(key("digest", classroom.pk, s.pk)),
            "design": None if work is None else design_of(work),
            "grades": {a.share_id: _grade(best[a.pk].get(s.pk)) for a in assignments}})
    return {"classroom": {"name": classroom.name, "join_id": classroom.join_id,
                          "code": classroom.code},
            "assignments": [{"id": a.share_id, "title": a.title} for a in assignments],
            "students": rows, "at": time.time()}


def _grade(sub) -> dict[str, Any] | None:
    if sub is None:
        return None
    return {"score": sub.score, "out_of": sub.out_of, "met": sub.met,
            "cost_per_hour": sub.cost_per_hour}


class Drill(BaseModel):
    """A fault the instructor injects into every student's running design."""

    model_config = ConfigDict(extra="forbid", strict=True)
    action: Literal["fail", "recover", "slow", "partition", "heal"]
    target: Id | list[Id] = Field()
    params: dict[str, float] = {}


def drill_command(data: Any) -> dict[str, Any]:
    """The drill as a live command (raises ValidationError naming the bad field)."""
    return Drill.model_validate(data).model_dump(exclude_defaults=True)

"""What the instructor dashboard hears: digests of students' runs and graded submissions.

Dashboards are members of the classroom's group; they get a digest (a few numbers per
student, at most DIGEST_HZ per second per student), never the students' frames.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from playground.live.runstore import LAYER_DOWN

from .presence import remember_digest

log = logging.getLogger(__name__)

DIGEST_HZ = 2


def dashboard_group(classroom_id: int) -> str:
    return f"classroom.{classroom_id}"


def submission_graded(sub) -> None:
    """From a grader (a plain thread or process, not the event loop)."""
    layer = get_channel_layer()
    if layer is None:
        return
    _tell(dashboard_group(sub.assignment.classroom_id), {
        "type": "class.graded", "student": sub.student_id,
        "assignment": sub.assignment.share_id, "title": sub.assignment.title,
        "name": sub.student.display_name, "submission": sub.pk, "score": sub.score,
        "out_of": sub.out_of, "met": sub.met, "cost_per_hour": sub.cost_per_hour,
        "state": sub.state})


def _tell(group: str, message: dict[str, Any]) -> None:
    """Tell open dashboards, from a thread; with Redis away they miss it (they read the
    database when they connect again), and what was saved stays saved."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except LAYER_DOWN as exc:
        log.warning("dashboard not told of %s: Redis unavailable (%s)", message["type"], exc)


def seats_group(classroom_id: int) -> str:
    """Every student editor open on one of the classroom's assignments (chaos drills)."""
    return f"classroom.{classroom_id}.seats"


async def publish_digest(classroom_id: int, student_id: int, digest: dict[str, Any]) -> None:
    """From a student's run, at most DIGEST_HZ a second: kept for dashboards that connect
    later, and sent to those open now."""
    digest = {**digest, "student": student_id}
    await remember_digest(classroom_id, student_id, digest)
    await get_channel_layer().group_send(dashboard_group(classroom_id),
                                         {"type": "class.digest", **digest})


def work_saved(work) -> None:
    """A student saved their design (a request thread): the dashboard's thumbnail follows."""
    classroom = work.assignment.classroom
    _tell(dashboard_group(classroom.pk), {
        "type": "class.work", "student": work.student_id,
        "name": work.student.display_name, "design": design_of(work)})


def design_of(work) -> dict[str, Any]:
    return {"preview": reverse("work-preview", args=[work.pk]),
            "assignment": work.assignment.share_id,
            "updated_at": work.updated_at.isoformat()}

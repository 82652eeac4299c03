"""What the instructor dashboard hears: digests of students' runs and graded submissions.

Dashboards are members of the classroom's group; they get a digest (a few numbers per
student, at most DIGEST_HZ per second per student), never the students' frames.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

DIGEST_HZ = 2


def dashboard_group(classroom_id: int) -> str:
    return f"classroom.{classroom_id}"


def submission_graded(sub) -> None:
    """From a grader (a plain thread or process, not the event loop)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(dashboard_group(sub.assignment.classroom_id), {
        "type": "class.graded", "student": sub.student_id, "assignment": sub.assignment_id,
        "submission": sub.pk, "score": sub.score, "out_of": sub.out_of, "met": sub.met,
        "cost_per_hour": sub.cost_per_hour, "state": sub.state})

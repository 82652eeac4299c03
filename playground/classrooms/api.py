"""The editor's JSON endpoints for an assignment: the student's design and submissions.

    GET|PUT  /api/assignments/<id>/work          the student's own copy (a draft: kept
                                                 whether or not it runs yet)
    GET|POST /api/assignments/<id>/submissions   theirs, newest first / hand one in (202)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ConfigDict

from playground.accounts import permissions
from playground.api.endpoints import FREE, Endpoint
from playground.api.jsonapi import ApiError, checked_document, not_found, parse_body
from playground.api.schemas import DOCUMENT_SCHEMA, Version
from playground.ratelimit import rate_limited
from simulations.grading import check_goals, goal_list

from . import grader, services
from .models import Assignment, Student, Submission, Work

MAX_LISTED = 20
ASSIGNMENT = "The assignment's share id."
WORK = (FREE, "{document, version, updated_at}")
# The bodies as the OpenAPI description gives them (DocumentBody, WorkBody below check them).
DOCUMENT_BODY = {"type": "object", "required": ["document"], "additionalProperties": False,
                 "properties": {"document": DOCUMENT_SCHEMA}}
WORK_BODY = {**DOCUMENT_BODY, "properties": {
    **DOCUMENT_BODY["properties"],
    "base_version": {"type": "integer", "minimum": 1,
                     "description": "The version the editor started from (409 if the work "
                                    "was saved since)."}}}

work = Endpoint("api/assignments/<str:share_id>/work", "api-assignment-work",
                wrap=rate_limited("api_write"), share_id=ASSIGNMENT)
submissions = Endpoint("api/assignments/<str:share_id>/submissions",
                       "api-assignment-submissions", wrap=rate_limited("api_write"),
                       share_id=ASSIGNMENT)


class DocumentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]


class WorkBody(DocumentBody):
    base_version: Version | None = None  # as PUT /api/scenarios/<id>: 409 if saved since


def submission_out(sub: Submission) -> dict[str, Any]:
    return {"id": sub.pk, "state": sub.state, "score": sub.score, "out_of": sub.out_of,
            "met": sub.met, "cost_per_hour": sub.cost_per_hour, "result": sub.result,
            "created_at": sub.created_at.isoformat(),
            "finished_at": sub.finished_at.isoformat() if sub.finished_at else None}


def assignment_out(assignment: Assignment, seat: Student, work: Work) -> dict[str, Any]:
    return {"id": assignment.share_id, "title": assignment.title,
            "instructions": assignment.instructions,
            "goals": goal_list(check_goals(assignment.goals)),
            "faults": assignment.goals.get("faults", []),
            "deadline": assignment.deadline.isoformat() if assignment.deadline else None,
            "closed": services.past_deadline(assignment),
            "classroom": {"name": assignment.classroom.name,
                          "url": f"/c/{assignment.classroom.join_id}"},
            "student": {"name": seat.display_name},
            **work_out(work),  # the student's own copy: document, version, updated_at
            "submissions": [submission_out(s) for s in
                            seat.submissions.filter(assignment=assignment)[:MAX_LISTED]]}


def work_out(work: Work) -> dict[str, Any]:
    return {"document": work.document, "version": work.version,
            "updated_at": work.updated_at.isoformat()}


def _seated(request: HttpRequest, share_id: str) -> tuple[Assignment, Student]:
    assignment = Assignment.objects.select_related("classroom").filter(
        share_id=share_id).first()
    seat = permissions.seat_of(request, assignment.classroom) if assignment else None
    if seat is None:  # not theirs to see: as if it did not exist
        raise not_found("assignment")
    return assignment, seat


@work.get("Your own copy of the assignment's design.", ok=WORK, errors=(404,))
def _get_work(request: HttpRequest, share_id: str) -> JsonResponse:
    assignment, seat = _seated(request, share_id)
    return JsonResponse(work_out(services.work_of(assignment, seat)))


@work.put("Save your copy (a draft: it need not run yet).", ok=WORK, body=WORK_BODY,
          errors=(400, 404, 409))
def _put_work(request: HttpRequest, share_id: str) -> JsonResponse:
    assignment, seat = _seated(request, share_id)
    body = parse_body(request, WorkBody)
    checked_document(body.document, draft=True)
    try:
        work = services.save_work(assignment, seat, body.document, body.base_version)
    except services.ClassroomError as exc:
        raise ApiError(exc.status, exc.errors, **exc.extra) from None
    return JsonResponse(work_out(work))


@submissions.get("Your submissions, newest first.", ok=(FREE, "{results: [...]}"),
                 errors=(404,))
def _list(request: HttpRequest, share_id: str) -> JsonResponse:
    assignment, seat = _seated(request, share_id)
    results = [submission_out(s) for s in seat.submissions.filter(
        assignment=assignment)[:MAX_LISTED]]
    if any(r["state"] == Submission.QUEUED for r in results):
        grader.kick()  # one left waiting by a restarted process is picked up here
    return JsonResponse({"results": results})


@submissions.post("Hand in a design to be graded.", ok=(FREE, "The submission."),
                  body=DOCUMENT_BODY, status=202, errors=(400, 404))
def _submit(request: HttpRequest, share_id: str) -> JsonResponse:
    assignment, seat = _seated(request, share_id)
    body = parse_body(request, DocumentBody)
    try:
        sub = services.submit(assignment, seat, body.document)
    except services.ClassroomError as exc:
        raise ApiError(exc.status, exc.errors) from None
    return JsonResponse(submission_out(sub), status=202)


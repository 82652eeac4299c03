"""Saved scenarios, their version history, copies and the built-in lessons (docs/api.md).

Every save of an existing scenario first copies its current state into the history (in one
transaction, the row locked), so nothing is lost; the newest PLAYGROUND_MAX_VERSIONS stay.
Who may do what is permissions.py's to say.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from pydantic import ValidationError

from simulations import LIMITS

from ..accounts import permissions
from ..coedit.groups import revoked
from ..models import Scenario, ScenarioVersion
from ..ratelimit import rate_limited
from .endpoints import Endpoint
from .jsonapi import ApiError, checked_document, not_found, parse_body, pydantic_errors
from .schemas import (
    EditLinkOut,
    Empty,
    LessonList,
    ListQuery,
    ScenarioCreate,
    ScenarioOut,
    ScenarioPage,
    ScenarioRename,
    ScenarioUpdate,
    VersionList,
    VersionOut,
    VersionSummary,
    edit_link_out,
    lesson_out,
    scenario_out,
    scenario_summary,
)

PAGE_SIZE = 25
ID = "The scenario's share id (128 random bits, URL-safe base64)."
SCENARIO = (ScenarioOut, "The scenario (docs/api.md).")
QUERY = ({"name": "q", "in": "query", "schema": {"type": "string",
                                                 "maxLength": LIMITS["name_chars"]},
          "description": "Only scenarios whose title contains this (any case)."},
         {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}})

scenarios = Endpoint("api/scenarios", "api-scenarios")
scenario = Endpoint("api/scenarios/<str:share_id>", "api-scenario", share_id=ID)
fork = Endpoint("api/scenarios/<str:share_id>/fork", "api-scenario-fork", share_id=ID)
versions = Endpoint("api/scenarios/<str:share_id>/versions", "api-scenario-versions",
                    share_id=ID)
version = Endpoint("api/scenarios/<str:share_id>/versions/<int:number>",
                   "api-scenario-version", share_id=ID, number="A version number.")
edit_link = Endpoint("api/scenarios/<str:share_id>/edit-link", "api-scenario-edit-link",
                     share_id=ID)
restore = Endpoint("api/scenarios/<str:share_id>/versions/<int:number>/restore",
                   "api-scenario-restore", share_id=ID, number="A version number.")
lessons = Endpoint("api/lessons", "api-lessons")


def find_scenario(share_id: str, lock: bool = False) -> Scenario:
    rows = Scenario.objects.select_related("forked_from")
    if lock:
        # Not select_related: PostgreSQL cannot lock the nullable side of an outer join.
        rows = Scenario.objects.select_for_update()
    scenario = rows.filter(share_id=share_id).first()
    if scenario is None:
        raise not_found("scenario")
    return scenario


def editable(request: HttpRequest, share_id: str, lock: bool = False) -> Scenario:
    scenario = find_scenario(share_id, lock)
    if not permissions.may_edit_scenario(request, scenario):
        reason = ("built-in lessons are read-only; make a copy to change one"
                  if scenario.lesson_slug else "not yours; make a copy to change it")
        raise ApiError(403, [f"scenario: {reason}"])
    return scenario


def _check_quota(request: HttpRequest) -> None:
    limit = settings.PLAYGROUND_MAX_SCENARIOS_PER_OWNER
    if permissions.owned_scenarios(request, Scenario.objects.all()).count() >= limit:
        raise ApiError(400, [f"scenarios: you have {limit} saved designs, the most one may "
                             "keep; delete some to save more"])


def _create(request: HttpRequest, document: dict[str, Any], forked_from=None) -> Scenario:
    _check_quota(request)
    scenario = Scenario(document=document, title=document["name"],
                        description=document.get("description", ""), forked_from=forked_from)
    permissions.set_owner(request, scenario)
    scenario.save()
    return scenario


def _save(request: HttpRequest, share_id: str, base_version: int | None,
          change: Any) -> Scenario:
    """Apply `change(document) -> document` to the locked scenario as a new version."""
    with transaction.atomic():
        scenario = editable(request, share_id, lock=True)
        if base_version is not None and base_version != scenario.version:
            raise ApiError(409, [f"base_version: the scenario is at version {scenario.version} "
                                 f"now, not {base_version}; reload it to see the changes"],
                           version=scenario.version)
        _write_version(scenario, change(copy.deepcopy(scenario.document)))
    return find_scenario(share_id)


def _write_version(scenario: Scenario, document: dict[str, Any]) -> None:
    """The locked scenario's document replaced, the old one kept in the history. The
    document is kept as a draft (docs/api.md): ApiError if even that fails."""
    checked_document(document, draft=True)
    ScenarioVersion.objects.create(
        scenario=scenario, number=scenario.version, title=scenario.title,
        description=scenario.description, document=scenario.document,
        created_at=scenario.updated_at)
    scenario.document = document
    scenario.title = document["name"]
    scenario.description = document.get("description", "")
    scenario.version += 1
    scenario.save()
    ScenarioVersion.objects.filter(
        scenario=scenario,
        number__lte=scenario.version - 1 - settings.PLAYGROUND_MAX_VERSIONS).delete()


def save_coedited(share_id: str, document: dict[str, Any]) -> int | None:
    """A co-editing room's document as a new version, through the editor's save path
    (playground/coedit/rooms.py; who may change it was decided as each person joined).
    Its new version number, or None: unchanged, or the scenario is gone. ApiError: not
    even a draft."""
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().filter(share_id=share_id).first()
        if scenario is None or scenario.document == document:
            return None
        _write_version(scenario, document)
        return scenario.version


# -- /api/scenarios --------------------------------------------------------------------------
@scenarios.get("Your own scenarios, newest change first, 25 a page.",
               ok=(ScenarioPage, "A page of scenarios."), query=QUERY, errors=(400,))
def list_scenarios(request: HttpRequest) -> JsonResponse:
    try:
        query = ListQuery.model_validate(request.GET.dict())
    except ValidationError as exc:
        raise ApiError(400, pydantic_errors(exc)) from None
    rows = permissions.owned_scenarios(request, Scenario.objects.select_related("forked_from"))
    if "\x00" in query.q:  # no title holds NUL (PostgreSQL's text cannot): nothing matches
        rows = rows.none()
    elif query.q.strip():
        rows = rows.filter(title__icontains=query.q.strip())
    count = rows.count()
    start = (query.page - 1) * PAGE_SIZE
    page = rows.order_by("-updated_at", "-id")[start:start + PAGE_SIZE]
    return JsonResponse({"results": [scenario_summary(request, s) for s in page],
                         "page": query.page, "pages": max(1, math.ceil(count / PAGE_SIZE)),
                         "count": count})


@scenarios.post("Save a new scenario.", ok=SCENARIO, body=ScenarioCreate, status=201,
                errors=(400, 403))
@rate_limited("api_write")
def create_scenario(request: HttpRequest) -> JsonResponse:
    body = parse_body(request)
    checked_document(body.document, draft=True)
    scenario = _create(request, body.document)
    return JsonResponse(scenario_out(request, scenario), status=201)


# -- /api/scenarios/<id> ---------------------------------------------------------------------
@scenario.get("A scenario.", ok=SCENARIO, errors=(404,))
def show_scenario(request: HttpRequest, share_id: str) -> JsonResponse:
    scenario = find_scenario(share_id)
    if not permissions.may_view_scenario(request, scenario):
        raise not_found("scenario")
    return JsonResponse(scenario_out(request, scenario))


@scenario.put("Save a new version of your scenario.", ok=SCENARIO, body=ScenarioUpdate,
              errors=(400, 403, 404, 409))
@rate_limited("api_write")
def update_scenario(request: HttpRequest, share_id: str) -> JsonResponse:
    body = parse_body(request)
    scenario = _save(request, share_id, body.base_version, lambda _old: body.document)
    return JsonResponse(scenario_out(request, scenario))


@scenario.patch("Rename your scenario (a new version).", ok=SCENARIO, body=ScenarioRename,
                errors=(400, 403, 404, 409))
@rate_limited("api_write")
def rename_scenario(request: HttpRequest, share_id: str) -> JsonResponse:
    body = parse_body(request)
    title = body.title.strip()
    if not title:
        raise ApiError(400, ["title: must not be blank"])

    def renamed(document: dict[str, Any]) -> dict[str, Any]:
        return document | {"name": title}

    scenario = _save(request, share_id, body.base_version, renamed)
    return JsonResponse(scenario_out(request, scenario))


@scenario.delete("Delete your scenario.", ok=(None, "Deleted."), write=True, status=204,
                 errors=(403, 404))
@rate_limited("api_write")
def delete_scenario(request: HttpRequest, share_id: str) -> HttpResponse:
    editable(request, share_id).delete()
    return HttpResponse(status=204)


@fork.post("Make a copy that is yours.", ok=SCENARIO, body=Empty, status=201,
           errors=(400, 403, 404))
@rate_limited("api_write")
def fork_scenario(request: HttpRequest, share_id: str) -> JsonResponse:
    original = find_scenario(share_id)
    if not permissions.may_view_scenario(request, original):
        raise not_found("scenario")
    name = f"Copy of {original.title}"[:LIMITS["name_chars"]]
    document = copy.deepcopy(original.document) | {"name": name}
    scenario = _create(request, document, forked_from=original)
    return JsonResponse(scenario_out(request, scenario), status=201)


# -- history ---------------------------------------------------------------------------------
@versions.get("The history of your scenario, newest first.",
              ok=(VersionList, "Earlier versions."), errors=(403, 404))
def list_versions(request: HttpRequest, share_id: str) -> JsonResponse:
    scenario = editable(request, share_id)
    rows = scenario.versions.order_by("-number").only("number", "title", "created_at")
    return JsonResponse(VersionList(results=[
        VersionSummary(number=row.number, title=row.title, created_at=row.created_at)
        for row in rows]).model_dump(mode="json"))


def _version(scenario: Scenario, number: int) -> ScenarioVersion:
    found = scenario.versions.filter(number=number).first()
    if found is None:
        raise not_found(f"version {number}")
    return found


@version.get("One earlier version.", ok=(VersionOut, "The version."), errors=(403, 404))
def show_version(request: HttpRequest, share_id: str, number: int) -> JsonResponse:
    old = _version(editable(request, share_id), number)
    return JsonResponse(VersionOut(
        number=old.number, title=old.title, description=old.description,
        document=old.document, created_at=old.created_at).model_dump(mode="json"))


@restore.post("Make an earlier version current (as a new version).", ok=SCENARIO, body=Empty,
              errors=(400, 403, 404))
@rate_limited("api_write")
def restore_version(request: HttpRequest, share_id: str, number: int) -> JsonResponse:
    parse_body(request)  # an empty object, or nothing
    old = _version(editable(request, share_id), number)
    scenario = _save(request, share_id, None, lambda _current: old.document)
    return JsonResponse(scenario_out(request, scenario))


# -- edit links (co-editing, playground/coedit/) ---------------------------------------------
EDIT_LINK = (EditLinkOut, "The edit link.")


def _shared(request: HttpRequest, share_id: str) -> Scenario:
    scenario = find_scenario(share_id)
    if not permissions.may_share_edit_link(request, scenario):
        raise ApiError(403, ["scenario: only its owner shares an edit link"])
    return scenario


@edit_link.get("Your scenario's edit link.", ok=EDIT_LINK, errors=(403, 404))
def show_edit_link(request: HttpRequest, share_id: str) -> JsonResponse:
    scenario = _shared(request, share_id)
    if not scenario.edit_token:
        raise not_found("edit link")
    return JsonResponse(edit_link_out(scenario))


@edit_link.post("Make a new edit link (an earlier one stops working).", ok=EDIT_LINK,
                body=Empty, status=201, errors=(400, 403, 404))
@rate_limited("api_write")
def create_edit_link(request: HttpRequest, share_id: str) -> JsonResponse:
    parse_body(request)
    scenario = _shared(request, share_id)
    old = scenario.edit_token
    scenario.edit_token = permissions.new_edit_token()
    scenario.save(update_fields=["edit_token"])
    if old:
        revoked(share_id)
    return JsonResponse(edit_link_out(scenario), status=201)


@edit_link.delete("Revoke the edit link: its editors become viewers at once.",
                  ok=(None, "Revoked."), write=True, status=204, errors=(403, 404))
@rate_limited("api_write")
def revoke_edit_link(request: HttpRequest, share_id: str) -> HttpResponse:
    scenario = _shared(request, share_id)
    if not scenario.edit_token:
        raise not_found("edit link")
    scenario.edit_token = None
    scenario.save(update_fields=["edit_token"])
    revoked(share_id)
    return HttpResponse(status=204)


# -- lessons ---------------------------------------------------------------------------------
def lesson_rows():
    return (Scenario.objects.filter(lesson_slug__isnull=False).select_related("forked_from")
            .order_by("lesson_order", "id"))


@lessons.get("The built-in lessons in course order.", ok=(LessonList, "The lessons."))
def list_lessons(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"results": [lesson_out(request, s) for s in lesson_rows()]})


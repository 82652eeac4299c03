"""GET /api/openapi.json: an OpenAPI 3.1 description of every /api endpoint.

Request and response schemas come from the pydantic models the endpoints themselves parse
and answer with (schemas.py); a scenario document is a free object whose format is in
docs/scenario-format.md. tests/web/test_scenarios_api.py checks every /api URL is here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from simulations import LIMITS

from . import schemas
from .jsonapi import MAX_BODY_BYTES

REF = "#/components/schemas/{model}"
REQUESTS = [schemas.Empty, schemas.ScenarioCreate, schemas.ScenarioUpdate,
            schemas.ScenarioRename, schemas.RunCreate, schemas.PictureRequest]
RESPONSES = [schemas.Errors, schemas.ScenarioOut, schemas.ScenarioPage, schemas.LessonList,
             schemas.VersionList, schemas.VersionOut, schemas.RunOut]
FREE = {"type": "object"}
ID = {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"},
      "description": "The scenario's share id (128 random bits, URL-safe base64)."}
NUMBER = {"name": "number", "in": "path", "required": True,
          "schema": {"type": "integer", "minimum": 1}, "description": "A version number."}
CSRF = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"},
        "description": "The csrftoken cookie's value (Django's CSRF protection)."}


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {400: "Bad input: each error names the path of what is wrong.",
               403: "Not yours (or a built-in lesson), or the CSRF token is missing.",
               404: "No such id.", 409: "Version conflict: the scenario moved on.",
               413: f"Body larger than {MAX_BODY_BYTES} bytes (a document: "
                    f"{LIMITS['document_bytes']}).",
               429: "Rate limited; see the Retry-After header (seconds)."}
    return {str(s): _json(ref(schemas.Errors), meaning[s]) for s in sorted(set(statuses))}


def op(summary: str, ok: dict[str, Any], *, body: type[BaseModel] | dict | None = None,
       write: bool = False, params: tuple = (), status: str = "200",
       errors: tuple = ()) -> dict[str, Any]:
    """One operation; writes (those with a body, and `write`) take the CSRF header."""
    write = write or body is not None
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [*params, CSRF] if write else list(params),
        "responses": {status: ok, **_errors(*errors, *((403, 413, 429) if write else ()))},
    }
    if body is not None:
        schema = ref(body) if isinstance(body, type) else body
        operation["requestBody"] = {"required": body is not schemas.Empty,
                                    "content": {"application/json": {"schema": schema}}}
    return operation


def _paths() -> dict[str, Any]:
    scenario = _json(ref(schemas.ScenarioOut), "The scenario (docs/api.md).")
    q = {"name": "q", "in": "query", "schema": {"type": "string",
                                                "maxLength": LIMITS["name_chars"]},
         "description": "Only scenarios whose title contains this (any case)."}
    page = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    assignment = {**ID, "description": "The assignment's share id."}
    document_body = {"type": "object", "required": ["document"], "additionalProperties": False,
                     "properties": {"document": schemas.DOCUMENT_SCHEMA}}
    work_body = {**document_body, "properties": {
        **document_body["properties"],
        "base_version": {"type": "integer", "minimum": 1,
                         "description": "The version the editor started from (409 if the "
                                        "work was saved since)."}}}
    return {
        "/api/kinds": {"get": op("Every component kind, its parameters, the limits, and the "
                                 "document's own fields.", _json(FREE, "{kinds, limits, fields}"))},
        "/api/validate": {"post": op(
            "Check a scenario document with the engine's validator.",
            _json({"type": "object", "required": ["ok", "errors"], "properties": {
                "ok": {"type": "boolean"},
                "errors": {"type": "array", "items": {"type": "string"}}}},
                "The verdict (200 even when the document is invalid)."),
            body={**FREE, "description": "A scenario document."})},
        "/api/examples": {"get": op("The example designs (slug, name, description).",
                                    _json(FREE, "{examples: [...]}"))},
        "/api/examples/{slug}": {"get": op("One example design.", _json(FREE, "A document."),
                                           params=(slug,), errors=(404,))},
        "/api/picture.svg": {"post": op(
            "A design drawn as an SVG picture at its own size (the share card's renderer).",
            {"description": "The picture.",
             "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
            body=schemas.PictureRequest, errors=(400,))},
        "/api/openapi.json": {"get": op("This description.", _json(FREE, "OpenAPI 3.1."))},
        "/api/scenarios": {
            "get": op("Your own scenarios, newest change first, 25 a page.",
                      _json(ref(schemas.ScenarioPage), "A page of scenarios."),
                      params=(q, page), errors=(400,)),
            "post": op("Save a new scenario.", scenario, body=schemas.ScenarioCreate,
                       status="201", errors=(400, 403)),
        },
        "/api/scenarios/{share_id}": {
            "get": op("A scenario.", scenario, params=(ID,), errors=(404,)),
            "put": op("Save a new version of your scenario.", scenario, params=(ID,),
                      body=schemas.ScenarioUpdate, errors=(400, 403, 404, 409)),
            "patch": op("Rename your scenario (a new version).", scenario, params=(ID,),
                        body=schemas.ScenarioRename, errors=(400, 403, 404, 409)),
            "delete": op("Delete your scenario.", {"description": "Deleted."}, write=True,
                         params=(ID,), status="204", errors=(403, 404)),
        },
        "/api/scenarios/{share_id}/fork": {"post": op(
            "Make a copy that is yours.", scenario, params=(ID,), body=schemas.Empty,
            status="201", errors=(400, 403, 404))},
        "/api/scenarios/{share_id}/versions": {"get": op(
            "The history of your scenario, newest first.",
            _json(ref(schemas.VersionList), "Earlier versions."), params=(ID,),
            errors=(403, 404))},
        "/api/scenarios/{share_id}/versions/{number}": {"get": op(
            "One earlier version.", _json(ref(schemas.VersionOut), "The version."),
            params=(ID, NUMBER), errors=(403, 404))},
        "/api/scenarios/{share_id}/versions/{number}/restore": {"post": op(
            "Make an earlier version current (as a new version).", scenario,
            params=(ID, NUMBER), body=schemas.Empty, errors=(400, 403, 404))},
        "/api/lessons": {"get": op("The built-in lessons in course order.",
                                   _json(ref(schemas.LessonList), "The lessons."))},
        "/api/runs": {"post": op("Store a run link (document, seed, command log).",
                                 _json(ref(schemas.RunOut), "The run link."),
                                 body=schemas.RunCreate, status="201", errors=(400,))},
        "/api/runs/{share_id}": {"get": op(
            "A run link.", _json(ref(schemas.RunOut), "The run link."),
            params=({**ID, "description": "The run link's id."},), errors=(404,))},
        # Classrooms (playground/classrooms/api.py): a seated student's assignment.
        "/api/assignments/{share_id}/work": {
            "get": op("Your own copy of the assignment's design.",
                      _json(FREE, "{document, version, updated_at}"), params=(assignment,),
                      errors=(404,)),
            "put": op("Save your copy (a draft: it need not run yet).",
                      _json(FREE, "{document, version, updated_at}"), params=(assignment,),
                      body=work_body, errors=(400, 404, 409)),
        },
        "/api/assignments/{share_id}/submissions": {
            "get": op("Your submissions, newest first.", _json(FREE, "{results: [...]}"),
                      params=(assignment,), errors=(404,)),
            "post": op("Hand in a design to be graded.", _json(FREE, "The submission."),
                       params=(assignment,), body=document_body, status="202",
                       errors=(400, 404)),
        },
    }


@cache
def description() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in REQUESTS] + [(m, "serialization") for m in RESPONSES],
        ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "System Design Playground API", "version": "1",
                 "description": "Saved scenarios, run links and lessons (docs/api.md). Writes "
                                "need the X-CSRFToken header and are rate limited."},
        "paths": _paths(),
        "components": {"schemas": defs.get("$defs", {})},
    }


@require_GET
def document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(description())

"""The OpenAPI 3.1 description of every /api endpoint (GET /api/openapi.json), made from the
endpoints' own declarations (playground/api/endpoints.py): paths and their parameters from
the URL patterns, request and response schemas from the pydantic models the endpoints parse
and answer with (schemas.py); a scenario document is a free object whose format is in
docs/scenario-format.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from simulations import LIMITS

from . import schemas
from .endpoints import Endpoint, Operation, Schema
from .jsonapi import MAX_BODY_BYTES

REF = "#/components/schemas/{model}"
CSRF = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"},
        "description": "The csrftoken cookie's value (Django's CSRF protection)."}
ERRORS = {400: "Bad input: each error names the path of what is wrong.",
          403: "Not yours (or a built-in lesson), or the CSRF token is missing.",
          404: "No such id.", 409: "Version conflict: the scenario moved on.",
          413: f"Body larger than {MAX_BODY_BYTES} bytes (a document: "
               f"{LIMITS['document_bytes']}).",
          429: "Rate limited; see the Retry-After header (seconds)."}


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _schema(schema: Schema) -> dict[str, Any]:
    return ref(schema) if isinstance(schema, type) else schema


def _json(schema: Schema, description: str, media: str = "application/json") -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {media: {"schema": _schema(schema)}}}


def operation(endpoint: Endpoint, op: Operation) -> dict[str, Any]:
    """One operation; writes (those with a body, and `write`) take the CSRF header."""
    write = op.write or op.body is not None
    params = [*endpoint.path_parameters(), *op.query]
    errors = sorted({*op.errors, *((403, 413, 429) if write else ())})
    out: dict[str, Any] = {
        "summary": op.summary,
        "parameters": [*params, CSRF] if write else params,
        "responses": {str(op.status): _json(*op.ok, op.media),
                      **{str(s): _json(schemas.Errors, ERRORS[s]) for s in errors}},
    }
    if op.body is not None:
        out["requestBody"] = {"required": op.body is not schemas.Empty,
                              "content": {"application/json": {"schema": _schema(op.body)}}}
    return out


def description(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    ops = [op for endpoint in endpoints for op in endpoint.operations.values()]
    requests = list(dict.fromkeys(op.body for op in ops if isinstance(op.body, type)))
    responses = list(dict.fromkeys([schemas.Errors] + [
        op.ok[0] for op in ops if isinstance(op.ok[0], type)]))
    _, defs = models_json_schema(
        [(m, "validation") for m in requests] + [(m, "serialization") for m in responses],
        ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "System Design Playground API", "version": "1",
                 "description": "Saved scenarios, run links and lessons (docs/api.md). Writes "
                                "need the X-CSRFToken header and are rate limited."},
        "paths": {endpoint.openapi_path: {method.lower(): operation(endpoint, op)
                                          for method, op in endpoint.operations.items()}
                  for endpoint in endpoints},
        "components": {"schemas": defs.get("$defs", {})},
    }

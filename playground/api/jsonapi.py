"""The plumbing every JSON endpoint shares: one error shape ({"errors": [...]}, also for an
unknown /api/ URL: playground/pages/views.py), and bodies read with a size limit before
parsing, pydantic-checked. Endpoints are declared in playground/api/endpoints.py.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ValidationError

from simulations import LIMITS, Scenario, ScenarioError, check_draft, validate

# A body holds one document plus a little more (a run link's command log: LIMITS["events"]
# commands of a few hundred bytes each).
MAX_BODY_BYTES = LIMITS["document_bytes"] + 512 * 1024

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """Raised anywhere in an endpoint; answered as {"errors": [...]} with `status`."""

    def __init__(self, status: int, errors: list[str], **extra: Any):
        super().__init__("; ".join(errors))
        self.status, self.errors, self.extra = status, errors, extra

    def response(self) -> JsonResponse:
        return error_response(self.status, self.errors, **self.extra)


def error_response(status: int, errors: list[str], **extra: Any) -> JsonResponse:
    return JsonResponse({"errors": errors, **extra}, status=status)


def not_found(what: str) -> ApiError:
    return ApiError(404, [f"{what}: not found"])


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(body)"


def pydantic_errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        message = err["msg"][:1].lower() + err["msg"][1:]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        line = f"{_path(tuple(err['loc']))}: {message}"
        if line not in out:
            out.append(line)
    return out


def parse_body(request: HttpRequest, model: type[M] | None = None) -> M:
    """The request's JSON body as `model` (by default the body model its operation declares,
    playground/api/endpoints.py); 413 when too large (checked before reading it where the
    client declares its length), 400 naming each bad path."""
    model = model or request.api_body
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or \
            len(request.body) > MAX_BODY_BYTES:
        raise ApiError(413, [f"(body): larger than {MAX_BODY_BYTES} bytes"])
    try:
        return model.model_validate_json(request.body or b"{}")
    except ValidationError as exc:
        raise ApiError(400, pydantic_errors(exc)) from None


def checked_document(document: dict[str, Any], draft: bool = False) -> Scenario:
    """The engine's validator's verdict on a document; its errors prefixed `document.`.
    A `draft` (a design kept, not run) needs only the document's structure and limits."""
    size = len(json.dumps(document, separators=(",", ":")).encode())
    if size > LIMITS["document_bytes"]:
        raise ApiError(413, [f"document: larger than {LIMITS['document_bytes']} bytes"])
    try:
        return check_draft(document) if draft else validate(document)
    except ScenarioError as exc:
        raise ApiError(400, [_prefixed("document", line) for line in exc.errors]) from None


def _prefixed(prefix: str, line: str) -> str:
    """Engine messages name paths inside the document ("(document)" for the whole)."""
    if line.startswith("(document)"):
        return prefix + line[len("(document)"):]
    return f"{prefix}.{line}" if not line.startswith("[") else prefix + line

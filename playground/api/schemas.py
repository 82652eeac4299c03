"""The shapes the JSON API reads and writes (docs/api.md), as pydantic models.

Requests are parsed with the models (unknown keys are errors); responses are built through
them too, so the OpenAPI description (openapi.py, generated from these models) cannot drift
from what the endpoints answer. A scenario document stays a free object here: the engine's
validator is its one checker (docs/scenario-format.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from simulations import LIMITS

from ..accounts import permissions

DOCUMENT_DOCS = "docs/scenario-format.md"
DOCUMENT_SCHEMA = {
    "type": "object",
    "description": f"A playground.scenario/v1 document; its format is in {DOCUMENT_DOCS}, "
                   "checked by the engine's validator.",
}
Document = Annotated[dict[str, Any], WithJsonSchema(DOCUMENT_SCHEMA)]
ShareId = Annotated[str, Field(min_length=1, max_length=32)]
Title = Annotated[str, Field(min_length=1, max_length=LIMITS["name_chars"])]
Version = Annotated[int, Field(ge=1)]


class Body(BaseModel):
    """A request body: strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Empty(Body):
    """No fields: an empty object (or no body at all)."""


class ScenarioCreate(Body):
    document: Document


class PictureRequest(Body):
    """A design to draw (in progress is fine: any JSON object draws)."""

    document: Document


class ScenarioUpdate(Body):
    document: Document
    base_version: Version | None = None


class ScenarioRename(Body):
    title: Title
    base_version: Version | None = None


class Command(Body):
    at_s: Annotated[float, Field(ge=0, le=LIMITS["duration_s"], allow_inf_nan=False)]
    action: Literal["fail", "recover", "slow", "partition", "heal", "set"]
    # A component id, or [from, to] of a link: checked by the engine's command validator.
    target: Annotated[Any, WithJsonSchema({"oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}]})]
    params: dict[str, Any] = {}


class RunCreate(Body):
    document: Document
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    commands: Annotated[list[Command], Field(max_length=LIMITS["events"])] = []
    until_s: Annotated[float, Field(gt=0, le=LIMITS["duration_s"], allow_inf_nan=False)]
    scenario: ShareId | None = None


class ListQuery(BaseModel):
    """GET /api/scenarios's query string (strings converted; other keys ignored)."""

    q: Annotated[str, Field(max_length=LIMITS["name_chars"])] = ""
    page: Annotated[int, Field(ge=1, le=10_000)] = 1


# -- responses ---------------------------------------------------------------------------------
class Errors(BaseModel):
    errors: list[str] = Field(description='Each "path: message"; the path names the input.')
    version: int | None = Field(None, description="On 409: the scenario's current version.")


class ScenarioSummary(BaseModel):
    id: str
    title: str
    description: str
    version: int
    can_edit: bool
    forked_from: str | None
    lesson: str | None
    created_at: datetime
    updated_at: datetime
    url: str
    embed_url: str
    preview_url: str


class ScenarioOut(ScenarioSummary):
    document: Document


class ScenarioPage(BaseModel):
    results: list[ScenarioSummary]
    page: int
    pages: int
    count: int


class LessonOut(ScenarioSummary):
    slug: str


class LessonList(BaseModel):
    results: list[LessonOut]


class VersionSummary(BaseModel):
    number: int
    title: str
    created_at: datetime


class VersionList(BaseModel):
    results: list[VersionSummary]


class VersionOut(VersionSummary):
    description: str
    document: Document


class RunOut(BaseModel):
    id: str
    title: str
    document: Document
    seed: int
    commands: list[Command]
    until_s: float
    scenario: str | None
    created_at: datetime
    url: str


class EditLinkOut(BaseModel):
    token: str = Field(description="The edit link's secret (192 random bits).")
    url: str = Field(description="The editor joined to the design's co-editing room.")
    socket: str = Field(description="The co-editing websocket's path (docs/protocol.md).")


def edit_link_out(scenario) -> dict[str, Any]:
    token = scenario.edit_token
    return EditLinkOut(token=token, url=f"/e/{token}",
                       socket=f"/ws/coedit/e/{token}/").model_dump(mode="json")


def scenario_fields(request: HttpRequest, scenario) -> dict[str, Any]:
    sid = scenario.share_id
    return {
        "id": sid, "title": scenario.title, "description": scenario.description,
        "version": scenario.version,
        "can_edit": permissions.may_edit_scenario(request, scenario),
        "forked_from": scenario.forked_from.share_id if scenario.forked_from_id else None,
        "lesson": scenario.lesson_slug,
        "created_at": scenario.created_at, "updated_at": scenario.updated_at,
        "url": f"/s/{sid}", "embed_url": f"/embed/{sid}", "preview_url": f"/s/{sid}/preview.png",
    }


def scenario_out(request: HttpRequest, scenario) -> dict[str, Any]:
    """The scenario object of docs/api.md, with its document."""
    fields = scenario_fields(request, scenario) | {"document": scenario.document}
    return ScenarioOut(**fields).model_dump(mode="json")


def scenario_summary(request: HttpRequest, scenario) -> dict[str, Any]:
    return ScenarioSummary(**scenario_fields(request, scenario)).model_dump(mode="json")


def lesson_out(request: HttpRequest, scenario) -> dict[str, Any]:
    fields = scenario_fields(request, scenario) | {"slug": scenario.lesson_slug}
    return LessonOut(**fields).model_dump(mode="json")


def run_out(record) -> dict[str, Any]:
    return RunOut(
        id=record.share_id, title=record.title, document=record.document, seed=record.seed,
        commands=record.commands, until_s=record.until_s,
        scenario=record.scenario.share_id if record.scenario_id else None,
        created_at=record.created_at, url=f"/r/{record.share_id}",
    ).model_dump(mode="json")

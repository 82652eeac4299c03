"""Every JSON endpoint under /api/, in the order the OpenAPI description lists them: their URL
patterns (playground/urls.py includes them) and GET /api/openapi.json, both made from the
endpoints' declarations (playground/api/endpoints.py)."""

from __future__ import annotations

from functools import cache
from types import ModuleType

from django.http import HttpRequest, JsonResponse

from ..classrooms import api as classroom_api
from . import editor, openapi, run_links, scenarios
from .endpoints import FREE, Endpoint

openapi_json = Endpoint("api/openapi.json", "api-openapi")


def declared(module: ModuleType) -> list[Endpoint]:
    """A module's endpoints, in the order it declares them."""
    return [value for value in vars(module).values() if isinstance(value, Endpoint)]


ENDPOINTS = (*declared(editor), openapi_json, *declared(scenarios), *declared(run_links),
             *declared(classroom_api))


@cache
def _described() -> dict:
    return openapi.description(ENDPOINTS)


@openapi_json.get("This description.", ok=(FREE, "OpenAPI 3.1."))
def document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_described())


urlpatterns = [endpoint.url() for endpoint in ENDPOINTS]

"""Endpoints the editor needs: the component registry, validation, examples, and its
design as a picture."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from simulations import LIMITS, ScenarioError, load, registry_json
from simulations.fields import document_fields
from simulations.registry import sizes_json

from ..pages import preview
from . import schemas
from .endpoints import FREE, Endpoint
from .jsonapi import not_found, parse_body

EXAMPLES_DIR = Path(settings.BASE_DIR) / "docs" / "examples"


kinds_endpoint = Endpoint("api/kinds", "api-kinds")
validate_endpoint = Endpoint("api/validate", "api-validate")
examples_endpoint = Endpoint("api/examples", "api-examples")
example_endpoint = Endpoint("api/examples/<slug:slug>", "api-example")
picture_endpoint = Endpoint("api/picture.svg", "api-picture")


@kinds_endpoint.get("Every component kind, its parameters, the limits, the document's own "
                    "fields and the sizes of a service's instances.",
                    ok=(FREE, "{kinds, limits, fields, sizes}"))
async def kinds(request: HttpRequest) -> HttpResponse:
    """Every component kind and its parameters, and the document's own fields: the palette
    and inspector are built from it, their checks use its bounds. Async: it needs nothing
    but the registry, so no thread."""
    return HttpResponse(_kinds_json(), content_type="application/json")


@cache
def _kinds_json() -> bytes:
    """Encoded once: the registry is fixed while the process lives, and every editor, embed
    and health probe asks for it (3% of an attacked server's event loop)."""
    return json.dumps({"kinds": registry_json(), "limits": LIMITS,
                       "fields": document_fields(), "sizes": sizes_json()}).encode()


@validate_endpoint.post(
    "Check a scenario document with the engine's validator.",
    ok=({"type": "object", "required": ["ok", "errors"], "properties": {
        "ok": {"type": "boolean"}, "errors": {"type": "array", "items": {"type": "string"}}}},
        "The verdict (200 even when the document is invalid)."),
    body={**FREE, "description": "A scenario document."})
def validate(request: HttpRequest) -> JsonResponse:
    """Check a scenario with the engine's validator (the same one the CLI and runs use)."""
    if len(request.body) > LIMITS["document_bytes"]:
        return JsonResponse({"ok": False, "errors": [
            f"(document): larger than {LIMITS['document_bytes']} bytes"]}, status=413)
    try:
        load(request.body)
    except ScenarioError as exc:
        # 200: the check itself worked, and its verdict is in the body.
        return JsonResponse({"ok": False, "errors": exc.errors})
    return JsonResponse({"ok": True, "errors": []})


@cache
def _examples() -> dict[str, dict]:
    out = {}
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = doc
    return out


@examples_endpoint.get("The example designs (slug, name, description).",
                       ok=(FREE, "{examples: [...]}"))
def examples(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"examples": [
        {"slug": slug, "name": doc["name"], "description": doc.get("description", "")}
        for slug, doc in _examples().items()]})


@example_endpoint.get("One example design.", ok=(FREE, "A document."), errors=(404,))
def example(request: HttpRequest, slug: str) -> JsonResponse:
    doc = _examples().get(slug)
    if doc is None:
        raise not_found("example")
    return JsonResponse(doc)


@picture_endpoint.post(
    "A design drawn as an SVG picture at its own size (the share card's renderer).",
    ok=({"type": "string"}, "The picture."), media="image/svg+xml",
    body=schemas.PictureRequest, errors=(400,))
def picture(request: HttpRequest) -> HttpResponse:
    """The posted design drawn at its own size by the renderer of the share previews
    (pages/preview.py): the editor's SVG export and version previews, and its PNG export
    (rasterised in the browser from this SVG)."""
    document = parse_body(request).document
    return HttpResponse(preview.svg(document, fit_to=None),
                        content_type="image/svg+xml; charset=utf-8")

"""Endpoints the editor needs: the component registry, validation, examples, and its
design as a picture."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from simulations import LIMITS, ScenarioError, load, registry_json
from simulations.fields import document_fields

from . import preview, schemas
from .jsonapi import endpoint, parse_body

EXAMPLES_DIR = Path(settings.BASE_DIR) / "docs" / "examples"


@require_GET
async def kinds(request: HttpRequest) -> JsonResponse:
    """Every component kind and its parameters, and the document's own fields: the palette
    and inspector are built from it, their checks use its bounds. Async: it needs nothing
    but the registry, so no thread."""
    return JsonResponse({"kinds": registry_json(), "limits": LIMITS, "fields": document_fields()})


@require_POST
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


@require_GET
def examples(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"examples": [
        {"slug": slug, "name": doc["name"], "description": doc.get("description", "")}
        for slug, doc in _examples().items()]})


@require_GET
def example(request: HttpRequest, slug: str) -> JsonResponse:
    doc = _examples().get(slug)
    if doc is None:
        raise Http404("no such example")
    return JsonResponse(doc)


def _picture(request: HttpRequest) -> HttpResponse:
    """The posted design drawn at its own size by the renderer of the share previews
    (preview.py): the editor's SVG export and version previews, and its PNG export
    (rasterised in the browser from this SVG)."""
    document = parse_body(request, schemas.PictureRequest).document
    return HttpResponse(preview.svg(document, fit_to=None),
                        content_type="image/svg+xml; charset=utf-8")


picture = endpoint(POST=_picture)

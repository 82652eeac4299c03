"""The server-rendered pages of shared designs: /s/<id>, /r/<id>, /embed/<id>, the preview
pictures, /lessons, and the friendly error pages.

The editor's pages hand the front end what it needs in one `json_script` element, id
"page-data": {"mode", "scenario", "can_edit", "run", "user"}, and "coedit" for a co-edited
design (docs/api.md).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import condition, require_GET

from ..accounts import permissions
from ..api.run_links import find_run_link
from ..api.scenarios import lesson_rows
from ..api.schemas import run_out, scenario_out
from ..middleware import policy_header
from ..models import Scenario
from . import preview

OG_DESCRIPTION_CHARS = 200
PREVIEW_MAX_AGE_S = 300
NOT_FOUND = "No design has this link. It may have been deleted, or the link is incomplete."


def _user(request: HttpRequest) -> dict[str, str] | None:
    user = getattr(request, "user", None)
    return {"name": user.get_username()} if user and user.is_authenticated else None


def page_data(request: HttpRequest, mode: str, scenario: Scenario | None = None,
              run: dict[str, Any] | None = None) -> dict[str, Any]:
    can_edit = mode == "editor" or (
        mode == "scenario" and permissions.may_edit_scenario(request, scenario))
    data = {"mode": mode,
            "scenario": scenario_out(request, scenario) if scenario else None,
            "can_edit": can_edit, "run": run, "user": _user(request)}
    if mode == "scenario" and (coedit := _coedit(scenario, can_edit)):
        data["coedit"] = coedit
    return data


def _coedit(scenario: Scenario, owner: bool) -> dict[str, Any] | None:
    """A design with an edit link is co-edited: its page joins the room, its owner to edit,
    everyone else to watch (playground/coedit/)."""
    if not scenario.edit_token:
        return None
    return {"socket": f"/ws/coedit/s/{scenario.share_id}/",
            "edit_link": f"/e/{scenario.edit_token}" if owner else None}


def editor(request: HttpRequest, data: dict[str, Any], **context: Any) -> HttpResponse:
    """The editor on `data`. Never cached: the page carries the design as it is now, and the
    back button would otherwise show the copy from the first visit (a student's work as it was
    before their last edits)."""
    response = render(request, "playground/index.html", {"page_data": data, **context})
    add_never_cache_headers(response)
    return response


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "playground/error.html", {"title": title, "message": message},
                  status=status)


def _viewable(request: HttpRequest, share_id: str) -> Scenario | None:
    scenario = Scenario.objects.select_related("forked_from").filter(share_id=share_id).first()
    return scenario if permissions.may_view_scenario(request, scenario) else None


def plain_text(text: str, limit: int) -> str:
    """Markdown-ish text as one plain line of at most `limit` characters."""
    text = re.sub(r"(?m)^\s*(#+|>)\s*", "", text)  # headings and quotes: their markers
    text = re.sub(r"\s+", " ", re.sub(r"[*`]", "", text)).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@require_GET
@ensure_csrf_cookie  # the editor's Save and "Make a copy" send it back in X-CSRFToken
def scenario_page(request: HttpRequest, share_id: str) -> HttpResponse:
    scenario = _viewable(request, share_id)
    if scenario is None:
        return error_page(request, 404, "Design not found", NOT_FOUND)
    url = request.build_absolute_uri(f"/s/{share_id}")
    share = {"title": scenario.title,
             "description": plain_text(scenario.description, OG_DESCRIPTION_CHARS)
             or "A system design you can run, on System Design Playground.",
             "url": url, "image": f"{url}/preview.png",
             "width": preview.WIDTH, "height": preview.HEIGHT}
    return editor(request, page_data(request, "scenario", scenario), share=share)


@require_GET
@ensure_csrf_cookie
def edit_page(request: HttpRequest, token: str) -> HttpResponse:
    """A design's edit link: the editor joined to its co-editing room."""
    scenario = Scenario.objects.select_related("forked_from").filter(
        edit_token=token).first() if token else None
    if scenario is None:
        return error_page(request, 404, "Edit link not found", "This edit link does not "
                          "work (any more): its owner may have revoked it.")
    data = page_data(request, "scenario", scenario) | {
        "can_edit": True, "coedit": {"socket": f"/ws/coedit/e/{token}/", "edit_link": None}}
    return editor(request, data)


@require_GET
@ensure_csrf_cookie
def run_page(request: HttpRequest, share_id: str) -> HttpResponse:
    link = find_run_link(share_id)
    if link is None:
        return error_page(request, 404, "Run not found", NOT_FOUND)
    return editor(request, page_data(request, "run", run=run_out(link)))


@require_GET
def watch_page(request: HttpRequest, run_id: str) -> HttpResponse:
    """Someone else's live run, read-only (the instructor's dashboard links here). Runs live
    in memory: whether it still exists, the websocket says."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", run_id):
        return error_page(request, 404, "Run not found", NOT_FOUND)
    return editor(request, page_data(request, "watch") | {"run_id": run_id})


@require_GET
@xframe_options_exempt  # an embed is meant to be framed, by any site
def embed_page(request: HttpRequest, share_id: str) -> HttpResponse:
    scenario = _viewable(request, share_id)
    if scenario is None:
        response = error_page(request, 404, "Design not found", NOT_FOUND)
    else:
        data = page_data(request, "embed", scenario) | {"can_edit": False}
        response = render(request, "playground/embed.html", {"page_data": data})
    response["Content-Security-Policy"] = policy_header(frame_ancestors="*")
    return response


# -- previews --------------------------------------------------------------------------------
def _etag(scenario: Scenario) -> str:
    return f"{scenario.share_id}-{scenario.version}-{int(scenario.updated_at.timestamp())}"


def _preview_etag(request: HttpRequest, share_id: str) -> str | None:
    scenario = _viewable(request, share_id)
    return _etag(scenario) if scenario else None


def _picture(request: HttpRequest, share_id: str, kind: str) -> HttpResponse:
    scenario = _viewable(request, share_id)
    if scenario is None:
        return error_page(request, 404, "Design not found", NOT_FOUND)
    key = f"preview:{kind}:{_etag(scenario)}"
    body = cache.get(key)
    if body is None:
        draw = preview.png if kind == "png" else preview.svg
        body = draw(scenario.document)
        cache.set(key, body, timeout=24 * 3600)
    content_type = "image/png" if kind == "png" else "image/svg+xml; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = f"public, max-age={PREVIEW_MAX_AGE_S}"
    return response


@require_GET
@condition(etag_func=_preview_etag)
def preview_svg(request: HttpRequest, share_id: str) -> HttpResponse:
    return _picture(request, share_id, "svg")


@require_GET
@condition(etag_func=_preview_etag)
def preview_png(request: HttpRequest, share_id: str) -> HttpResponse:
    return _picture(request, share_id, "png")


# -- lessons ---------------------------------------------------------------------------------
def first_paragraph(text: str) -> str:
    return next((p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()), "")


@require_GET
def lessons_page(request: HttpRequest) -> HttpResponse:
    lessons = [{"id": s.share_id, "title": s.title,
                "summary": plain_text(first_paragraph(s.description), 240)}
               for s in lesson_rows()]
    return render(request, "playground/lessons.html", {"lessons": lessons})


# -- errors ----------------------------------------------------------------------------------
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [f"(url): no endpoint at {request.path}"]}, status=404)
    return error_page(request, 404, "Page not found", "There is no page at this address.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = ("the CSRF token is missing or wrong; reload the page and try again "
               f"({reason})")
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [f"(csrf): {message}"]}, status=403)
    return error_page(request, 403, "Please try again", message[:1].upper() + message[1:] + ".")

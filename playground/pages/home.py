from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from .views import editor, page_data


@require_GET
@ensure_csrf_cookie  # the editor's API writes send the token back in X-CSRFToken
def home(request: HttpRequest) -> HttpResponse:
    return editor(request, page_data(request, "editor"))


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and test fixtures: answers without touching the database,
    on the event loop (a sync view waits for a thread: seconds on a loaded server)."""
    return JsonResponse({"ok": True})

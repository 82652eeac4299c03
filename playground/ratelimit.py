"""Fixed-window rate limits kept in Django's cache, per client IP and account: a client's
window opens with its first request and lasts S seconds.

Each scope has a rate "N/S" (N requests per S seconds) in settings.PLAYGROUND_RATE_LIMITS;
"" or "off" turns it off. With REDIS_URL set the cache is Redis, so the counts hold across
processes; the default in-process cache counts per process.

    @rate_limited("api_write")
    def create(request): ...
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from . import monitoring

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def parse_rate(text: str) -> tuple[int, int] | None:
    """"N/S" as (N, S); None when off."""
    text = (text or "").strip().lower()
    if text in ("", "off"):
        return None
    try:
        count, seconds = (int(part) for part in text.split("/"))
    except ValueError:
        raise ImproperlyConfigured(f"rate {text!r}: expected N/S, e.g. 60/60") from None
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"rate {text!r}: N and S must be >= 1")
    return count, seconds


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind PLAYGROUND_PROXY_HOPS trusted proxies the address the nearest
    of them saw (the one X-Forwarded-For entry a client cannot forge)."""
    hops = settings.PLAYGROUND_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if a.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def wait_s(scope: str, request: HttpRequest) -> int:
    """Count this request in its scope's window; the seconds to wait if it is over the
    limit, else 0."""
    rate = parse_rate(settings.PLAYGROUND_RATE_LIMITS.get(scope, ""))
    if rate is None:
        return 0
    limit, window = rate
    now = time.time()
    user = getattr(request, "user", None)
    who = f"{client_ip(request)}|{user.pk if user and user.is_authenticated else '-'}"
    key = f"ratelimit:{scope}:{who}"
    # add() only writes a missing key: the first request of a window opens it.
    cache.add(f"{key}:opened", now, timeout=window)
    cache.add(f"{key}:count", 0, timeout=window)
    try:
        count = cache.incr(f"{key}:count")
    except ValueError:  # the window closed between add and incr
        cache.set(f"{key}:count", 1, timeout=window)
        count = 1
    if count <= limit:
        return 0
    opened = cache.get(f"{key}:opened", now)
    return max(1, math.ceil(opened + window - now))


def too_many(request: HttpRequest, wait: int) -> HttpResponse:
    message = f"too many requests; try again in {wait} s"
    if request.path.startswith("/api/"):
        response = JsonResponse({"errors": [f"(rate limit): {message}"]}, status=429)
    else:
        response = render(request, "playground/error.html",
                          {"title": "Slow down", "message": message.capitalize() + "."},
                          status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(scope: str, methods: tuple[str, ...] = WRITES) -> Callable:
    """Limit a view's `methods` (writes by default) to the scope's rate."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods and (wait := wait_s(scope, request)):
                monitoring.QUOTA_REFUSALS.labels(limit=scope).inc()
                return too_many(request, wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate

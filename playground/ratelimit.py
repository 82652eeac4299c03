"""Fixed-window rate limits kept in Django's cache, per client address and account (or per
any other key a view names): a window opens with the first request it counts and lasts S
seconds.

Each scope has rates in settings.PLAYGROUND_RATE_LIMITS: "N/S" (N in S seconds), several
separated by commas (each must allow: a burst and a daily cap), or "" / "off". With
REDIS_URL set the cache is Redis, so the counts hold across processes; the default
in-process cache counts per process.

    @rate_limited("api_write")            # every write counts
    def create(request): ...

    @rate_limited("signup", counted_in_view=True)  # only what the view counts
    def signup(request): ... count("signup", request) ...  # an account made
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
from .accounts.persons import person_of
from .clientaddress import client_key

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def parse_rates(text: str) -> list[tuple[int, int]]:
    """"N/S[,N/S...]" as [(N, S), ...]; [] when off."""
    text = (text or "").strip().lower()
    if text in ("", "off"):
        return []
    rates = []
    for part in text.split(","):
        try:
            count, seconds = (int(n) for n in part.split("/"))
        except ValueError:
            raise ImproperlyConfigured(f"rate {part.strip()!r}: expected N/S, e.g. 60/60") \
                from None
        if count < 1 or seconds < 1:
            raise ImproperlyConfigured(f"rate {part.strip()!r}: N and S must be >= 1")
        rates.append((count, seconds))
    return rates


def requester(request: HttpRequest) -> str:
    """Who a scope counts by default: the client's address and the person (an account, a
    classroom seat); everyone else on the address shares "-"."""
    person = person_of(getattr(request, "user", None), request.COOKIES)
    return f"{client_key(request)}|{person or '-'}"


# Scopes counted per person with a cap on their whole address as well: seats can be made
# by whoever holds a join code, accounts by signing up.
WHOLE_ADDRESS = {"api_write": "api_write_address"}


def wait_s(scope: str, request: HttpRequest, who: str | None = None,
           count: bool = True) -> int:
    """Count one in the scope's windows of `who` (the requester by default); the seconds to
    wait if the windows held their limit already, else 0. count=False only looks."""
    now = time.time()
    who = requester(request) if who is None else who
    wait = 0
    for limit, window in parse_rates(settings.PLAYGROUND_RATE_LIMITS.get(scope, "")):
        key = f"ratelimit:{scope}:{limit}/{window}:{who}"
        if count:
            # add() only writes a missing key: the first request of a window opens it.
            cache.add(f"{key}:opened", now, timeout=window)
            cache.add(f"{key}:count", 0, timeout=window)
            try:
                before = cache.incr(f"{key}:count") - 1
            except ValueError:  # the window closed between add and incr
                cache.set(f"{key}:count", 1, timeout=window)
                before = 0
        else:
            before = cache.get(f"{key}:count", 0)
        if before >= limit:
            opened = cache.get(f"{key}:opened", now)
            wait = max(wait, 1, math.ceil(opened + window - now))
    return wait


def count(scope: str, request: HttpRequest, who: str | None = None) -> None:
    """Count one in a scope whose view counts what it limits (counted_in_view=True)."""
    wait_s(scope, request, who)


# What each limit counts, said to whoever reaches it.
SAID = {"api_write": "too many changes",
        "api_write_address": "too many changes from your network",
        "login": "too many failed log-ins from your network",
        "password_reset": "too many password resets from your network",
        "signup": "too many accounts made from your network",
        "join": "too many wrong join codes from your network",
        "join_classroom": "too many people joining this classroom at once"}


def too_many(request: HttpRequest, wait: int, scope: str = "") -> HttpResponse:
    message = f"{SAID.get(scope, 'too many requests')}; try again in {wait} s"
    if request.path.startswith("/api/"):
        response = JsonResponse({"errors": [f"(rate limit): {message}"]}, status=429)
    else:
        response = render(request, "playground/error.html",
                          {"title": "Slow down", "message": message.capitalize() + "."},
                          status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(scope: str, methods: tuple[str, ...] = WRITES,
                 counted_in_view: bool = False) -> Callable:
    """Limit a view's `methods` (writes by default) to the scope's rate. With
    counted_in_view=True only what the view counts (`count`: wrong codes, failed log-ins)
    counts, and a request is refused once that reached the limit."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                for counted, who in ((scope, None),
                                     (WHOLE_ADDRESS.get(scope), client_key(request))):
                    if counted and (wait := wait_s(counted, request, who,
                                                   count=not counted_in_view)):
                        monitoring.QUOTA_REFUSALS.labels(limit=counted).inc()
                        return too_many(request, wait, counted)
            return view(request, *args, **kwargs)

        return limited

    return decorate

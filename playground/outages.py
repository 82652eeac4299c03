"""What the web app does while Redis or PostgreSQL is away (docs/deploy.md, "what survives
which failure").

- The cache (rate-limit counts, rendered previews) is Redis with REDIS_URL set:
  `FallbackRedisCache` uses this process's memory while Redis does not answer, so saving
  and pages go on (limits then count per process), and Redis again once it answers.
- A request that fails because the database (or Redis, used directly) is away answers 503
  with Retry-After: JSON errors on the API, a friendly page elsewhere
  (`ServiceUnavailableMiddleware` for views, `server_error` for what fails outside them).
- A websocket that needs the database to start is told to come back later
  (`DatabaseAwareWebsockets`).
  What was saved stays saved; a save cut short is not kept (versions are written in one
  transaction).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from . import monitoring
from .live.runstore import LAYER_DOWN
from .unavailable import DATABASE_DOWN, REDIS_DOWN

log = logging.getLogger(__name__)

# Websocket close code "try again later" (1013 in the app range): the browser reconnects
# with backoff.
TRY_AGAIN_LATER = 4013
RETRY_AFTER_S = 5  # what a client is told to wait: services restart in seconds
RETRY_REDIS_S = 1.0  # while Redis is away, the cache tries it again this often


class FallbackRedisCache(RedisCache):
    """Django's Redis cache; while Redis is away, an in-memory cache shared by this
    process's threads. One warning per outage."""

    _down_until = 0.0  # monotonic time before which Redis is not tried again
    _lock = threading.Lock()  # caches are made per thread; the outage is the process's

    def __init__(self, server: str, params: dict[str, Any]):
        super().__init__(server, params)
        self._local = LocMemCache("playground-redis-fallback", {
            "TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10_000}})


def _falls_back(name: str):
    def method(self: FallbackRedisCache, *args: Any, **kwargs: Any) -> Any:
        cls = type(self)
        if time.monotonic() >= cls._down_until:
            try:
                result = getattr(RedisCache, name)(self, *args, **kwargs)
            except LAYER_DOWN as exc:
                with cls._lock:
                    if cls._down_until == 0.0:
                        log.warning("cache: Redis unavailable (%s); using this process's "
                                    "memory until it answers", exc)
                        _count("redis")
                    cls._down_until = time.monotonic() + RETRY_REDIS_S
            else:
                if cls._down_until:
                    with cls._lock:
                        cls._down_until = 0.0
                    log.warning("cache: Redis is back")
                return result
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr",
              "set_many", "delete_many", "clear"):
    setattr(FallbackRedisCache, _name, _falls_back(_name))


def outage(exc: BaseException | None) -> str | None:
    """The service an exception says is away: "database", "redis", or None."""
    if isinstance(exc, DATABASE_DOWN):
        return "database"
    if isinstance(exc, REDIS_DOWN):
        return "redis"
    return None


def _count(service: str) -> None:
    monitoring.SERVICE_ERRORS.labels(service=service).inc()


def unavailable(request: HttpRequest, service: str) -> HttpResponse:
    _count(service)
    message = f"the {service} is unavailable for a moment; try again in {RETRY_AFTER_S} s"
    response = _error(request, 503, "Back in a moment", message)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [f"(server): {message}"]}, status=status)
    # The page's header asks who is logged in: from the session, in the database.
    request.user = AnonymousUser()
    return render(request, "playground/error.html",
                  {"title": title, "message": message[:1].upper() + message[1:] + "."},
                  status=status)


class ServiceUnavailableMiddleware:
    """A view that fails because a service is away answers 503 (also with DEBUG on)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception
                          ) -> HttpResponse | None:
        service = outage(exception)
        return None if service is None else unavailable(request, service)


class DatabaseAwareWebsockets:
    """ASGI middleware of the websocket stack: a socket whose set-up (the session's user,
    a classroom socket's classroom) needs the database while it is away is accepted, sent a
    `notice` and closed with 4013 (try again later), as when Redis is away
    (playground/live/consumers.py): the browser reconnects with backoff, instead of failing."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        sent: set[str] = set()

        async def watched_send(message):
            sent.add(message["type"])
            await send(message)

        try:
            return await self.app(scope, receive, watched_send)
        except DATABASE_DOWN:
            if "websocket.close" in sent:
                return
            _count("database")
            if "websocket.accept" not in sent:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(
                {"type": "notice", "message": "the database is unavailable for a moment; "
                                              "reconnecting"})})
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (debug off): what failed outside a view, e.g. saving the session. Django
    calls it while handling the exception, so sys.exc_info() names it."""
    service = outage(sys.exc_info()[1])
    if service is not None:
        return unavailable(request, service)
    return _error(request, 500, "Something went wrong",
                  "the server failed to answer this request; it has been logged")

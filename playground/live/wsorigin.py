"""Websockets are accepted only from pages of this site: the Origin a browser sends must be
the site itself (scheme, host and port of the request, the host one of ALLOWED_HOSTS), or
one of CSRF_TRUSTED_ORIGINS, as Django's CSRF check has it for forms.

Channels' AllowedHostsOriginValidator compares the Origin's host with ALLOWED_HOSTS alone:
with ALLOWED_HOSTS = ['*'] any site could open a socket with a visitor's session, and an
Origin on another port (another app on the same host) always passed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of scheme://netloc, or None when it is not one."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None or parts.path or parts.username:
        return None
    return scheme, parts.hostname, port


def _request_scheme(scope: dict, headers: dict[bytes, bytes]) -> str:
    """http or https, as Django decides it for a request (SECURE_PROXY_SSL_HEADER)."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, secure = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        forwarded = headers.get(header, b"").decode("latin1").split(",")[0].strip()
        if forwarded:
            return "https" if forwarded == secure else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def allowed(scope: dict) -> bool:
    """Whether the handshake in `scope` comes from a page this site may serve."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin1")
    scheme, _, netloc = origin.partition("://")
    sender = _origin(scheme, netloc)
    if sender is None:  # no Origin, or "null" (a sandboxed page, a file): no page of ours
        return False
    if origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        return True
    host = headers.get(b"host", b"").decode("latin1")
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return sender == _origin(_request_scheme(scope, headers), host)


class SameOriginValidator:
    """ASGI middleware refusing (403 at the handshake) a websocket from another origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

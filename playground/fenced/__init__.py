"""Every reach into the internals of the server (Daphne, and the Twisted and Autobahn it is
built on) lives in this package, fenced: each module wraps a few named methods, and
tests/web/test_serving_contract.py fails loudly if one of them changes shape in a new
release (requirements.txt pins Daphne exactly for that reason).

- http_bodies: a request body over PLAYGROUND_HTTP_MAX_BODY_BYTES is refused (413) before
  Daphne buffers it.
- ws_limits: what Daphne holds for a websocket, both ways, and messages over
  PLAYGROUND_WS_MAX_MESSAGE_BYTES answered `too_large` and closed 4008.
- memory: the heap given back to the system after sockets close.
- frames: a run's messages written straight to a viewer's socket, framed once for all, and
  its acks handled as they are read (issue 20).
"""

from __future__ import annotations


def install() -> None:
    """Patch the server's classes (idempotent; a no-op where Daphne is not installed)."""
    try:
        from daphne.http_protocol import WebRequest
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    from . import frames, http_bodies, memory, ws_limits

    http_bodies.install(WebRequest)
    frames.install(Server, WebSocketProtocol)  # before ws_limits: its guard comes first
    ws_limits.install(WebSocketProtocol)
    memory.install(WebSocketProtocol)

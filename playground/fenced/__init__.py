"""Every reach into framework internals lives in this package, fenced: Daphne and the Twisted
and Autobahn it is built on, Channels and channels_redis. Each module wraps or subclasses a
few named parts; contract.py lists every private or undocumented name reached and the exact
releases it was written for (requirements.txt pins the same). tests/web/test_fenced_*.py fail
loudly when a new release changes one of them, and a start-up check (playground/checks.py,
playground.E002/E003) reports an installed release that differs or a name that is gone. The
general problems these patches fix are written up for upstream in docs/deploy.md.

- http_bodies: a request body over PLAYGROUND_HTTP_MAX_BODY_BYTES is refused (413) before
  Daphne buffers it.
- ws_limits: what Daphne holds for a websocket, both ways, and messages over
  PLAYGROUND_WS_MAX_MESSAGE_BYTES answered `too_large` and closed 4008.
- memory: the heap given back to the system after sockets close.
- frames: a run's messages written straight to a viewer's socket, framed once for all, and
  its acks handled as they are read (issue 20).
- consumer: a Channels consumer sees its layer's receive (LayerAwareSocket).
- layers: the channel layers, Channels' in-memory one and channels_redis's pub/sub one,
  handing a group's message to its viewers in one pass, and channels_redis's core one, whose
  receive ends when cancelled (settings.CHANNEL_LAYERS).
"""

from __future__ import annotations


def install() -> None:
    """Patch Daphne's classes (idempotent; a no-op where Daphne is not installed)."""
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

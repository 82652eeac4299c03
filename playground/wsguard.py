"""A bound on what Daphne queues for a websocket before the consumer reads it.

Daphne puts every incoming websocket message on an unbounded asyncio queue, and while a
client floods, Twisted parsing its frames takes most of the event loop: the consumer then
reads the queue far slower than it fills, so its rate limit (playground/consumers.py) sees
the flood late and memory grows with the backlog (measured: 130,000 tiny messages queued in
3 s, +38 MiB, the consumer closing the socket only 12 s later). So the check sits in
Daphne's protocol, where each message arrives: a socket with more than
PLAYGROUND_WS_MAX_QUEUED messages or PLAYGROUND_WS_MAX_QUEUED_BYTES waiting is closed with
4008 at once, and what it sends after that is dropped. A browser never gets near either
(it sends a few messages a second, and the consumer's own rate limit is 20).
"""

from __future__ import annotations

import logging

from django.conf import settings

from .consumers import POLICY_VIOLATION

log = logging.getLogger(__name__)


def _waiting_bytes(queue) -> int:
    # asyncio.Queue keeps its items in a deque, `_queue`; at most MAX_QUEUED of them
    return sum(len(m.get("text") or m.get("bytes") or "") for m in queue._queue)


def install() -> None:
    """Wrap Daphne's WebSocketProtocol.onMessage (a no-op when Daphne is not installed)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol.onMessage, "guarded", False):
        return
    deliver = WebSocketProtocol.onMessage

    def on_message(self, payload: bytes, is_binary: bool) -> None:
        if getattr(self, "flood_cut", False):
            return
        queue = getattr(self, "application_queue", None)
        if queue is not None and queue.qsize() and (
                queue.qsize() >= settings.PLAYGROUND_WS_MAX_QUEUED
                or _waiting_bytes(queue) + len(payload) > settings.PLAYGROUND_WS_MAX_QUEUED_BYTES):
            self.flood_cut = True
            log.warning("websocket %s: closed, sending faster than it is served",
                        self.client_addr)
            # not `muted`: Daphne must still tell the consumer it disconnected
            self.sendClose(code=POLICY_VIOLATION, reason="too many messages")
            return
        deliver(self, payload, is_binary)

    on_message.guarded = True
    WebSocketProtocol.onMessage = on_message

"""Bounds on what Daphne holds for a websocket, in both directions.

Incoming: what Daphne queues before the consumer reads it.

Daphne puts every incoming websocket message on an unbounded asyncio queue, and while a
client floods, Twisted parsing its frames takes most of the event loop: the consumer then
reads the queue far slower than it fills, so its rate limit (playground/consumers.py) sees
the flood late and memory grows with the backlog (measured: 130,000 tiny messages queued in
3 s, +38 MiB, the consumer closing the socket only 12 s later). So the check sits in
Daphne's protocol, where each message arrives: a socket with more than
PLAYGROUND_WS_MAX_QUEUED messages or PLAYGROUND_WS_MAX_QUEUED_BYTES waiting is closed with
4008 at once, and what it sends after that is dropped. A browser never gets near either
(it sends a few messages a second, and the consumer's own rate limit is 20).

Outgoing: what Twisted holds that the client has not taken yet. A viewer gets frames only
while it acks them (playground/sendwindow.py), but a client can ack frames it never reads:
a socket with more than PLAYGROUND_WS_MAX_UNSENT_BYTES unsent is cut (no close handshake
could get through), and the consumer hears that it disconnected.
"""

from __future__ import annotations

import logging

from django.conf import settings

from .consumers import POLICY_VIOLATION

log = logging.getLogger(__name__)


def _waiting_bytes(queue) -> int:
    # asyncio.Queue keeps its items in a deque, `_queue`; at most MAX_QUEUED of them
    return sum(len(m.get("text") or m.get("bytes") or "") for m in queue._queue)


def unsent_bytes(transport) -> int:
    """What Twisted's transport (a FileDescriptor) holds that the kernel has not taken."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # not a Twisted socket transport (e.g. in tests)
        return 0


def install() -> None:
    """Wrap Daphne's WebSocketProtocol.onMessage and serverSend (a no-op when Daphne is not
    installed)."""
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
    WebSocketProtocol.serverSend = _bounded_send(WebSocketProtocol.serverSend)


def _bounded_send(send):
    def server_send(self, content, binary: bool = False) -> None:
        if getattr(self, "send_cut", False):
            return
        if unsent_bytes(self.transport) > settings.PLAYGROUND_WS_MAX_UNSENT_BYTES:
            self.send_cut = True
            log.warning("websocket %s: cut, not reading what it is sent", self.client_addr)
            self.transport.abortConnection()
            return
        send(self, content, binary)

    return server_send

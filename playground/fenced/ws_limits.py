"""Bounds on what Daphne holds for a websocket, in both directions, and on one message.

Message size: Autobahn (under Daphne) fails a socket whose message passes its limit by
dropping the TCP connection, which the client sees as close 1006 with no reason. Here the
limit is PLAYGROUND_WS_MAX_MESSAGE_BYTES, applied by Autobahn as the frame header arrives
(before the payload is buffered), and breaking it is answered as docs/protocol.md says: an
`error` `too_large`, then close 4008; the rest of the message is dropped unread.

Incoming: what Daphne queues before the consumer reads it.

Daphne puts every incoming websocket message on an unbounded asyncio queue, and while a
client floods, Twisted parsing its frames takes most of the event loop: the consumer then
reads the queue far slower than it fills, so its rate limit (playground/live/consumers.py) sees
the flood late and memory grows with the backlog (measured: 130,000 tiny messages queued in
3 s, +38 MiB, the consumer closing the socket only 12 s later). So the check sits in
Daphne's protocol, where each message arrives: a socket with more than
PLAYGROUND_WS_MAX_QUEUED messages or PLAYGROUND_WS_MAX_QUEUED_BYTES waiting is closed with
4008 at once, and what it sends after that is dropped. A browser never gets near either
(it sends a few messages a second, and the consumer's own rate limit is 20).

Outgoing: what Twisted holds that the client has not taken yet. A viewer gets frames only
while it acks them (playground/live/sendwindow.py), but a client can ack frames it never reads:
a socket with more than PLAYGROUND_WS_MAX_UNSENT_BYTES unsent is cut (no close handshake
could get through), and the consumer hears that it disconnected.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

from ..live.protocol import POLICY_VIOLATION
from ..live.runners import error_payload

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


def install(protocol_class) -> None:
    """Wrap onConnect, onMessage, serverSend and _max_message_size_exceeded of Daphne's
    WebSocketProtocol (an autobahn WebSocketServerProtocol)."""
    if getattr(protocol_class.onMessage, "guarded", False):
        return
    deliver = protocol_class.onMessage

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
    protocol_class.onMessage = on_message
    protocol_class.serverSend = _bounded_send(protocol_class.serverSend)
    protocol_class.onConnect = _sized_messages(protocol_class.onConnect)
    protocol_class._max_message_size_exceeded = _too_large


def cut_if_not_reading(protocol) -> bool:
    """Whether the socket is cut (now, or before) for holding more than
    PLAYGROUND_WS_MAX_UNSENT_BYTES unsent: nothing more is sent to it."""
    if getattr(protocol, "send_cut", False):
        return True
    if unsent_bytes(protocol.transport) > settings.PLAYGROUND_WS_MAX_UNSENT_BYTES:
        protocol.send_cut = True
        log.warning("websocket %s: cut, not reading what it is sent", protocol.client_addr)
        protocol.transport.abortConnection()
        return True
    return False


def _bounded_send(send):
    def server_send(self, content, binary: bool = False) -> None:
        if not cut_if_not_reading(self):
            send(self, content, binary)

    return server_send


def _sized_messages(on_connect):
    def sized_on_connect(self, request):
        # Autobahn copied Daphne's command-line limits (1 MiB) to the socket; ours rule.
        self.maxMessagePayloadSize = self.maxFramePayloadSize = \
            settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES
        return on_connect(self, request)

    return sized_on_connect


def _too_large(self, size: int, limit: int, reason: str) -> None:
    """Autobahn's hook for a message (or frame) over the limit, called with the frame's
    header: instead of dropping the connection, say why and close it."""
    self.failedByMe = True  # Autobahn drops the rest of the message, and all after it
    log.warning("websocket %s: closed, a message of %d bytes", self.client_addr, size)
    error = error_payload("too_large", f"messages are limited to {limit} bytes")
    self.sendMessage(json.dumps(error).encode(), False)
    self.sendClose(code=POLICY_VIOLATION, reason="message too large")

"""A run's messages written straight to a viewer's socket (issue 20).

The ordinary way out of a consumer is Channels' `send` into Daphne's ASGI `send`: through the
middleware's wrappers, Daphne's `handle_reply` and `serverSend`, Autobahn's `sendMessage`,
`sendFrame` and `sendData` (which formats a debug line's arguments even with logging off),
to Twisted's `transport.write`, which registers an epoll writer for the socket and sends on
the next turn of the event loop, then unregisters it. Per message per viewer: at 500
viewers, 7,500 times a second, about a third of a web process (py-spy, bench/load.py).

A server's websocket frame is not masked, so the bytes of one text message are the same for
every viewer: `SocketWriter.send_text` frames a text once (a one-entry cache: a run's frame
goes to a process's viewers in one pass, playground/fenced/layers.py) and writes it with one
`send(2)` when Twisted holds nothing unsent for that socket; else, or for what it leaves
over, Twisted's `write` as before. It takes the ordinary way (returns False) whenever the
socket is not plainly open: not accepted, closing, compressed (permessage-deflate: Daphne
does not offer it), a message Autobahn would fragment or refuse, a transport that is not
plain TCP (TLS). The bound on what waits unsent for a socket (playground/fenced/ws_limits.py)
applies the same way to both.

The consumer finds its socket's writer in its scope (`extensions`), put there by Daphne's
`Server.create_application`, wrapped here; in tests without Daphne there is none, and every
message takes the ordinary way.

The other way, a viewer's acks (4 a second each) take Daphne's queue, a task Channels makes
for each message and its dispatch. A consumer may instead offer the writer a `take`: Daphne's
`onMessage` hands it a text message at once, when that changes no order: every message
queued before has been handled and none waits (`passed` == `handled`). It handles the message
or says False, and the message is queued as before. And Autobahn's `dataReceived` formats
the arguments of a debug line (with colours) on every read, even with debug logging off: a
few percent of a web process; it is replaced by what it does besides, with a read that is
one small whole text message (an ack) unmasked and handed over directly
(`one_small_text`): Autobahn's frame parsing was half of an ack's cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol
from twisted.internet import tcp

from . import ws_limits

EXTENSION = "playground.socket_writer"
TEXT = 0x81  # FIN + opcode 1 (text); no RSV bits: not compressed
OPEN = WebSocketProtocol.STATE_OPEN
GROUND = WebSocketProtocol.SEND_STATE_GROUND

# the last text framed, its frame and its payload's size
_last: tuple[str, bytes, int] = ("", bytes([TEXT, 0]), 0)


def frame(text: str) -> tuple[bytes, int]:
    """`text` as one unmasked, unfragmented websocket text frame (RFC 6455, 5.2), and the
    size of its payload."""
    global _last
    if text is _last[0]:
        return _last[1], _last[2]
    payload = text.encode()
    size = len(payload)
    if size <= 125:
        head = bytes((TEXT, size))
    elif size <= 0xFFFF:
        head = bytes((TEXT, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((TEXT, 127)) + size.to_bytes(8, "big")
    _last = (text, head + payload, size)
    return _last[1], size


def write(transport, data: bytes) -> None:
    """Twisted's transport.write, but sent at once (no epoll writer registered and removed)
    when the transport is plain TCP and holds nothing unsent: what the kernel does not take
    is buffered by Twisted as usual, and an error is left to Twisted to find (it does, on
    its next write attempt, and closes the connection)."""
    if type(transport) is tcp.Server and transport.connected and not (
            transport.disconnecting or transport._writeDisconnecting
            or transport._writeDisconnected or transport._tempDataLen
            or len(transport.dataBuffer) - transport.offset):
        sent = transport.writeSomeData(data)
        if type(sent) is int:
            if sent == len(data):
                return
            data = data[sent:]
    transport.write(data)


class SocketWriter:
    """A websocket's way out that bypasses Channels, Daphne and Autobahn (module doc)."""

    __slots__ = ("handled", "passed", "protocol", "take")

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.take: Callable[[bytes], bool] | None = None  # the consumer's (module doc)
        self.passed = self.handled = 0  # messages queued for the consumer; handled by it

    def plainly_open(self) -> bool:
        """Open, and nothing Autobahn would do to a message (compress, fragment, queue)."""
        p = self.protocol
        return p.state == OPEN and p.send_state == GROUND and not p.send_queue \
            and p._perMessageCompress is None and not p.autoFragmentSize \
            and not getattr(p, "send_cut", False)

    def send_text(self, text: str) -> bool:
        """Write `text` as one message, in order with what was sent before; False: it must
        go the ordinary way (nothing was written)."""
        if not self.plainly_open():
            return False
        p = self.protocol
        data, size = frame(text)
        if 0 < p.maxMessagePayloadSize < size:  # Autobahn refuses it: let it say so
            return False
        connection = p.server.connections.get(p)
        if connection is None or "disconnected" in connection:
            return True  # Daphne's handle_reply drops it too
        if ws_limits.cut_if_not_reading(p):
            return True
        write(p.transport, data)
        return True


def one_small_text(p, data: bytes) -> bool:
    """Hand `data` to the protocol's `_onMessage` as Autobahn's parsing would, if it is one
    whole text message of at most 125 bytes in one masked frame (a viewer's ack, 4 a second)
    arriving between messages on an open socket that counts and checks nothing unusual. Its
    parsing took about half of an ack's cost in a web process: the header read field by
    field, a masker and a UTF-8 validator made for each frame, frame and message hooks, and
    an event fired for listeners nobody registers. False, having changed nothing: anything
    else, including text that is not UTF-8, goes through Autobahn's parsing, which fails
    the connection as it should."""
    size = len(data) - 6  # after the 2-byte header and the 4-byte mask
    if not (0 <= size <= 125 and data[0] == TEXT and data[1] == 0x80 | size) or p.data \
            or p.state != OPEN or p.current_frame is not None or p.inside_message \
            or p.failedByMe or p._perMessageCompress is not None or not p.applyMask \
            or p.logOctets or p.logFrames or p.trackedTimings or p._listeners is not None \
            or p.autoPingTimeoutCall is not None or 0 < p.maxMessagePayloadSize < size \
            or 0 < p.maxFramePayloadSize < size:
        return False
    mask = int.from_bytes((data[2:6] * 32)[:size], "big")  # the 4 bytes over the payload
    payload = (int.from_bytes(data[6:], "big") ^ mask).to_bytes(size, "big")
    if p.utf8validateIncoming:
        try:
            payload.decode()
        except UnicodeDecodeError:
            return False
    stats = p.trafficStats  # counted as Autobahn counts a message of one frame
    stats.incomingOctetsWireLevel += len(data)
    stats.incomingOctetsWebSocketLevel += size
    stats.incomingOctetsAppLevel += size
    stats.incomingWebSocketFrames += 1
    stats.incomingWebSocketMessages += 1
    p._onMessage(payload, False)
    return True


def writer(scope: dict[str, Any]) -> SocketWriter | None:
    """The socket writer of a consumer's scope, if Daphne serves it."""
    return scope.get("extensions", {}).get(EXTENSION)


def install(server_class, protocol_class) -> None:
    """Wrap Daphne's Server.create_application (a websocket's scope gets its writer) and
    WebSocketProtocol.onMessage (a message its consumer takes at once is not queued);
    replace Autobahn's dataReceived (module docstring)."""
    create = server_class.create_application
    if getattr(create, "writes_frames", False):
        return

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":
            protocol.socket_writer = SocketWriter(protocol)
            scope["extensions"] = {**scope.get("extensions", {}),
                                   EXTENSION: protocol.socket_writer}
        return create(self, protocol, scope)

    create_application.writes_frames = True
    server_class.create_application = create_application
    queue = protocol_class.onMessage

    def on_message(self, payload: bytes, is_binary: bool) -> None:
        writer = getattr(self, "socket_writer", None)
        if writer is not None:
            if writer.take is not None and not is_binary and not self.muted \
                    and writer.passed == writer.handled and writer.take(payload):
                self.last_ping = time.time()  # as Daphne's onMessage
                return
            writer.passed += 1
        queue(self, payload, is_binary)

    protocol_class.onMessage = on_message

    def data_received(self, data: bytes) -> None:  # Autobahn's, without the debug line
        if not one_small_text(self, data):
            self._dataReceived(data)

    protocol_class.dataReceived = data_received

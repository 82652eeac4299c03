"""A run's messages written straight to a viewer's socket (issue 20).

The ordinary way out of a consumer is Channels' `send` into Daphne's ASGI `send`: through the
middleware's wrappers, Daphne's `handle_reply` and `serverSend`, Autobahn's `sendMessage`,
`sendFrame` and `sendData` (which formats a debug line's arguments even with logging off),
to Twisted's `transport.write`, which registers an epoll writer for the socket and sends on
the next turn of the event loop, then unregisters it. Per message per viewer: at 500
viewers, 7,500 times a second, about a third of a web process (py-spy, bench/load.py).

A server's websocket frame is not masked, so the bytes of one text message are the same for
every viewer: `SocketWriter.send_text` frames a text once (a one-entry cache: a run's frame
goes to a process's viewers in one pass, playground/layers.py) and writes it with one
`send(2)` when Twisted holds nothing unsent for that socket; else, or for what it leaves
over, Twisted's `write` as before. It takes the ordinary way (returns False) whenever the
socket is not plainly open: not accepted, closing, compressed (permessage-deflate: Daphne
does not offer it), a message Autobahn would fragment or refuse, a transport that is not
plain TCP (TLS). The bound on what waits unsent for a socket (playground/serving/ws_limits.py)
applies the same way to both.

The consumer finds its socket's writer in its scope (`extensions`), put there by Daphne's
`Server.create_application`, wrapped here; in tests without Daphne there is none, and every
message takes the ordinary way.
"""

from __future__ import annotations

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

    __slots__ = ("protocol",)

    def __init__(self, protocol) -> None:
        self.protocol = protocol

    def send_text(self, text: str) -> bool:
        """Write `text` as one message, in order with what was sent before; False: it must
        go the ordinary way (nothing was written)."""
        p = self.protocol
        if p.state != OPEN or p.send_state != GROUND or p.send_queue \
                or p._perMessageCompress is not None or p.autoFragmentSize \
                or getattr(p, "send_cut", False):
            return False
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


def writer(scope: dict[str, Any]) -> SocketWriter | None:
    """The socket writer of a consumer's scope, if Daphne serves it."""
    return scope.get("extensions", {}).get(EXTENSION)


def install(server_class) -> None:
    """Wrap Daphne's Server.create_application: a websocket's scope gets its writer."""
    create = server_class.create_application
    if getattr(create, "writes_frames", False):
        return

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":
            scope["extensions"] = {**scope.get("extensions", {}),
                                   EXTENSION: SocketWriter(protocol)}
        return create(self, protocol, scope)

    create_application.writes_frames = True
    server_class.create_application = create_application

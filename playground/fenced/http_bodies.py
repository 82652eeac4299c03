"""Request bodies over PLAYGROUND_HTTP_MAX_BODY_BYTES are refused before Daphne holds them.

Twisted stores a body as it arrives (in a temporary file past 100 kB), and only once it is
complete does Daphne read all of it onto the application's queue, in memory, before Django
could look at a Content-Length: three `POST /healthz` of 1 GiB at once grew the server by
1 GiB, never given back (bench/edges_memory.py). So the check sits in Twisted's Request,
where the body arrives: a declared length over the limit is answered 413 as soon as the
headers are in, before any of the body is read; a chunked body (or any body) is counted as
it streams and answered 413 the moment it passes the limit. Either way the connection is
closed: what the client still sends is never read.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

log = logging.getLogger(__name__)


def refusal(limit: int) -> bytes:
    """The whole answer to a body over `limit` bytes: short, and the connection closes."""
    body = f"Request body too large: the limit is {limit} bytes.\n".encode()
    return (b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


LOG_EVERY_S = 10.0  # refusals are logged at most this often: a flood of them, 200 a second,
_logged = {"at": -LOG_EVERY_S, "since": 0}  # spent 2% of the event loop on log lines


def _refuse(request) -> None:
    request.body_refused = True
    request.requestHeaders.removeHeader(b"Expect")  # no "100 Continue" after the 413
    _logged["since"] += 1
    if (now := time.monotonic()) - _logged["at"] >= LOG_EVERY_S:
        log.warning("HTTP request from %s: body over %d bytes, refused (%d refused since the "
                    "last such line)", request.getClientAddress(),
                    settings.PLAYGROUND_HTTP_MAX_BODY_BYTES, _logged["since"])
        _logged.update(at=now, since=0)
    channel = request.channel
    channel.transport.write(refusal(settings.PLAYGROUND_HTTP_MAX_BODY_BYTES))
    channel.loseConnection()


def install(request_class) -> None:
    """Wrap gotLength, handleContentChunk and requestReceived of Daphne's WebRequest (a
    twisted.web.http.Request)."""
    if getattr(request_class.gotLength, "guarded", False):
        return
    got_length = request_class.gotLength
    handle_chunk = request_class.handleContentChunk
    received = request_class.requestReceived

    def gotLength(self, length: int | None) -> None:  # noqa: N802 (Twisted's name)
        self.body_refused, self.body_bytes = False, 0
        if length is not None and length > settings.PLAYGROUND_HTTP_MAX_BODY_BYTES:
            # Twisted opens a temporary file for a body this long: a file per refused
            # request, most of the cost of refusing it (bench/abuse.py). Nothing is stored.
            got_length(self, 0)
            _refuse(self)
            return
        got_length(self, length)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802
        if self.body_refused:  # the rest of what was read with the chunk that passed
            return
        self.body_bytes += len(data)
        if self.body_bytes > settings.PLAYGROUND_HTTP_MAX_BODY_BYTES:
            _refuse(self)
            return
        handle_chunk(self, data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:  # noqa: N802
        # a refused request never reaches the application
        if not getattr(self, "body_refused", False):
            received(self, command, path, version)

    gotLength.guarded = True
    request_class.gotLength = gotLength
    request_class.handleContentChunk = handleContentChunk
    request_class.requestReceived = requestReceived

"""What playground/serving/ assumes of Daphne, Twisted and Autobahn internals: if a new
release renames or reshapes one of them, these fail loudly (rather than a limit silently
no longer holding). The behaviour through a real Daphne is tested in tests/web/test_edges.py
and test_flood_daphne.py."""

import asyncio
import inspect
import re
from pathlib import Path

import autobahn.websocket.protocol as autobahn_protocol
import daphne
import daphne.server
import pytest
from daphne.http_protocol import WebRequest
from daphne.ws_protocol import WebSocketProtocol
from django.test import override_settings
from twisted.internet.testing import StringTransport
from twisted.web import http

from playground import serving
from playground.serving import http_bodies

ROOT = Path(__file__).resolve().parents[2]


def params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_daphne_is_the_pinned_release():
    pin = re.search(r"^daphne==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin, "requirements.txt must pin daphne exactly: playground/serving patches it"
    assert daphne.__version__ == pin[1]


# -- http_bodies -------------------------------------------------------------------------
def test_daphne_takes_the_request_body_from_twisteds_request_methods():
    assert issubclass(WebRequest, http.Request)
    source = inspect.getsource(daphne.http_protocol)
    for name in ("gotLength", "handleContentChunk", "requestReceived"):
        assert f"def {name}" not in source, f"Daphne now overrides {name}"
    assert params(http.Request.gotLength) == ["self", "length"]
    assert params(http.Request.handleContentChunk) == ["self", "data"]
    assert params(http.Request.requestReceived) == ["self", "command", "path", "version"]
    assert "self.content.read(" in inspect.getsource(WebRequest.process)


class Recorded(http.Request):
    """A Twisted request that records the bodies handed on (Daphne's starts the app)."""

    def process(self):
        self.channel.processed.append(self.content.read())
        self.setResponseCode(204)
        self.finish()


http_bodies.install(Recorded)


def channel() -> tuple[http.HTTPChannel, StringTransport]:
    conn = http.HTTPChannel()
    conn.requestFactory = Recorded
    conn.processed = []
    transport = StringTransport()
    conn.makeConnection(transport)
    return conn, transport


@override_settings(PLAYGROUND_HTTP_MAX_BODY_BYTES=1000)
def test_twisted_asks_for_the_declared_length_before_any_of_the_body():
    conn, transport = channel()
    conn.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n"
                      b"Expect: 100-continue\r\n\r\n")
    assert transport.value() == http_bodies.refusal(1000)  # and no "100 Continue"
    assert transport.disconnecting
    assert conn.processed == []


@override_settings(PLAYGROUND_HTTP_MAX_BODY_BYTES=1000)
def test_a_refused_body_opens_no_temporary_file(monkeypatch):
    """Twisted stores a body over 100 kB in a temporary file: refusing one must not cost
    a file (bench/abuse.py's uploads are refused hundreds of times a second)."""
    opened = []
    monkeypatch.setattr(http.tempfile, "TemporaryFile", lambda *a, **k: opened.append(a))
    conn, transport = channel()
    conn.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n"
                      + b"x" * 5000)
    assert transport.value() == http_bodies.refusal(1000)
    assert opened == []


@override_settings(PLAYGROUND_HTTP_MAX_BODY_BYTES=1000)
def test_twisted_hands_a_chunked_body_over_as_it_is_decoded():
    conn, transport = channel()
    chunks = b"".join(b"12c\r\n" + b"x" * 300 + b"\r\n" for _ in range(10))  # 3000 bytes
    conn.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + chunks + b"0\r\n\r\n")
    assert transport.value() == http_bodies.refusal(1000)
    assert transport.disconnecting
    assert conn.processed == []  # the body's end, read with the rest, started nothing
    content = conn.requests[0].content
    content.seek(0)
    assert len(content.read()) <= 1000


@override_settings(PLAYGROUND_HTTP_MAX_BODY_BYTES=1000)
def test_a_body_at_the_limit_is_handed_on():
    conn, transport = channel()
    conn.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                      + b"x" * 1000)
    assert conn.processed == [b"x" * 1000]
    assert transport.value().startswith(b"HTTP/1.1 204 ")


# -- ws_limits ---------------------------------------------------------------------------
def test_daphne_websocket_methods_wrapped_have_the_shape_assumed():
    serving.install()
    assert params(WebSocketProtocol.onMessage) == ["self", "payload", "is_binary"]
    originals = inspect.getsource(daphne.ws_protocol)
    assert "def onMessage(self, payload, isBinary)" in originals
    assert "def serverSend(self, content, binary=False)" in originals
    assert "def onConnect(self, request)" in originals
    assert "def onClose(self, wasClean, code, reason)" in originals
    assert "self.application_queue" in originals and "self.client_addr" in originals
    assert isinstance(asyncio.Queue()._queue, __import__("collections").deque)
    from twisted.internet.abstract import FileDescriptor

    fd = FileDescriptor()
    assert (fd.dataBuffer, fd.offset, fd._tempDataLen) == (b"", 0, 0)


def test_autobahn_calls_its_too_big_hook_with_the_frame_header_and_drops_after_failing():
    base = autobahn_protocol.WebSocketProtocol
    assert params(base._max_message_size_exceeded) == ["self", "msg_size", "max_msg_size",
                                                       "reason"]
    assert "_max_message_size_exceeded" in inspect.getsource(base.onMessageFrameBegin)
    for name in ("onMessageFrameData", "onMessageFrameEnd"):
        assert "if not self.failedByMe" in inspect.getsource(getattr(base, name))
    for name in ("maxMessagePayloadSize", "maxFramePayloadSize"):
        assert name in base.CONFIG_ATTRS_COMMON


@pytest.mark.parametrize("name", ["onMessage", "serverSend", "onConnect", "onClose",
                                  "_max_message_size_exceeded"])
def test_install_is_idempotent(name):
    serving.install()
    before = getattr(WebSocketProtocol, name)
    serving.install()
    assert getattr(WebSocketProtocol, name) is before


# -- memory ------------------------------------------------------------------------------
def test_daphne_marks_closed_sockets_and_forgets_them_once_their_app_is_done():
    source = inspect.getsource(daphne.server.Server)
    assert 'self.connections[protocol]["disconnected"] = time.time()' in source
    assert "del self.connections[protocol]" in source
    assert "self.server.protocol_disconnected(self)" in inspect.getsource(daphne.ws_protocol)


def test_glibc_malloc_trim_is_there_to_call():
    from playground.serving.memory import _malloc_trim

    trim = _malloc_trim()
    assert trim is not None, "not glibc: memory after closes is not given back"
    assert trim(0) in (0, 1)

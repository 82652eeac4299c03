"""What playground/fenced/ assumes of Daphne, Twisted and Autobahn internals: if a new
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

from playground import fenced
from playground.fenced import frames, http_bodies

ROOT = Path(__file__).resolve().parents[2]


def params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_daphne_is_the_pinned_release():
    pin = re.search(r"^daphne==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin, "requirements.txt must pin daphne exactly: playground/fenced patches it"
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
    fenced.install()
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
    fenced.install()
    before = getattr(WebSocketProtocol, name)
    fenced.install()
    assert getattr(WebSocketProtocol, name) is before


# -- memory ------------------------------------------------------------------------------
def test_daphne_marks_closed_sockets_and_forgets_them_once_their_app_is_done():
    source = inspect.getsource(daphne.server.Server)
    assert 'self.connections[protocol]["disconnected"] = time.time()' in source
    assert "del self.connections[protocol]" in source
    assert "self.server.protocol_disconnected(self)" in inspect.getsource(daphne.ws_protocol)


def test_glibc_malloc_trim_is_there_to_call():
    from playground.fenced.memory import _malloc_trim

    trim = _malloc_trim()
    assert trim is not None, "not glibc: memory after closes is not given back"
    assert trim(0) in (0, 1)


# -- frames ------------------------------------------------------------------------------
def open_protocol():
    """Daphne's websocket protocol on a StringTransport, open; as Daphne tracks it."""
    from autobahn.twisted.websocket import WebSocketServerFactory

    factory = WebSocketServerFactory()
    factory.protocol = WebSocketProtocol
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state = protocol.STATE_OPEN
    protocol.inside_message, protocol.current_frame = False, None  # as the handshake leaves
    protocol.client_addr = ("127.0.0.1", 1)
    protocol.server = type("Server", (), {"connections": {protocol: {"connected": 1}}})()
    return protocol, transport


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 200_000])
def test_a_frame_is_the_bytes_autobahn_writes_for_the_message(size):
    text = ("é" + "x" * size)[:size] if size else ""
    protocol, transport = open_protocol()
    protocol.sendMessage(text.encode(), False)  # Daphne's serverSend of a text
    assert frames.frame(text) == (transport.value(), len(text.encode()))


def test_the_socket_writer_writes_what_autobahn_would_and_in_order():
    theirs, expected = open_protocol()
    ours, transport = open_protocol()
    for text in ('{"type": "frame", "seq": 1}', "y" * 300, '{"type": "frame", "seq": 1}'):
        theirs.sendMessage(text.encode(), False)
        assert frames.SocketWriter(ours).send_text(text)
    assert transport.value() == expected.value()


def test_the_socket_writer_leaves_a_socket_not_plainly_open_to_the_ordinary_way():
    protocol, transport = open_protocol()
    writer = frames.SocketWriter(protocol)
    protocol.state = protocol.STATE_CONNECTING  # not accepted yet: Daphne accepts first
    assert not writer.send_text("a")
    protocol.state = protocol.STATE_CLOSING
    assert not writer.send_text("a")
    protocol.state = protocol.STATE_OPEN
    protocol._perMessageCompress = object()  # compressed: Autobahn deflates
    assert not writer.send_text("a")
    protocol._perMessageCompress = None
    protocol.maxMessagePayloadSize = 10  # Autobahn refuses it, and says so
    assert not writer.send_text("x" * 11)
    assert transport.value() == b""
    protocol.server.connections[protocol]["disconnected"] = 1.0  # Daphne drops it
    assert writer.send_text("a")
    assert transport.value() == b""


@override_settings(PLAYGROUND_WS_MAX_UNSENT_BYTES=100)
def test_the_socket_writer_cuts_a_socket_that_does_not_read_as_serverSend_does():
    protocol, transport = open_protocol()
    aborted = []
    transport.abortConnection = lambda: aborted.append(True)
    transport._tempDataLen, transport.dataBuffer, transport.offset = 101, b"", 0
    assert frames.SocketWriter(protocol).send_text("a")
    assert aborted and protocol.send_cut
    assert transport.value() == b""


def tcp_server(reactor):
    """A Twisted TCP server transport over one end of a socket pair; (transport, peer)."""
    import socket

    from twisted.internet import protocol as twisted_protocol
    from twisted.internet import tcp

    mine, peer = socket.socketpair()
    mine.setblocking(False)
    peer.settimeout(1)
    transport = tcp.Server(mine, twisted_protocol.Protocol(), ("127.0.0.1", 1), None, 1,
                           reactor)
    return transport, peer


def test_a_write_to_an_idle_socket_goes_at_once_without_an_epoll_writer():
    from twisted.internet.testing import MemoryReactor

    reactor = MemoryReactor()
    transport, peer = tcp_server(reactor)
    frames.write(transport, b"hello")
    assert peer.recv(100) == b"hello"
    assert reactor.getWriters() == []
    # with bytes already waiting in Twisted, a write queues behind them, as before
    transport.write(b"first ")
    frames.write(transport, b"second")
    assert reactor.getWriters() == [transport]
    transport.doWrite()
    assert peer.recv(100) == b"first second"


def test_what_the_kernel_does_not_take_waits_in_twisted():
    import socket

    from twisted.internet.testing import MemoryReactor

    reactor = MemoryReactor()
    transport, peer = tcp_server(reactor)
    transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = bytes(range(256)) * 4096  # 1 MiB: more than the socket buffers take
    frames.write(transport, data)
    assert reactor.getWriters() == [transport]
    received = b""
    while len(received) < len(data):
        transport.doWrite()
        received += peer.recv(1 << 20)
    assert received == data


def test_twisted_tcp_transports_have_what_the_direct_write_reads():
    from twisted.internet import tcp
    from twisted.internet.abstract import FileDescriptor

    fd = FileDescriptor()
    assert (fd.connected, fd.disconnecting, fd._writeDisconnecting, fd._writeDisconnected,
            fd._tempDataLen, fd.dataBuffer, fd.offset) == (0, False, False, False, 0, b"", 0)
    assert params(tcp.Connection.writeSomeData) == ["self", "data"]
    assert "return untilConcludes(self.socket.send" in \
        inspect.getsource(tcp.Connection.writeSomeData)


def test_daphne_makes_each_websockets_application_with_its_scope_and_protocol():
    queued = inspect.getsource(daphne.ws_protocol)
    assert "if self.muted:" in queued and "self.last_ping = time.time()" in queued
    assert '{"type": "websocket.receive", "text": payload.decode("utf8")}' in queued
    source = inspect.getsource(daphne.server)
    assert "def create_application(self, protocol, scope):" in source
    assert "send=partial(self.handle_reply, protocol)" in source
    assert '"disconnected", None' in source  # handle_reply drops what goes to a closed socket
    assert "self.server.create_application,\n" in inspect.getsource(daphne.ws_protocol)


def test_install_gives_a_websockets_scope_its_writer():
    class Server:
        def create_application(self, protocol, scope):
            return scope

    class Protocol:
        def onMessage(self, payload, isBinary):  # noqa: N802, N803 (Autobahn's names)
            pass

    frames.install(Server, Protocol)
    frames.install(Server, Protocol)  # idempotent
    protocol = Protocol()
    scope = Server().create_application(protocol, {"type": "websocket"})
    assert frames.writer(scope).protocol is protocol
    assert frames.writer(Server().create_application(protocol, {"type": "http"})) is None


def test_a_message_the_consumer_takes_at_once_is_not_queued_and_order_is_kept():
    class Server:
        def create_application(self, protocol, scope):
            return scope

    class Protocol:
        muted, last_ping = False, 0.0

        def onMessage(self, payload, isBinary):  # noqa: N802, N803 (as Daphne's, checked above)
            self.application_queue.put_nowait(
                {"type": "websocket.receive", "bytes": payload} if isBinary
                else {"type": "websocket.receive", "text": payload.decode("utf8")})

    frames.install(Server, Protocol)
    protocol = Protocol()
    protocol.application_queue = asyncio.Queue()
    writer = frames.writer(Server().create_application(protocol, {"type": "websocket"}))
    taken = []
    writer.take = lambda payload: payload.startswith(b"ack") and not taken.append(payload)
    protocol.onMessage(b"ack 1", False)
    assert taken == [b"ack 1"] and protocol.application_queue.empty()
    assert protocol.last_ping > 0  # Daphne's keepalive sees it, as any message
    protocol.onMessage(b"join", False)  # not taken: queued, and counted
    protocol.onMessage(b"ack 2", False)  # "join" is not handled yet: queued behind it
    protocol.onMessage(b"ack 3", True)  # binary: never taken
    assert taken == [b"ack 1"]
    queued = [protocol.application_queue.get_nowait() for _ in range(3)]
    assert queued == [{"type": "websocket.receive", "text": "join"},
                      {"type": "websocket.receive", "text": "ack 2"},
                      {"type": "websocket.receive", "bytes": b"ack 3"}]
    assert (writer.passed, writer.handled) == (3, 0)
    writer.handled += 3  # the consumer handled them
    protocol.onMessage(b"ack 4", False)
    assert taken == [b"ack 1", b"ack 4"]


def test_autobahns_data_received_only_logs_before_handing_the_bytes_on():
    from autobahn.twisted.websocket import WebSocketAdapterProtocol

    lines = [line.strip() for line in
             inspect.getsource(WebSocketAdapterProtocol.dataReceived).splitlines()[1:]]
    assert lines[0] == "self.log.debug("
    after_log = lines[lines.index(")") + 1:]
    assert [line for line in after_log if line and not line.startswith("#")] == \
        ["self._dataReceived(data)"], "it does more than log and hand on: replace it anew"
    assert params(WebSocketAdapterProtocol.dataReceived) == ["self", "data"]
    fenced.install()
    protocol, transport = open_protocol()
    protocol.state = protocol.STATE_CONNECTING
    received = []
    protocol._dataReceived = received.append
    protocol.dataReceived(b"bytes")
    assert received == [b"bytes"]


def client_frame(payload: bytes, first: int = 0x81, mask: bytes = b"\x9a\x02\xf3\x4c") -> bytes:
    """A frame as a browser sends it: masked (RFC 6455, 5.3)."""
    size = len(payload)
    head = bytes([first, 0x80 | size]) if size <= 125 else \
        bytes([first, 0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


ACK = b'{"type": "ack", "run_id": "GUl1MrGz9dry9F32VOlEyA", "seq": 40}'


@pytest.mark.parametrize("reads", [
    [client_frame(ACK)], [client_frame(ACK), client_frame(ACK[:-3] + b"41}")],
    [client_frame(b"")], [client_frame("é€".encode() * 20)], [client_frame(b"x" * 125)],
    [client_frame(b"x" * 126)], [client_frame(b"\xff\xfe ack")],  # not UTF-8: failed
    [client_frame(ACK) + client_frame(ACK)],  # two in one read
    [client_frame(ACK)[:7], client_frame(ACK)[7:]],  # one in two reads
    [client_frame(ACK, first=0x01), client_frame(ACK, first=0x80)],  # fragmented
    [client_frame(ACK, first=0x82)],  # binary
    [client_frame(ACK)[:1] + bytes([len(ACK)]) + ACK],  # not masked: failed
    [client_frame(b"ping", first=0x89)], [client_frame(b"\x03\xe8", first=0x88)],
])
def test_a_small_text_read_is_handed_over_as_autobahns_parsing_would(reads):
    """A viewer's ack (one small whole text frame in one read) skips Autobahn's parsing
    (playground/fenced/frames.py: one_small_text); whatever the bytes, the protocol hands
    over, counts, answers and fails as Autobahn alone does."""
    outcomes = []
    for ours in (True, False):
        protocol, transport = handshaken()
        messages = []
        protocol.onMessage = lambda payload, binary, into=messages: into.append((payload, binary))
        for data in reads:
            if not (ours and frames.one_small_text(protocol, data)):
                protocol._dataReceived(data)
        outcomes.append((messages, vars(protocol.trafficStats), protocol.state,
                         protocol.wasClean, transport.value(), protocol.data,
                         protocol.inside_message))
    assert outcomes[0] == outcomes[1]


class Transport(StringTransport):
    def unregisterProducer(self):  # as Twisted's TCP transports: also with none registered
        self.producer = None


def handshaken():
    """Autobahn's server protocol on a StringTransport, after a browser's opening handshake."""
    from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

    factory = WebSocketServerFactory("ws://localhost")
    factory.protocol = WebSocketServerProtocol
    protocol = factory.buildProtocol(None)
    transport = Transport()
    protocol.makeConnection(transport)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    assert protocol.state == protocol.STATE_OPEN
    transport.clear()
    return protocol, transport


def test_an_ack_skips_autobahns_parsing_unless_something_unusual_is_set():
    fenced.install()
    for unusual in (None, "failedByMe", "logFrames", "logOctets", "trackedTimings"):
        protocol, _ = open_protocol()
        messages, parsed = [], []
        protocol.onMessage = lambda payload, binary, into=messages: into.append(payload)
        protocol._dataReceived = parsed.append
        if unusual is not None:
            setattr(protocol, unusual, True)
        protocol.dataReceived(client_frame(ACK))
        assert (messages, parsed) == (([ACK], []) if unusual is None else
                                      ([], [client_frame(ACK)])), unusual
    protocol, _ = open_protocol()
    protocol.on("message", lambda *args, **kwargs: None)  # a listener: Autobahn fires it
    parsed = []
    protocol._dataReceived = parsed.append
    protocol.dataReceived(client_frame(ACK))
    assert parsed == [client_frame(ACK)]

"""The edges of the server (issue 13): request bodies over the limit are refused before they
are read, websocket messages over the limit get `too_large` and close 4008, and a websocket
is accepted only from the site's own origin (scheme, host and port). Served by a real
Daphne where Daphne's own handling is what is tested (tests/conftest.py)."""

import asyncio
import json
import secrets
import socket
import sys
from urllib.parse import urlsplit

import psutil
import pytest
import websockets
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from playground.asgi import application
from tests.conftest import ROOT
from tests.web.test_deploy_check import manage

sys.path.insert(0, str(ROOT / "bench"))
import edges_memory  # noqa: E402

MIB = 2**20
LIMIT = settings.PLAYGROUND_HTTP_MAX_BODY_BYTES


def raw_request(url: str, head: bytes) -> socket.socket:
    address = urlsplit(url)
    sock = socket.create_connection((address.hostname, address.port), timeout=10)
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head + b"\r\n\r\n")
    return sock


def answer(sock: socket.socket) -> bytes:
    """All the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_declared_body_over_the_limit_is_refused_before_any_of_it_is_sent(live_server_url):
    with raw_request(live_server_url, b"Content-Length: %d" % 2**30) as sock:
        # not a byte of the body: Twisted would wait for it, holding the socket, and buffer
        # all of it before Django could say no
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert reply.endswith(b"Request body too large: the limit is %d bytes.\n" % LIMIT)


def test_a_chunked_body_is_cut_once_it_passes_the_limit(live_server_url):
    chunk = b"x" * 65536
    sent = 0
    with raw_request(live_server_url, b"Transfer-Encoding: chunked") as sock:
        try:
            while sent < 64 * MIB:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            reply = answer(sock)
        except ConnectionError:  # closed while we were still sending: the answer may be lost
            reply = None
    # what the kernel buffers on both sides (a few MiB on loopback) may go past the limit
    assert sent < LIMIT + 16 * MIB, f"the server took {sent / MIB:.0f} MiB"
    assert reply is None or reply.startswith(b"HTTP/1.1 413 "), reply[:200]


def test_a_body_within_the_limit_reaches_the_app(live_server_url):
    body = b"x" * (LIMIT - 1)
    with raw_request(live_server_url, b"Content-Length: %d" % len(body)) as sock:
        sock.sendall(body)
        status = sock.recv(65536).split(b"\r\n")[0]
    assert status == b"HTTP/1.1 403 Forbidden"  # Django's CSRF check: the app saw it


async def test_a_message_over_the_limit_is_answered_too_large_and_closed_4008(
        live_server_url):
    url = live_server_url.replace("http://", "ws://") + "/ws/play/"
    async with websockets.connect(url, additional_headers={"Origin": live_server_url},
                                  max_size=None) as ws:
        limit = settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES
        ping = json.dumps({"type": "ping", "id": 1, "pad": ""})
        # exactly at the limit: an answer (here: an extra key is a bad message), still open
        await ws.send(ping.replace('""', '"' + "x" * (limit - len(ping)) + '"'))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == "bad_message"
        await ws.send(json.dumps({"type": "ping", "id": 2, "pad": "x" * limit}))
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (error["type"], error["code"]) == ("error", "too_large")
        assert str(limit) in error["message"]
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 4008


# -- origin -----------------------------------------------------------------------------
async def handshake(origin: bytes | None, host: bytes = b"127.0.0.1:8000",
                    *extra: tuple[bytes, bytes]) -> bool:
    headers = [(b"host", host), *extra] + ([(b"origin", origin)] if origin else [])
    comm = WebsocketCommunicator(application, "/ws/play/", headers=headers)
    connected, _ = await comm.connect()
    await comm.disconnect()
    return connected


@pytest.mark.django_db
async def test_only_the_sites_own_origin_opens_a_websocket():
    assert await handshake(b"http://127.0.0.1:8000")
    assert not await handshake(b"http://127.0.0.1:8001")  # another app on the same host
    assert not await handshake(b"https://127.0.0.1:8000")
    assert not await handshake(b"http://localhost:8000")
    assert not await handshake(b"null")
    assert not await handshake(None)
    assert await handshake(b"http://127.0.0.1", b"127.0.0.1")  # port 80 both ways


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["*"])
async def test_a_wildcard_host_does_not_open_websockets_to_every_origin():
    assert not await handshake(b"https://evil.example", b"playground.example.com")
    assert await handshake(b"http://playground.example.com", b"playground.example.com")


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["playground.example.com"],
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
                   CSRF_TRUSTED_ORIGINS=["https://admin.example.com"])
async def test_behind_a_proxy_the_origin_is_https_and_trusted_origins_are_let_in():
    site, proxied = b"playground.example.com", (b"x-forwarded-proto", b"https")
    assert await handshake(b"https://playground.example.com", site, proxied)
    assert not await handshake(b"http://playground.example.com", site, proxied)
    assert await handshake(b"https://admin.example.com", site, proxied)
    assert not await handshake(b"https://playground.example.com", b"evil.example", proxied)


# -- checks ------------------------------------------------------------------------------
def test_check_deploy_warns_on_a_wildcard_host():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0",
                    DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="*")
    assert result.returncode != 0
    assert "playground.W001" in result.stderr + result.stdout


def test_check_fails_when_the_body_limit_is_below_what_the_api_takes():
    from playground.api.jsonapi import MAX_BODY_BYTES
    from playground.checks import body_limit

    assert body_limit(None) == []
    with override_settings(PLAYGROUND_HTTP_MAX_BODY_BYTES=MAX_BODY_BYTES - 1):
        assert [error.id for error in body_limit(None)] == ["playground.E001"]


# -- memory after sockets close ------------------------------------------------------------
@pytest.fixture
def served_as_scripts_run(tmp_path):
    """A Daphne of this test's own, on glibc's malloc as scripts/run has it."""
    assert 'PYTHONMALLOC="${PYTHONMALLOC:-malloc}"' in (ROOT / "scripts" / "run").read_text()
    server, port = edges_memory.serve(tmp_path, "malloc")
    yield psutil.Process(server.pid), port
    server.kill()
    server.wait()


async def test_websockets_opened_and_closed_leave_the_server_where_it_was(
        served_as_scripts_run):
    process, port = served_as_scripts_run
    await edges_memory.open_sockets(port, 20)  # what the first sockets load for good
    await asyncio.sleep(8)
    before = process.memory_info().rss
    await edges_memory.open_sockets(port, 1000)
    growth = 0.0
    for _ in range(60):  # a generous deadline: the trim comes 3 s after the last close
        await asyncio.sleep(0.5)
        growth = (process.memory_info().rss - before) / MIB
        if growth < 20:
            break
    assert growth < 20, f"the server kept {growth:.1f} MiB after its sockets closed"

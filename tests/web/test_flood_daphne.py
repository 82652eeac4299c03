"""A client flooding the play websocket of a real Daphne is closed within 2 s, and the
server's memory stays bounded (issue #7): Daphne queues incoming messages without limit, so
the bound is ours (playground/fenced/ws_limits.py, and the rate limit in
playground/live/consumers.py)."""

import asyncio
import json
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import psutil
import pytest
import websockets

from tests.conftest import ROOT

FLOOD_S = 3.0
CLOSED_WITHIN_S = 2.0
MAX_GROWTH_MIB = 50


def server_process(url: str) -> psutil.Process:
    """The Daphne child of this test process that serves `url`."""
    port = str(urlsplit(url).port)
    return next(p for p in psutil.Process().children(recursive=True)
                if "daphne" in " ".join(p.cmdline()) and port in p.cmdline())


class PeakRss:
    """The process's peak RSS over the `with` block, sampled every 10 ms."""

    def __init__(self, process: psutil.Process):
        self.process, self.peak, self.stop = process, 0, threading.Event()

    def _sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self):
        self.before = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)  # what the server still does with the backlog after the close
        self.stop.set()
        self.thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.before) / 2**20


async def flood(url: str, message: str) -> float:
    """Send `message` as fast as the socket takes it for FLOOD_S seconds or until the server
    closes; seconds from the first message to the close."""
    ws_url = url.replace("http://", "ws://") + "/ws/play/"
    async with websockets.connect(ws_url, additional_headers={"Origin": url},
                                  max_size=2**22) as ws:
        start = time.monotonic()
        closed_at = None

        async def drain():  # a flooder may not read; this one does, to see the close
            nonlocal closed_at
            try:
                async for _ in ws:
                    pass
            except websockets.ConnectionClosed:
                pass
            closed_at = time.monotonic() - start

        reader = asyncio.create_task(drain())
        try:
            while closed_at is None and time.monotonic() - start < FLOOD_S:
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(reader, 10)
        return closed_at


@pytest.mark.parametrize("size", [0, 16 * 1024, 512 * 1024], ids=["tiny", "16KiB", "512KiB"])
async def test_a_flooding_client_is_closed_within_2s_and_memory_stays_bounded(
        live_server_url, size):
    server = server_process(live_server_url)
    message = json.dumps({"type": "ping", "id": 1, "pad": "x" * size})
    with PeakRss(server) as rss:
        closed_after = await flood(live_server_url, message)
    assert closed_after < CLOSED_WITHIN_S, f"closed after {closed_after:.2f} s"
    assert rss.growth_mib < MAX_GROWTH_MIB, f"server RSS grew {rss.growth_mib:.1f} MiB"
    # and the server still serves everyone else
    ws_url = live_server_url.replace("http://", "ws://") + "/ws/play/"
    async with websockets.connect(ws_url, additional_headers={"Origin": live_server_url}) as ws:
        await ws.send(json.dumps({"type": "ping", "id": 7}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong", "id": 7}


async def test_a_client_that_acks_frames_it_never_reads_is_cut_and_memory_stays_bounded(
        live_server_url):
    # Snapshots of a 200-component design, asked for as fast as the rate limit allows, to a
    # socket that reads nothing (a small receive buffer, so the kernel holds little):
    # Daphne would hold them all (playground/fenced/ws_limits.py cuts it past 8 MiB unsent).
    sys.path.insert(0, str(ROOT / "bench"))
    from browser import big_design

    server = server_process(live_server_url)
    address = urlsplit(live_server_url)
    sock = socket.create_connection((address.hostname, address.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ws_url = live_server_url.replace("http://", "ws://") + "/ws/play/"
    with PeakRss(server) as rss:
        async with websockets.connect(ws_url, additional_headers={"Origin": live_server_url},
                                      sock=sock, max_size=2**24, max_queue=1) as ws:
            await ws.send(json.dumps({"type": "start", "scenario": big_design(1),
                                      "paused": True}))
            run_id = json.loads(await asyncio.wait_for(ws.recv(), 10))["run_id"]
            start = time.monotonic()
            with pytest.raises(websockets.ConnectionClosed):  # cut (measured: after 6 s)
                while time.monotonic() - start < 30:
                    await ws.send(json.dumps({"type": "join", "run_id": run_id}))
                    await ws.send(json.dumps({"type": "ack", "run_id": run_id, "seq": 10**9}))
                    await asyncio.sleep(0.06)
    assert rss.growth_mib < MAX_GROWTH_MIB, f"server RSS grew {rss.growth_mib:.1f} MiB"

"""What a Daphne serving the app (as scripts/run does) holds after the attacks of issue 13:
request bodies far over the limit, declared or chunked, and many websockets opened and
closed. Prints the server's RSS before, at its peak and after each; the limits are tested
in tests/web/test_edges.py, this measures what they are for.

    .venv/bin/python bench/edges_memory.py [--body-mib 1024] [--posts 3] [--sockets 2000]
        [--allocator malloc|pymalloc] [declared] [chunked] [sockets]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20


def serve(tmp: Path, allocator: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)  # the embedded default: one process, in-memory layer
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p",
                               str(port), "playground.asgi:application"],
                              cwd=ROOT, env={**env, "PYTHONMALLOC": allocator},
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return server, port
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.2)


class Rss:
    """The server's RSS before, at its peak over the block (sampled every 20 ms), and 8 s
    after it."""

    def __init__(self, process: psutil.Process, label: str):
        self.process, self.label, self.done = process, label, threading.Event()

    def _sample(self):
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self):
        self.before = self.peak = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def __exit__(self, *exc):
        time.sleep(8)  # playground/fenced/memory.py trims 3 s after the last close
        self.done.set()
        self.thread.join()
        after = self.process.memory_info().rss
        print(f"{self.label:<40} before {self.before / MIB:7.1f} MiB   peak "
              f"{self.peak / MIB:7.1f} MiB   after {after / MIB:7.1f} MiB "
              f"({(after - self.before) / MIB:+.1f})", flush=True)


async def post(port: int, size: int, chunked: bool) -> str:
    """POST /healthz with a `size`-byte body, sent until the server stops taking it; the
    status line of the answer, or what happened."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    length = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % size
    writer.write(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + length + b"\r\n\r\n")
    block = b"x" * MIB
    sent = 0
    try:
        while sent < size:
            writer.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            await writer.drain()
            sent += len(block)
        if chunked:
            writer.write(b"0\r\n\r\n")
        status = (await asyncio.wait_for(reader.readline(), 120)).decode().strip()
    except (TimeoutError, ConnectionError) as exc:
        status = type(exc).__name__
    writer.close()
    return f"{status or 'closed'} after {sent / MIB:.0f} MiB sent"


async def open_sockets(port: int, count: int) -> None:
    url = f"ws://127.0.0.1:{port}/ws/play/"
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    sockets = []
    for _ in range(count):
        sockets.append(await websockets.connect(url, additional_headers=origin))
    await asyncio.gather(*(ws.close() for ws in sockets))


async def attack(name: str, args) -> None:
    size = args.body_mib * MIB
    if name == "declared":
        label, run = f"{args.posts} x POST, Content-Length {args.body_mib} MiB", \
            lambda port: asyncio.gather(*(post(port, size, False) for _ in range(args.posts)))
    elif name == "chunked":
        label, run = f"{args.posts} x POST, chunked {args.body_mib} MiB", \
            lambda port: asyncio.gather(*(post(port, size, True) for _ in range(args.posts)))
    else:
        label, run = f"{args.sockets} websockets opened, closed", \
            lambda port: open_sockets(port, args.sockets)
    with tempfile.TemporaryDirectory() as tmp:
        server, port = serve(Path(tmp), args.allocator)
        try:
            await open_sockets(port, 20)  # what the first sockets load, for good
            await asyncio.sleep(5)
            with Rss(psutil.Process(server.pid), label):
                answers = await run(port)
            if answers:
                print("   ", "; ".join(answers))
        finally:
            server.kill()
            server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body-mib", type=int, default=1024)
    parser.add_argument("--posts", type=int, default=3)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--allocator", default="malloc",
                        help="PYTHONMALLOC of the server (scripts/run: malloc; Python's "
                        "default: pymalloc)")
    parser.add_argument("attacks", nargs="*", default=["declared", "chunked", "sockets"],
                        help="declared, chunked, sockets (default: all, each on a fresh server)")
    args = parser.parse_args()
    for name in args.attacks:
        await attack(name, args)


if __name__ == "__main__":
    asyncio.run(main())

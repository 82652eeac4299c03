"""What the benchmarks share: a live Daphne on a fresh database, percentiles and tables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Every benchmark connection comes from loopback, one client address: the per-address
# quotas (playground/quotas.py) are sized for a class, not for hundreds of simulated visitors.
ONE_ADDRESS_FOR_ALL = {f"PLAYGROUND_{name}": "100000" for name in (
    "RUNS_PER_ADDRESS", "ANON_RUNS_PER_ADDRESS", "SOCKETS_PER_ADDRESS",
    "ANON_SOCKETS_PER_ADDRESS")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(root: Path = ROOT, **settings: str):
    """Daphne (of the checkout at `root`) in a subprocess on a free port, with a fresh
    migrated SQLite database; yields (url, env): env points at that database, for scripts
    that set data up. `settings` are extra environment variables of the server
    (PLAYGROUND_MAX_RUNS="100")."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {**os.environ, **ONE_ADDRESS_FOR_ALL, **settings,
               "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=root,
                       env=env, check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "daphne.log", "wb")  # noqa: SIM115 (closed below)
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "playground.asgi:application"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("Daphne did not come up:\n"
                                           + (Path(tmp) / "daphne.log").read_text()) from None
                    time.sleep(0.1)
            yield url, env
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(head: list[str], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))

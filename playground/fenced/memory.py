"""Memory given back to the system after a burst of websockets closes.

Nothing is kept per closed socket (measured: 2,000 sockets opened and closed leave the
same Python objects as before, and Daphne forgets each connection once its app is done),
yet the server's RSS stayed 76 MiB up. A closed socket's objects (protocol, transport,
consumer, tasks) hold each other in reference cycles, freed only by the collector's full
pass, which Python runs seldom; what is freed stays with the allocator: Python's own
(pymalloc) hands an arena back only when all of it is free, glibc's malloc keeps freed
memory for reuse. So the serving command runs Python on glibc's malloc alone
(PYTHONMALLOC=malloc, scripts/run), and once a burst of closes is over and Daphne has
forgotten the sockets, the cycles are collected and malloc_trim returns the free pages:
2,000 sockets leave 9 MiB (bench/edges_memory.py). The full collection pauses the server
(measured: half a second on a busy machine), so it comes only after a burst (BURST
closes), at most every MIN_INTERVAL_S. Under pymalloc (a Daphne started otherwise) the
same gives back about a quarter.
"""

from __future__ import annotations

import ctypes
import gc

BURST = 100  # closes since the last trim that make one worth it (~4 MiB)
QUIET_S = 3.0  # a trim waits for closes to stop this long, and for Daphne to reap them
MAX_WAIT_S = 30.0  # but no longer than this, under closes that never stop
MIN_INTERVAL_S = 30.0  # the full collection pauses the server: at most this often


def _malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class _Trimmer:
    """One collection and trim after a burst of closes, once Daphne has reaped them."""

    def __init__(self, trim):
        self.trim, self.pending, self.closes = trim, None, 0
        self.last_close = self.burst_since = self.last_run = float("-inf")

    def closed(self, server) -> None:
        from twisted.internet import reactor

        self.closes += 1
        self.last_close = now = reactor.seconds()
        if self.pending is None and self.closes >= BURST:
            self.burst_since = now
            delay = max(QUIET_S, self.last_run + MIN_INTERVAL_S - now)
            self.pending = reactor.callLater(delay, self.run, server)

    def run(self, server) -> None:
        from twisted.internet import reactor

        now = reactor.seconds()
        # Daphne marks a closed socket "disconnected" and forgets it once its app is done
        reaping = any("disconnected" in c for c in server.connections.values())
        if (reaping or now - self.last_close < QUIET_S) and \
                now - self.burst_since < MAX_WAIT_S:
            self.pending = reactor.callLater(1.0, self.run, server)
            return
        self.pending, self.closes, self.last_run = None, 0, now
        gc.collect()  # a socket's objects hold each other in cycles (see above)
        self.trim(0)


def install(protocol_class) -> None:
    """Wrap Daphne's WebSocketProtocol.onClose (an Autobahn callback)."""
    trim = _malloc_trim()
    if trim is None or getattr(protocol_class.onClose, "trims", False):
        return
    trimmer = _Trimmer(trim)
    on_close = protocol_class.onClose

    def onClose(self, wasClean, code, reason) -> None:  # noqa: N802, N803 (Autobahn's names)
        on_close(self, wasClean, code, reason)
        trimmer.closed(self.server)

    onClose.trims = True
    onClose.trimmer = trimmer
    protocol_class.onClose = onClose

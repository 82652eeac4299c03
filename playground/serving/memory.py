"""Memory given back to the system after a burst of websockets closes.

Nothing is kept per closed socket (measured: 2,000 sockets opened and closed leave the
same Python objects as before, and Daphne forgets each connection within a second or two),
yet the server's RSS stayed 76 MiB up: the heap is fragmented, not leaked. Python's own
allocator (pymalloc) hands an arena back only when all of it is free, and glibc's malloc
keeps what is freed for reuse. So the serving command runs Python on glibc's malloc alone
(PYTHONMALLOC=malloc, scripts/run), and a few seconds after sockets close (Daphne has reaped
them by then) malloc_trim returns the free pages: back within 10 MiB of where it started
(bench/edges_memory.py). Under pymalloc (a Daphne started otherwise) the trim still returns
what glibc holds free, about a quarter of it.
"""

from __future__ import annotations

import ctypes

TRIM_AFTER_S = 5.0  # Daphne reaps a closed socket's application within ~2 s


def _malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class _Trimmer:
    """One trim TRIM_AFTER_S after the first close of a burst, however many close."""

    def __init__(self, trim):
        self.trim, self.pending = trim, None

    def closed(self) -> None:
        if self.pending is None:
            from twisted.internet import reactor

            self.pending = reactor.callLater(TRIM_AFTER_S, self.run)

    def run(self) -> None:
        self.pending = None
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
        trimmer.closed()

    onClose.trims = True
    onClose.trimmer = trimmer
    protocol_class.onClose = onClose

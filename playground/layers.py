"""The channel layer of a single Daphne (no REDIS_URL): Channels' in-memory layer, with its
expiry sweep at most once a second.

Channels sweeps every channel and every group membership for expired messages on each
receive: O(sockets) per message delivered. With 500 viewers at 15 frames a second that sweep
took the whole CPU (bench/load.py: 1.6 frames a second per viewer, 3 s behind). Messages
expire after 60 s; sweeping a second late changes nothing.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_EVERY_S = 1.0


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    _swept_at = float("-inf")

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            super()._clean_expired()

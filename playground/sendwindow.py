"""Latest-state delivery to a slow viewer (docs/protocol.md, `ack`).

Daphne takes every message the app sends and buffers it for the socket without limit, and
tells the app nothing about how far behind the socket is. So the viewer tells us: it acks
the last frame seq it received, and a viewer with `size` frames sent and not acked gets no
more deltas. Meanwhile only the newest state is kept, one frame: the next keyframe with
every later delta merged into it. Once the viewer acks again, that frame goes out as a
keyframe (`full`, the newest seq), so the viewer jumps to now and nothing was queued.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any


class FrameWindow:
    """One viewer's frames of one run."""

    def __init__(self, size: int):
        self.size = size
        self.in_flight: deque[int] = deque()  # seqs sent and not yet acked, oldest first
        self.held: dict[str, Any] | None = None  # the newest full state while stalled
        self.dropped = 0  # frames not sent (replaced by a later state)

    @property
    def stalled(self) -> bool:
        return len(self.in_flight) >= self.size

    def offer(self, event: dict[str, Any]) -> str | None:
        """The text to send now for a message the run published, or None: held back."""
        kind = event.get("kind")
        if kind == "snapshot":  # a reset: a new state from which frames count again
            self.held = None
            return event["text"]
        if kind != "frame":
            return event["text"]
        if not self.stalled:
            self.in_flight.append(event["seq"])
            return event["text"]
        self.dropped += 1
        if event["full"]:
            self.held = json.loads(event["text"])
        elif self.held is not None:
            _merge(self.held, json.loads(event["text"]))
        return None

    def ack(self, seq: int) -> str | None:
        """The viewer received every frame up to `seq`: the held frame, as a keyframe, if
        the window has room again."""
        while self.in_flight and self.in_flight[0] <= seq:
            self.in_flight.popleft()
        if self.held is None or self.stalled:
            return None
        held, self.held = self.held, None
        self.in_flight.append(held["seq"])
        return json.dumps(held)


def _merge(keyframe: dict[str, Any], delta: dict[str, Any]) -> None:
    """Apply a delta frame message to a keyframe message in place (docs/protocol.md: a
    delta's components hold only what changed; links, dots and summary are complete)."""
    frame = delta.pop("frame")
    changed = frame.pop("components", {})
    keyframe.update(delta)  # seq, status, sent_at; `full` stays
    components = keyframe["frame"]["components"]
    for cid, fields in changed.items():
        components.setdefault(cid, {}).update(fields)
    keyframe["frame"].update(frame)

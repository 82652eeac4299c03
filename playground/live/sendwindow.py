"""Latest-state delivery to a viewer that cannot keep up (docs/protocol.md, `ack`).

Two ways a viewer falls behind, one remedy:
- its socket is slow. Daphne takes every message the app sends and buffers it for the
  socket without limit, and tells the app nothing about how far behind the socket is. So
  the viewer tells us: it acks the last frame seq it received, and a viewer with `size`
  frames sent and not acked, or one sent WINDOW_S ago, gets no more until it acks again;
- this web process is slow (overloaded): frames reach the consumer late, more than LAG_S
  after they were published. It then sends at most one frame per LAG_S, so it does less
  work until it has caught up.
Meanwhile only the newest state is kept, one frame: a keyframe with every later delta
merged into it. It goes out as a keyframe (`full`, the newest seq) when the viewer acks, when
LAG_S has passed, or when frames arrive on time again (then deltas follow it as before), so
the viewer jumps to now and nothing was queued. A delta not sent with no keyframe to merge
it into, or one that never came (playground/fenced/layers.py drops the oldest when a consumer is
far behind), leaves a gap the player cannot apply deltas across
(static/playground/player.js): nothing is sent from then until a keyframe.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from typing import Any

from .. import monitoring

# A frame handed over this long after its publication is late: the process is behind. Well
# above the delay of a process keeping up (tens of ms, bench/load.py), well below what a
# viewer notices as lag; also the pace of the newest state meanwhile (2 a second).
LAG_S = 0.5
# A viewer with frames sent this long ago and not acked gets no more until it acks: with
# `size` (30 frames, 2 s at 15 Hz), what waits for a slow socket is at most ~2 s of frames
# at any frame rate.
WINDOW_S = 2.0


class FrameWindow:
    """One viewer's frames of one run."""

    def __init__(self, size: int):
        self.size = size
        # (seq, when sent) of frames sent and not yet acked, oldest first
        self.in_flight: deque[tuple[int, float]] = deque()
        self.held: dict[str, Any] | None = None  # the newest full state while behind
        self.unsent = False  # `held` has changes the viewer has not been sent
        self.gap = False  # a delta was not sent and there is no state to merge it into
        self.dropped = 0  # frames not sent as they came (replaced by a later state)
        self.released_at = -math.inf
        self.late = False  # the last frame came late
        self.seq: int | None = None  # of the last frame offered
        # Publish-to-here time of the quickest frame, when negative: the publisher's clock
        # is ahead of ours by at least that much (docs/deploy.md: clocks in sync).
        self.quickest = math.inf

    @property
    def stalled(self) -> bool:
        return len(self.in_flight) >= self.size or bool(
            self.in_flight and time.monotonic() - self.in_flight[0][1] > WINDOW_S)

    def offer(self, event: dict[str, Any]) -> str | None:
        """The text to send now for a message the run published, or None: held back."""
        kind = event.get("kind")
        if kind == "snapshot":  # a reset: a new state (maybe another worker's clock)
            self.held, self.unsent, self.gap, self.quickest = None, False, False, math.inf
            self.seq = None
            return event["text"]
        if kind != "frame":
            return event["text"]
        if not event["full"] and self.seq is not None and event["seq"] != self.seq + 1:
            self.held, self.gap = None, True  # a delta never came (playground/fenced/layers.py)
        self.seq = event["seq"]
        self.late = late = self._late(event)
        if not (self.stalled or late or self.gap or self.held is not None):
            self.in_flight.append((event["seq"], time.monotonic()))  # the frame as it came
            monitoring.FRAMES_SENT.inc()
            return event["text"]
        self._hold(event)
        if self.held is None or self.stalled or (
                late and time.monotonic() - self.released_at < LAG_S):
            self.dropped += 1
            monitoring.FRAMES_SHED.labels(where="viewer").inc()
            return None
        return self._release()

    def ack(self, seq: int) -> str | None:
        """The viewer received every frame up to `seq`: the held state, as a keyframe, if
        it has news and the window has room again."""
        while self.in_flight and self.in_flight[0][0] <= seq:
            self.in_flight.popleft()
        if self.held is None or not self.unsent or self.stalled:
            return None
        return self._release()

    def _late(self, event: dict[str, Any]) -> bool:
        sent_at = event.get("sent_at")
        if sent_at is None:
            return False
        age = time.time() - sent_at
        self.quickest = min(self.quickest, age)
        return age - min(self.quickest, 0.0) > LAG_S

    def _hold(self, event: dict[str, Any]) -> None:
        if event["full"]:
            self.held, self.gap = _parsed(event["text"]), False
        elif self.held is not None:
            self.held = _merged(self.held, _parsed(event["text"]))
        else:
            self.gap = True
            return
        self.unsent = True

    def _release(self) -> str:
        held, now = self.held, time.monotonic()
        self.in_flight.append((held["seq"], now))
        self.unsent, self.released_at = False, now
        monitoring.FRAMES_SENT.inc()
        if not self.late:  # on time: deltas follow this keyframe as they come
            self.held = None
        return json.dumps(held)


# The last message parsed, and its parse: a message goes to all of this process's viewers of
# its run in one pass (playground/fenced/layers.py), and when this process is behind each of
# them holds it. Parsed once, not once per viewer: the work of a late process grew with its
# viewers just when it had to shrink. Parses and held states are shared, never changed.
_last_parse: tuple[str, dict[str, Any]] = ("", {})


def _parsed(text: str) -> dict[str, Any]:
    global _last_parse
    if _last_parse[0] is not text:
        _last_parse = (text, json.loads(text))
    return _last_parse[1]


def _merged(keyframe: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """A keyframe message with a delta frame message applied (docs/protocol.md: a delta's
    components hold only what changed; links, dots and summary are complete). Neither is
    changed: what changes is copied, the rest shared."""
    frame = delta["frame"]
    components = dict(keyframe["frame"]["components"])
    for cid, fields in frame.get("components", {}).items():
        components[cid] = {**components.get(cid, {}), **fields}
    merged = {**keyframe, **delta}  # seq, status, sent_at; `full` stays
    merged["frame"] = {**keyframe["frame"], **frame, "components": components}
    return merged
